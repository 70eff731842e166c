/**
 * R17: on SIGTERM the server closes every client with "reconnect" (1012), flushes storage and
 * exits 0 — losing nothing it received.
 *
 * The server runs as a real child process (the compiled CLI) on a real SQLite directory, with a
 * group-commit window far longer than the test: nothing is durable until the shutdown flushes it,
 * so an edit lost on the way out shows up after the restart.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
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

interface Writer {
  readonly client: TestRelayClient
  readonly room: string
  /** Tokens whose update went out on the socket. */
  readonly sent: string[]
  /** Tokens typed after the socket stopped sending (they never left the client). */
  readonly unsent: string[]
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

const ROOMS = ['shutdown-a', 'shutdown-b']
const WRITERS_PER_ROOM = 2
const EDIT_INTERVAL_MS = 10
/** Edits per writer before SIGTERM. */
const EDITS_BEFORE_SIGTERM = 15
/** Edits the slow writer sends after SIGTERM, before it reads the close frame. */
const SLOW_EDITS_AFTER_SIGTERM = 5

describe('graceful shutdown (R17)', () => {
  it('closes clients with 1012, exits 0 and keeps every edit received before the close', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'coedit-shutdown-'))
    dirs.push(dataDir)
    const args = ['--port', '0', '--data', dataDir, '--log-level', 'warn']
    const server = await startServerProcess([...args, '--batch-window-ms', '600000'])

    const writers: Writer[] = ROOMS.flatMap((room) =>
      Array.from({ length: WRITERS_PER_ROOM }, () => {
        const client = connectRelay(server.wsUrl, room, { coedit: true })
        clients.push(client)
        return { client, room, sent: [], unsent: [] }
      }),
    )
    await Promise.all(
      writers.map(({ client }) =>
        until('writer synced', () => client.synced, [[client.events, 'synced']]),
      ),
    )

    // Every writer types until its socket closes; SIGTERM goes out mid-stream. One writer reads
    // slowly from then on: it keeps typing (its socket still open) with the server's close frame
    // unread, so the server receives edits after it started closing — they count too.
    const slow = writers[0] as Writer
    let ackedAtSigterm: number[] | undefined
    let slowSentAtSigterm = 0
    writers.forEach((writer, index) => {
      const { client } = writer
      const text = client.doc.getText('t')
      const timer = setInterval(() => {
        const token = `[${writer.room}/w${index}:${writer.sent.length + writer.unsent.length}]`
        const sentBefore = client.sent
        text.insert(text.length, token)
        ;(client.sent > sentBefore ? writer.sent : writer.unsent).push(token)
        if (client.closeCode !== undefined) clearInterval(timer)
        if (
          ackedAtSigterm === undefined &&
          writers.every((w) => w.sent.length >= EDITS_BEFORE_SIGTERM)
        ) {
          ackedAtSigterm = writers.map((w) => w.client.acked)
          slowSentAtSigterm = slow.sent.length
          slow.client.ws.pause()
          server.child.kill('SIGTERM')
        }
        const slowDone = slow.sent.length >= slowSentAtSigterm + SLOW_EDITS_AFTER_SIGTERM
        if (writer === slow && client.ws.isPaused && slowDone) client.ws.resume()
      }, EDIT_INTERVAL_MS)
      timers.push(timer)
    })

    const closes = await Promise.all(writers.map(({ client }) => client.closed))
    // Nothing was durable at SIGTERM (the batch window had not passed): only the shutdown's
    // flush can have kept the edits.
    expect(ackedAtSigterm).toEqual(writers.map(() => 0))
    expect(slow.sent.length).toBeGreaterThanOrEqual(slowSentAtSigterm + SLOW_EDITS_AFTER_SIGTERM)
    expect(closes.map(({ code }) => code)).toEqual(writers.map(() => 1012))
    expect(await server.exited).toEqual({ code: 0, signal: null })
    for (const timer of timers.splice(0)) clearInterval(timer)

    const restarted = await startServerProcess(args)
    for (const room of ROOMS) {
      const text = await readRoom(restarted.wsUrl, room)
      const inRoom = writers.filter((writer) => writer.room === room)
      const sent = inRoom.flatMap((writer) => writer.sent)
      expect(sent.length).toBeGreaterThanOrEqual(WRITERS_PER_ROOM * EDITS_BEFORE_SIGTERM)
      expect(
        sent.filter((token) => !text.includes(token)),
        `edits lost in ${room}`,
      ).toEqual([])
      // Bookkeeping check: what never left a client cannot be on the server.
      const unsent = inRoom.flatMap((writer) => writer.unsent)
      expect(unsent.filter((token) => text.includes(token))).toEqual([])
    }
  })
})
