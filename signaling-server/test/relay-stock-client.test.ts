/**
 * Stock y-websocket clients (the real `WebsocketProvider`, Node, `ws` as WebSocket) against the
 * relay at `ws://host:port/relay`.
 */
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { startServer, type TestServer } from './helpers/server.js'
import { until } from './helpers/wait.js'

const servers: TestServer[] = []
const providers: WebsocketProvider[] = []

const provider = (server: TestServer, room: string, doc = new Y.Doc()) => {
  const p = new WebsocketProvider(`${server.wsUrl}/relay`, room, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
  })
  providers.push(p)
  return p
}

const synced = (p: WebsocketProvider) => until('provider synced', () => p.synced, [[p, 'sync']])

const textEquals = (doc: Y.Doc, expected: string) =>
  until(
    `text to equal ${JSON.stringify(expected)}`,
    () => doc.getText('t').toString() === expected,
    [[doc, 'update']],
  )

afterEach(async () => {
  for (const p of providers.splice(0)) p.destroy()
  for (const s of servers.splice(0)) await s.close()
})

describe('relay with stock y-websocket providers', () => {
  it('syncs a Y.Text between two providers and to a late joiner', async () => {
    const server = await startServer()
    servers.push(server)
    const a = provider(server, 'doc-1')
    const b = provider(server, 'doc-1')
    await Promise.all([synced(a), synced(b)])
    a.doc.getText('t').insert(0, 'hello')
    await textEquals(b.doc, 'hello')
    b.doc.getText('t').insert(5, ' world')
    await textEquals(a.doc, 'hello world')

    const late = provider(server, 'doc-1')
    await synced(late)
    expect(late.doc.getText('t').toString()).toBe('hello world')
  })

  it('keeps rooms apart', async () => {
    const server = await startServer()
    servers.push(server)
    const a = provider(server, 'room-a')
    const b = provider(server, 'room-b')
    await Promise.all([synced(a), synced(b)])
    a.doc.getText('t').insert(0, 'only in a')
    const late = provider(server, 'room-a')
    await textEquals(late.doc, 'only in a')
    expect(b.doc.getText('t').toString()).toBe('')
  })

  it('serves the full state to a new client after a restart on the same data directory', async () => {
    const first = await startServer()
    const a = provider(first, 'durable')
    await synced(a)
    a.doc.getText('t').insert(0, 'survives restarts')
    // Close gracefully: the server flushes before it exits.
    a.destroy()
    await first.close({ keepData: true })

    const second = await startServer({ dataDir: first.dataDir })
    servers.push(second)
    const b = provider(second, 'durable')
    await synced(b)
    expect(b.doc.getText('t').toString()).toBe('survives restarts')
  })

  it('shares presence (awareness) and removes it when a client leaves', async () => {
    const server = await startServer()
    servers.push(server)
    const a = provider(server, 'presence')
    const b = provider(server, 'presence')
    await Promise.all([synced(a), synced(b)])
    a.awareness.setLocalStateField('user', { name: 'Ada', color: '#f00' })
    const aId = a.doc.clientID
    await until('b sees a', () => b.awareness.getStates().get(aId)?.['user']?.name === 'Ada', [
      [b.awareness, 'change'],
    ])
    a.destroy()
    await until('b forgets a', () => !b.awareness.getStates().has(aId), [[b.awareness, 'change']])
  })
})
