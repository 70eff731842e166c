/**
 * Correctness of a load run, checked after it (writers stopped, deliveries drained) by
 * bench/load.ts and bench/cluster.ts: what each client received against what was sent to its
 * room, the writers' texts, a reader's rebuild, and fresh sockets syncing to the same text.
 */
import { WebSocket } from 'ws'
import * as Y from 'yjs'
import { inParallel, withTimeout } from './async.js'
import { MARKER, markerId, type RoomState } from './load-client.js'
import { EMPTY_STATE_VECTOR, EMPTY_UPDATE } from './protocol.js'

/** Every problem counts; the first 8 are kept for the results (a broken run can have thousands). */
export class Problems {
  readonly list: string[] = []
  count = 0
  note(problem: string) {
    this.count++
    if (this.list.length < 8) this.list.push(problem)
  }
}

/**
 * Every client got every insert of its room from the other writers, once, and nothing else; the
 * writers' texts are equal and hold exactly the inserts sent, each once; one reader's received
 * updates rebuild that text. Returns each room's text, for the fresh-socket checks.
 * `writersDiffer` words the problem when the writers' texts differ (each benchmark keeps its own
 * wording in its results: load.ts "writers' texts differ", cluster.ts "writers differ").
 */
export const checkRooms = (
  rooms: readonly RoomState[],
  writersPerRoom: number,
  problems: Problems,
  writersDiffer: string,
): Map<RoomState, string> => {
  let missing = 0
  let unexpected = 0
  let duplicates = 0
  for (const room of rooms) {
    for (const client of room.clients) {
      missing += client.expectedOthers - client.receivedOthers
      unexpected += client.unexpected
      duplicates += client.duplicates
    }
  }
  if (missing > 0) problems.note(`${missing} deliveries missing after the drain`)
  if (unexpected > 0) problems.note(`${unexpected} updates not sent to that room`)
  if (duplicates > 0) problems.note(`${duplicates} duplicate deliveries`)
  const texts = new Map<RoomState, string>()
  for (const room of rooms) {
    const writers = room.clients.slice(0, writersPerRoom)
    const text = writers[0]?.writer?.text.toString() ?? ''
    texts.set(room, text)
    for (const other of writers.slice(1)) {
      if (other.writer?.text.toString() !== text) problems.note(`${room.name}: ${writersDiffer}`)
    }
    // The text holds exactly what was sent: every marker once, nothing else.
    const seen = new Set<number>()
    MARKER.lastIndex = 0
    for (let match = MARKER.exec(text); match !== null; match = MARKER.exec(text)) {
      const id = markerId(Number(match[2]), Number(match[3]))
      if (Number(match[1]) !== room.index || !room.sent.has(id) || seen.has(id)) {
        problems.note(`${room.name}: text holds an unexpected or repeated insert`)
      }
      seen.add(id)
    }
    if (seen.size !== room.sent.size || text.length !== room.sentChars) {
      problems.note(
        `${room.name}: text has ${seen.size}/${room.sent.size} inserts, ` +
          `${text.length}/${room.sentChars} chars`,
      )
    }
    // A reader's received updates rebuild the same document.
    const reader = room.clients.find((client) => client.kept !== undefined)
    if (reader?.kept !== undefined) {
      const doc = new Y.Doc()
      for (const update of reader.kept) Y.applyUpdate(doc, update)
      if (doc.getText('text').toString() !== text) {
        problems.note(`${room.name}: a reader's document differs`)
      }
      doc.destroy()
    }
  }
  return texts
}

/** A fresh socket: asks for everything (empty state vector), returns the room's text. */
const freshSync = async (url: string, room: RoomState): Promise<string> => {
  const ws = new WebSocket(url, { perMessageDeflate: false })
  const doc = new Y.Doc()
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        ws.on('open', () => {
          for (const frame of room.codec.hello()) ws.send(frame)
          ws.send(room.codec.syncStep1(EMPTY_STATE_VECTOR))
        })
        ws.on('message', (data: Buffer) => {
          const message = room.codec.decode(data)
          if (message.kind === 'sync-step1') ws.send(room.codec.syncStep2(EMPTY_UPDATE))
          if (message.kind === 'sync-step2') {
            Y.applyUpdate(doc, message.update)
            resolve()
          }
        })
        ws.on('error', reject)
        ws.on('close', (code) => reject(new Error(`fresh socket closed (${code})`)))
      }),
      10_000,
      `fresh sync of ${room.name}`,
    )
    return doc.getText('text').toString()
  } finally {
    ws.terminate()
    doc.destroy()
  }
}

/** One fresh-socket check: `room` synced at `url`; `where` names it in a problem. */
export interface FreshSync {
  readonly room: RoomState
  readonly url: string
  readonly where: string
}

/**
 * Syncs a fresh socket for each check (20 at a time); returns how many got another text than
 * `texts` holds for their room. A socket that fails counts too, and is noted.
 */
export const freshMismatches = async (
  checks: readonly FreshSync[],
  texts: ReadonlyMap<RoomState, string>,
  problems: Problems,
): Promise<number> => {
  let mismatches = 0
  await inParallel(checks, 20, async ({ room, url, where }) => {
    try {
      if ((await freshSync(url, room)) !== texts.get(room)) mismatches++
    } catch (error) {
      mismatches++
      problems.note(`${where}: ${String(error)}`)
    }
  })
  return mismatches
}
