/**
 * Room lifecycle against real SQLite: single-flight loading (R24), compaction while clients
 * write (R23), and unloading idle rooms after flushing them.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createSqliteStorage } from '../src/storage/sqlite-storage.js'
import { createGatedStorage } from './helpers/gated-storage.js'
import { connectRelay, type TestRelayClient } from './helpers/relay-client.js'
import { makeDataDir, metricValue, startServer, type TestServer } from './helpers/server.js'
import { until } from './helpers/wait.js'

const servers: TestServer[] = []
const clients: TestRelayClient[] = []

afterEach(async () => {
  for (const client of clients.splice(0)) client.ws.terminate()
  for (const server of servers.splice(0)) await server.close()
})

const join = (server: TestServer, room: string) => {
  const client = connectRelay(server.wsUrl, room, { coedit: true })
  clients.push(client)
  return client
}
const synced = (client: TestRelayClient) =>
  until('synced', () => client.synced, [[client.events, 'synced']])

describe('rooms', () => {
  it('loads a cold room from storage exactly once when 100 clients join at the same time', async () => {
    const dataDir = makeDataDir()
    // Seed the room so that loading reads real data.
    const seed = new Y.Doc()
    seed.getText('t').insert(0, 'seeded')
    const seeder = createSqliteStorage({ dir: dataDir })
    await seeder.appendUpdates('cold', [Y.encodeStateAsUpdate(seed)])
    await seeder.close()

    const storage = createGatedStorage(dataDir)
    const server = await startServer({ dataDir, storage })
    servers.push(server)
    const joiners = Array.from({ length: 100 }, () => join(server, 'cold'))
    await Promise.all(joiners.map(synced))
    expect(storage.loads).toBe(1)
    expect(await metricValue(server.server, 'coedit_storage_loads_total')).toBe(1)
    for (const client of joiners) expect(client.doc.getText('t').toString()).toBe('seeded')
  })

  it('serves a room whose stored log holds a damaged row, skipping only that row', async () => {
    const dataDir = makeDataDir()
    const seed = new Y.Doc()
    seed.getText('t').insert(0, 'intact')
    const seeder = createSqliteStorage({ dir: dataDir })
    const valid = Y.encodeStateAsUpdate(seed)
    await seeder.appendUpdates('damaged', [valid, valid.slice(0, 5)])
    await seeder.close()

    const server = await startServer({ dataDir })
    servers.push(server)
    const client = join(server, 'damaged')
    await synced(client)
    expect(client.doc.getText('t').toString()).toBe('intact')
    expect(
      await metricValue(server.server, 'coedit_drops_total', { reason: 'corrupt-stored-update' }),
    ).toBe(1)
  })

  it('compacts while clients write, loses nothing, and keeps stored bytes within 3x the state', async () => {
    const dataDir = makeDataDir()
    const server = await startServer({
      dataDir,
      persistence: { compactAfterRows: 40, batchWindowMs: 5 },
    })
    servers.push(server)
    const writers = [join(server, 'busy'), join(server, 'busy'), join(server, 'busy')]
    await Promise.all(writers.map(synced))
    // Each writer types 150 characters one by one, deleting now and then, each edit a message.
    const expectedTokens: string[] = []
    for (let i = 0; i < 150; i++) {
      writers.forEach((writer, w) => {
        const text = writer.doc.getText('t')
        const token = `${w}${String.fromCharCode(97 + (i % 26))}`
        if (i % 10 === 9) text.delete(0, 2)
        else {
          text.insert(text.length, token)
          expectedTokens.push(token)
        }
      })
      // Let the server read what was sent, so compactions interleave with writes.
      if (i % 15 === 0)
        await until(
          'acks',
          () => writers.every((x) => x.isSaved()),
          writers.map((x) => [x.events, 'saved'] as const),
        )
    }
    await until(
      'all saved',
      () => writers.every((writer) => writer.isSaved()),
      writers.map((writer) => [writer.events, 'saved'] as const),
    )
    // Compactions finish asynchronously (the merge runs in a worker): wait for the first one.
    const merged = () =>
      metricValue(server.server, 'coedit_compactions_total', { result: 'merged' })
    while ((await merged()) === 0) await new Promise((resolve) => setImmediate(resolve))
    expect(await merged()).toBeGreaterThan(0)
    const finalText = (writers[0] as TestRelayClient).doc.getText('t').toString()
    for (const writer of writers) expect(writer.doc.getText('t').toString()).toBe(finalText)

    await server.close({ keepData: true })
    const storage = createSqliteStorage({ dir: dataDir })
    const stored = await storage.loadRoom('busy')
    await storage.close()
    const restored = new Y.Doc()
    for (const update of stored.updates) Y.applyUpdate(restored, update)
    expect(restored.getText('t').toString()).toBe(finalText)
    const compact = Y.encodeStateAsUpdate(restored).length
    expect(stored.bytes).toBeLessThanOrEqual(3 * compact)
  })

  it('unloads an idle room after flushing it, and reloads it on the next join', async () => {
    const server = await startServer({ persistence: { roomIdleMs: 50 } })
    servers.push(server)
    const a = join(server, 'idle')
    await synced(a)
    a.doc.getText('t').insert(0, 'kept')
    await until('saved', () => a.isSaved(), [[a.events, 'saved']])
    a.close()
    await a.closed
    const rooms = () => metricValue(server.server, 'coedit_rooms')
    while ((await rooms()) !== 0) {
      await new Promise((resolve) => setImmediate(resolve))
    }
    const b = join(server, 'idle')
    await synced(b)
    expect(b.doc.getText('t').toString()).toBe('kept')
    expect(await metricValue(server.server, 'coedit_storage_loads_total')).toBe(2)
  })
})
