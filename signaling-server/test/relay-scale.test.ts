/**
 * Relay behaviour at size: catch-up costs the gap, not the document (R12); a 5 MB paste syncs
 * (R20); a hot room of 50 editors and 200 viewers converges (R19).
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { connectRelay, type TestRelayClient } from './helpers/relay-client.js'
import { startServer, type TestServer } from './helpers/server.js'
import { until } from './helpers/wait.js'

const servers: TestServer[] = []
const clients: TestRelayClient[] = []

afterEach(async () => {
  for (const client of clients.splice(0)) client.ws.terminate()
  for (const server of servers.splice(0)) await server.close()
})

const started = async (options?: Parameters<typeof startServer>[0]) => {
  const server = await startServer(options)
  servers.push(server)
  return server
}

/** Joins and counts the bytes the server sends until the client is synced. */
const joinCounting = async (server: TestServer, room: string, doc?: Y.Doc) => {
  const client = connectRelay(
    server.wsUrl,
    room,
    doc === undefined ? { coedit: true } : { doc, coedit: true },
  )
  clients.push(client)
  let received = 0
  let syncedAt = -1
  client.ws.on('message', (data: Buffer) => {
    received += data.length
  })
  await until('synced', () => client.synced, [[client.events, 'synced']])
  syncedAt = received
  return { client, bytesUntilSynced: syncedAt }
}

/** A seeded PRNG, so document shapes are the same on every run. */
const mulberry32 = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

describe('relay at size', () => {
  it('sends a reconnecting client only what it missed: 10 edits of a 1 MB document cost < 10 KB', async () => {
    const server = await started()
    const { client: writer } = await joinCounting(server, 'big')
    const random = mulberry32(7)
    const text = writer.doc.getText('t')
    const chunk = 'x'.repeat(1024)
    // One transaction (one message): 1,024 separate messages would trip the rate limit.
    writer.doc.transact(() => {
      for (let i = 0; i < 1024; i++) text.insert(Math.floor(random() * (text.length + 1)), chunk)
    })
    await until('writer saved', () => writer.isSaved(), [[writer.events, 'saved']])

    const readerDoc = new Y.Doc()
    const first = await joinCounting(server, 'big', readerDoc)
    expect(first.bytesUntilSynced).toBeGreaterThan(1024 * 1024)
    first.client.ws.terminate()
    await first.client.closed

    for (let i = 0; i < 10; i++) text.insert(Math.floor(random() * text.length), `edit ${i}`)
    await until('writer saved again', () => writer.isSaved(), [[writer.events, 'saved']])
    const again = await joinCounting(server, 'big', readerDoc)
    expect(readerDoc.getText('t').toString()).toBe(text.toString())
    expect(again.bytesUntilSynced).toBeLessThan(10 * 1024)
  })

  it('syncs a 5 MB paste to other clients and to storage', async () => {
    const server = await started()
    const { client: writer } = await joinCounting(server, 'paste')
    const { client: reader } = await joinCounting(server, 'paste')
    const paste = 'p'.repeat(5 * 1024 * 1024)
    writer.doc.getText('t').insert(0, paste)
    await until('reader has the paste', () => reader.doc.getText('t').length === paste.length, [
      [reader.doc, 'update'],
    ])
    await until('writer saved', () => writer.isSaved(), [[writer.events, 'saved']])
    const { client: late } = await joinCounting(server, 'paste')
    expect(late.doc.getText('t').length).toBe(paste.length)
  })

  it('keeps a hot room of 50 editors and 200 viewers converging', async () => {
    const server = await started()
    const editors = await Promise.all(
      Array.from({ length: 50 }, async () => (await joinCounting(server, 'hot')).client),
    )
    const viewers = await Promise.all(
      Array.from({ length: 200 }, async () => (await joinCounting(server, 'hot')).client),
    )
    editors.forEach((editor, i) => {
      for (let k = 0; k < 3; k++) editor.doc.getText('t').insert(0, `<${i}.${k}>`)
    })
    const expected = 50 * 3
    const count = (client: TestRelayClient) =>
      client.doc
        .getText('t')
        .toString()
        .match(/<\d+\.\d+>/g)?.length ?? 0
    await Promise.all(
      [...editors, ...viewers].map((client) =>
        until('all edits', () => count(client) === expected, [[client.doc, 'update']], 60_000),
      ),
    )
    const reference = (editors[0] as TestRelayClient).doc.getText('t').toString()
    for (const client of [...editors, ...viewers]) {
      expect(client.doc.getText('t').toString()).toBe(reference)
    }
  })
})
