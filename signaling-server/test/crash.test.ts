/**
 * R21: a `kill -9` at any moment loses no update the server reported as saved.
 *
 * The server runs as a real child process (the compiled CLI) on a real SQLite directory. Writers
 * speaking the Coedit extension stream unique tokens into two rooms; once some of their edits are
 * acknowledged by `saved`, the server is killed with SIGKILL right after a writer sent an edit (so
 * edits are in flight). A restarted server on the same directory must serve every acknowledged
 * token. Three kill moments: just after the first acknowledgement, mid-stream with tiny batches,
 * and late, when the rooms' logs are past the compaction threshold (500 rows).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { connectRelay, type TestRelayClient } from './helpers/relay-client.js'
import { startServerProcess, stopAllServerProcesses } from './helpers/server-process.js'
import { until } from './helpers/wait.js'

const dirs: string[] = []
const clients: TestRelayClient[] = []
const timers: ReturnType<typeof setInterval>[] = []

afterEach(async () => {
  for (const timer of timers.splice(0)) clearInterval(timer)
  for (const client of clients.splice(0)) client.ws.terminate()
  await stopAllServerProcesses()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

interface Edit {
  readonly token: string
  /** Index of the document message that carried it (Infinity if it was never sent). */
  readonly seq: number
  /** The writer's Yjs clock just past the token: covered once the persisted vector reaches it. */
  readonly clockEnd: number
}

/** A client streaming unique tokens, tracking which of its edits `saved` declared durable. */
interface Writer {
  readonly client: TestRelayClient
  readonly room: string
  readonly edits: Edit[]
  /** Length of the prefix of `edits` covered by `acked` (message count). */
  byCount: number
  /** Length of the prefix of `edits` covered by the persisted state vector. */
  byStateVector: number
}

/** How many edits from the start `covered` accepts (message indexes and clocks only grow). */
const coveredPrefix = (edits: readonly Edit[], covered: (edit: Edit) => boolean): number => {
  const first = edits.findIndex((edit) => !covered(edit))
  return first === -1 ? edits.length : first
}

/** Edits the server has declared durable, by either of the two claims `saved` makes. */
const acknowledged = (writer: Writer): number => Math.max(writer.byCount, writer.byStateVector)

const createWriter = (wsUrl: string, room: string): Writer => {
  const client = connectRelay(wsUrl, room, { coedit: true })
  clients.push(client)
  const writer: Writer = { client, room, edits: [], byCount: 0, byStateVector: 0 }
  client.events.on('saved', () => {
    const persisted = client.persisted.get(client.doc.clientID) ?? 0
    writer.byCount = coveredPrefix(writer.edits, (edit) => edit.seq <= client.acked)
    writer.byStateVector = coveredPrefix(writer.edits, (edit) => edit.clockEnd <= persisted)
  })
  return writer
}

const totalSent = (writers: readonly Writer[]): number =>
  writers.reduce((sum, w) => sum + w.edits.filter((edit) => edit.seq !== Infinity).length, 0)

/** Appends one unique token to the writer's text (sent at once if the socket is open). */
const writeToken = (writer: Writer, name: string) => {
  const { client, edits } = writer
  const token = `[${name}:${edits.length}]`
  const sentBefore = client.sent
  client.doc.getText('t').insert(client.doc.getText('t').length, token)
  edits.push({
    token,
    seq: client.sent > sentBefore ? client.sent : Infinity,
    clockEnd: Y.getState(client.doc.store, client.doc.clientID),
  })
}

/** Connects a fresh client (no state of its own) and returns the room's text once synced. */
const readRoom = async (wsUrl: string, room: string): Promise<string> => {
  const reader = connectRelay(wsUrl, room)
  clients.push(reader)
  await until(`${room} synced`, () => reader.synced, [[reader.events, 'synced']])
  const text = reader.doc.getText('t').toString()
  reader.close()
  await reader.closed
  return text
}

const ROOMS = ['crash-a', 'crash-b']
const WRITERS_PER_ROOM = 3
/** One edit per writer every 15 ms: ~67 messages/s, under the default 100/s connection limit. */
const EDIT_INTERVAL_MS = 15

describe('kill -9 (R21)', () => {
  it.each([
    { moment: 'just after the first acknowledgement', killAfterAcked: 1, batchWindowMs: 25 },
    { moment: 'mid-stream with 5 ms batches', killAfterAcked: 150, batchWindowMs: 5 },
    {
      moment: 'with the logs past the compaction threshold',
      killAfterAcked: 1100,
      batchWindowMs: 25,
    },
  ])(
    'loses no acknowledged edit when killed $moment',
    async ({ moment, killAfterAcked, batchWindowMs }) => {
      const dataDir = mkdtempSync(join(tmpdir(), 'coedit-crash-'))
      dirs.push(dataDir)
      const args = ['--port', '0', '--data', dataDir, '--log-level', 'warn']
      const first = await startServerProcess([...args, '--batch-window-ms', String(batchWindowMs)])

      const writers = ROOMS.flatMap((room) =>
        Array.from({ length: WRITERS_PER_ROOM }, () => createWriter(first.wsUrl, room)),
      )
      await Promise.all(
        writers.map(({ client }) =>
          until('writer synced', () => client.synced, [[client.events, 'synced']]),
        ),
      )

      // Stream until enough edits are acknowledged, then kill right after sending one more edit:
      // the server is killed with edits in flight, at a moment unrelated to its batch timer.
      const totalAcknowledged = () => writers.reduce((sum, w) => sum + acknowledged(w), 0)
      const atKill = await new Promise<{ acknowledged: number; sent: number }>(
        (resolve, reject) => {
          // A writer closed before the kill (rate limit, error) would stall the stream: fail fast.
          for (const { client } of writers) {
            void client.closed.then(({ code }) => reject(new Error(`writer closed early: ${code}`)))
          }
          writers.forEach((writer, index) => {
            const name = `${writer.room}/w${index}`
            const timer = setInterval(() => {
              writeToken(writer, name)
              if (totalAcknowledged() < killAfterAcked) return
              first.child.kill('SIGKILL')
              for (const t of timers.splice(0)) clearInterval(t)
              resolve({ acknowledged: totalAcknowledged(), sent: totalSent(writers) })
            }, EDIT_INTERVAL_MS)
            timers.push(timer)
          })
        },
      )
      expect((await first.exited).signal).toBe('SIGKILL')
      // `saved` messages the server sent before dying may still arrive; each was sent after its
      // commit, so they count too. Wait until every socket has seen the end.
      await Promise.all(writers.map(({ client }) => client.closed))
      // Edits were in flight: the kill came right after an edit no commit can have covered.
      expect(totalAcknowledged()).toBeLessThan(atKill.sent)

      const second = await startServerProcess(args)
      const texts = new Map<string, string>()
      for (const room of ROOMS) texts.set(room, await readRoom(second.wsUrl, room))

      const lost: string[] = []
      let unacknowledged = 0
      let survivors = 0
      for (const writer of writers) {
        const text = texts.get(writer.room) ?? ''
        writer.edits.forEach((edit, index) => {
          const present = text.includes(edit.token)
          if (index < acknowledged(writer)) {
            if (!present) lost.push(edit.token)
          } else {
            unacknowledged++
            if (present) survivors++
          }
        })
      }
      expect(lost, 'acknowledged edits lost by kill -9').toEqual([])
      for (const [room, text] of texts) {
        const tokens = text.match(/\[[^\]]*\]/g) ?? []
        expect(new Set(tokens).size, `duplicated tokens in ${room}`).toBe(tokens.length)
      }
      const sum = (values: number[]) => values.reduce((total, value) => total + value, 0)
      console.info(
        `kill -9 ${moment}: ${atKill.sent} edits sent, ${atKill.acknowledged} acknowledged at ` +
          `the kill, ${totalAcknowledged()} by the end of the streams (by count ` +
          `${sum(writers.map((w) => w.byCount))}, by state vector ` +
          `${sum(writers.map((w) => w.byStateVector))}); of ${unacknowledged} unacknowledged, ` +
          `${survivors} survived`,
      )
    },
  )
})
