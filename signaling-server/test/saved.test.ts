/**
 * The Coedit "saved" acknowledgement (PROTOCOL.md): sent only to clients that declared the
 * extension, after each durable flush, carrying the persisted state vector and how many of the
 * connection's document messages are durable. "Saved" must never be claimed for an edit that
 * storage has not taken (R22), and must follow within a second of storage recovering.
 */
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { createGatedStorage, type GatedStorage } from './helpers/gated-storage.js'
import { connectRelay, roundTrip, type TestRelayClient } from './helpers/relay-client.js'
import { makeDataDir, metricValue, startServer, type TestServer } from './helpers/server.js'
import { until } from './helpers/wait.js'

const servers: TestServer[] = []
const clients: TestRelayClient[] = []
const cleanups: (() => void)[] = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup()
  for (const client of clients.splice(0)) client.ws.terminate()
  for (const server of servers.splice(0)) await server.close()
})

const setup = async (storage?: GatedStorage) => {
  const dataDir = makeDataDir()
  const server = await startServer({
    dataDir,
    storage: storage ?? createGatedStorage(dataDir),
  })
  servers.push(server)
  return server
}

const join = async (server: TestServer, room: string, coedit = true) => {
  const client = connectRelay(server.wsUrl, room, { coedit })
  clients.push(client)
  await until('synced', () => client.synced, [[client.events, 'synced']])
  return client
}

const saved = (client: TestRelayClient, timeoutMs?: number) =>
  until('saved', () => client.isSaved(), [[client.events, 'saved']], timeoutMs)

describe('saved acknowledgements', () => {
  it('is saved after joining an empty room, unsaved after a local edit, saved once persisted', async () => {
    const server = await setup()
    const client = await join(server, 'r')
    await saved(client)
    client.doc.getText('t').insert(0, 'durable')
    expect(client.isSaved()).toBe(false)
    await saved(client)
    expect(client.acked).toBe(client.sent)
  })

  it('stays unsaved while storage fails, and becomes saved after it recovers', async () => {
    const dir = makeDataDir()
    const storage = createGatedStorage(dir)
    const server = await setup(storage)
    const client = await join(server, 'r')
    await saved(client)
    storage.setMode('fail')
    const blocked = storage.blockedWrite()
    client.doc.getText('t').insert(0, 'while storage is down')
    await blocked
    // Let several retries fail; none may produce an acknowledgement.
    while ((await metricValue(server.server, 'coedit_persist_errors_total')) < 3) {
      await storage.blockedWrite()
    }
    await roundTrip(client)
    expect(client.isSaved()).toBe(false)
    // Live editing continues meanwhile (R25): a second client still gets the edit.
    const other = await join(server, 'r')
    expect(other.doc.getText('t').toString()).toBe('while storage is down')

    storage.setMode('open')
    await saved(client)
    expect(storage.appends).toBeGreaterThan(0)
  })

  it('stays unsaved while a write is stalled, and only the stalled edit waits', async () => {
    const dir = makeDataDir()
    const storage = createGatedStorage(dir)
    const server = await setup(storage)
    const client = await join(server, 'r')
    await saved(client)
    storage.setMode('stall')
    const blocked = storage.blockedWrite()
    client.doc.getText('t').insert(0, 'stalled')
    await blocked
    await roundTrip(client)
    // Another flush round cannot overtake the stalled one: nothing new gets acknowledged.
    client.doc.getText('t').insert(0, 'more ')
    const other = await join(server, 'r')
    await until(
      'other sees both edits',
      () => other.doc.getText('t').toString() === 'more stalled',
      [[other.doc, 'update']],
    )
    expect(client.isSaved()).toBe(false)
    expect(client.acked).toBeLessThan(client.sent)
    storage.setMode('open')
    await saved(client)
  })

  it('announces the state of the batch written, not edits that arrived during the write', async () => {
    const dir = makeDataDir()
    const storage = createGatedStorage(dir)
    const server = await setup(storage)
    const a = await join(server, 'r')
    const b = await join(server, 'r')
    const observer = await join(server, 'r')
    await Promise.all([saved(a), saved(b), saved(observer)])
    storage.setMode('stall')
    const first = storage.blockedWrite()
    a.doc.getText('t').insert(0, 'a')
    await first
    // b's edit arrives while a's batch is being written: it belongs to the next batch.
    b.doc.getText('t').insert(0, 'b')
    await until('observer has both', () => observer.doc.getText('t').length === 2, [
      [observer.doc, 'update'],
    ])
    const second = storage.blockedWrite()
    const savedAfterFirst = new Promise<void>((resolve) => observer.events.once('saved', resolve))
    storage.releaseOne()
    await savedAfterFirst
    // The observer holds b's edit, which is not durable yet: it must not look saved.
    expect(observer.isSaved()).toBe(false)
    await second
    storage.setMode('open')
    await saved(observer)
  })

  it('acknowledges a duplicate only after the original is durable', async () => {
    const dir = makeDataDir()
    const storage = createGatedStorage(dir)
    const server = await setup(storage)
    const a = await join(server, 'dup')
    const b = await join(server, 'dup')
    await Promise.all([saved(a), saved(b)])
    storage.setMode('stall')
    const blocked = storage.blockedWrite()
    a.doc.getText('t').insert(0, 'x')
    await blocked
    // b already has a's update (relayed); b now sends the same update itself, as it would when it
    // first received it over WebRTC. It changes nothing, but is not durable yet either.
    const update = Y.encodeStateAsUpdate(a.doc)
    Y.applyUpdate(b.doc, update)
    await until('b has x', () => b.doc.getText('t').toString() === 'x', [[b.doc, 'update']])
    b.ws.send(Buffer.from([0, 2, ...lengthPrefixed(update)]))
    b.sent++
    // Anything the server sends in answer to the duplicate arrives before this round trip ends.
    await roundTrip(b)
    expect(b.acked).toBeLessThan(b.sent)
    storage.setMode('open')
    await Promise.all([saved(a), saved(b)])
  })

  it('never sends Coedit messages to stock clients', async () => {
    const server = await setup()
    const doc = new Y.Doc()
    const provider = new WebsocketProvider(`${server.wsUrl}/relay`, 'stock', doc, {
      WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
      disableBc: true,
    })
    cleanups.push(() => provider.destroy())
    const types: number[] = []
    await until('provider socket open', () => provider.ws !== null && provider.wsconnected, [
      [provider, 'status'],
    ])
    provider.ws?.addEventListener('message', (event: MessageEvent) => {
      types.push(new Uint8Array(event.data as ArrayBuffer)[0] ?? -1)
    })
    doc.getText('t').insert(0, 'stock')
    const watcher = await join(server, 'stock')
    await until('stored', () => watcher.isSaved() && watcher.doc.getText('t').length === 5, [
      [watcher.events, 'saved'],
      [watcher.doc, 'update'],
    ])
    // A round trip that comes after the flush: the stock client saw only stock messages.
    provider.awareness.setLocalStateField('x', 1)
    await until('awareness echo', () => types.includes(1), [[provider.awareness, 'update']])
    expect(types.every((type) => type >= 0 && type <= 3)).toBe(true)
  })

  it('refuses an unknown major version of the extension with 4426', async () => {
    const server = await setup()
    const client = connectRelay(server.wsUrl, 'r', { query: { coedit: '2' } })
    clients.push(client)
    expect((await client.closed).code).toBe(4426)
  })
})

/** varUint8Array encoding (lib0): varUint length, then the bytes. */
const lengthPrefixed = (bytes: Uint8Array): number[] => {
  const out: number[] = []
  let n = bytes.length
  while (n > 0x7f) {
    out.push(0x80 | (n & 0x7f))
    n >>>= 7
  }
  out.push(n)
  return [...out, ...bytes]
}
