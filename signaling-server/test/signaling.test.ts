/**
 * y-webrtc signaling on `/signal`, with the exact messages stock y-webrtc 10.x sends
 * (see protocols.md): subscribe, publish (delivered to every subscriber, the sender included,
 * with `clients`), ping/pong, unsubscribe, and cleanup on close.
 */
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { startServer, type TestServer } from './helpers/server.js'

const servers: TestServer[] = []
const sockets: WebSocket[] = []

afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate()
  for (const server of servers.splice(0)) await server.close()
})

/** A signaling client that queues every JSON message it receives. */
const connect = async (server: TestServer, query = '') => {
  const ws = new WebSocket(`${server.wsUrl}/signal${query}`)
  sockets.push(ws)
  const inbox: Record<string, unknown>[] = []
  const waiters: (() => void)[] = []
  ws.on('message', (data) => {
    inbox.push(JSON.parse(data.toString()) as Record<string, unknown>)
    for (const wake of waiters.splice(0)) wake()
  })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  return {
    ws,
    send: (message: unknown) => ws.send(JSON.stringify(message)),
    /** The next received message (waits for it). */
    async next(): Promise<Record<string, unknown>> {
      while (inbox.length === 0) await new Promise<void>((resolve) => waiters.push(resolve))
      return inbox.shift() as Record<string, unknown>
    },
    inbox,
  }
}

const started = async () => {
  const server = await startServer()
  servers.push(server)
  return server
}

describe('signaling (stock y-webrtc protocol)', () => {
  it('answers ping with pong', async () => {
    const a = await connect(await started())
    a.send({ type: 'ping' })
    expect(await a.next()).toEqual({ type: 'pong' })
  })

  it('delivers a publish to every subscriber, the sender included, with the clients count', async () => {
    const server = await started()
    const a = await connect(server)
    const b = await connect(server)
    const outsider = await connect(server)
    a.send({ type: 'subscribe', topics: ['room-1'] })
    b.send({ type: 'subscribe', topics: ['room-1', 'room-2'] })
    outsider.send({ type: 'subscribe', topics: ['room-2'] })
    // Ordering on one socket is preserved: a ping answered means the subscribe was handled.
    for (const c of [a, b, outsider]) {
      c.send({ type: 'ping' })
      expect(await c.next()).toEqual({ type: 'pong' })
    }
    const data = { type: 'announce', from: 'peer-a' }
    a.send({ type: 'publish', topic: 'room-1', data })
    const expected = { type: 'publish', topic: 'room-1', data, clients: 2 }
    expect(await a.next()).toEqual(expected)
    expect(await b.next()).toEqual(expected)
    outsider.send({ type: 'ping' })
    expect(await outsider.next()).toEqual({ type: 'pong' })
  })

  it('forwards encrypted (string) data untouched', async () => {
    const server = await started()
    const a = await connect(server)
    a.send({ type: 'subscribe', topics: ['secret-room'] })
    a.send({ type: 'publish', topic: 'secret-room', data: 'bm90LXJlYWxseS1lbmNyeXB0ZWQ=' })
    expect(await a.next()).toEqual({
      type: 'publish',
      topic: 'secret-room',
      data: 'bm90LXJlYWxseS1lbmNyeXB0ZWQ=',
      clients: 1,
    })
  })

  it('stops delivering after unsubscribe and after close, and counts only current subscribers', async () => {
    const server = await started()
    const a = await connect(server)
    const b = await connect(server)
    const c = await connect(server)
    for (const x of [a, b, c]) x.send({ type: 'subscribe', topics: ['t'] })
    b.send({ type: 'unsubscribe', topics: ['t'] })
    b.send({ type: 'ping' })
    expect(await b.next()).toEqual({ type: 'pong' })
    c.ws.close()
    await new Promise((resolve) => c.ws.once('close', resolve))
    // The server handles c's close asynchronously; a publish round trip on a confirms it.
    let clients = 0
    while (clients !== 1) {
      a.send({ type: 'publish', topic: 't', data: { type: 'announce', from: 'a' } })
      const message = await a.next()
      clients = message['clients'] as number
    }
    b.send({ type: 'ping' })
    expect(await b.next()).toEqual({ type: 'pong' })
    expect(b.inbox).toEqual([])
  })

  it('ignores a publish to a topic nobody subscribed to', async () => {
    const a = await connect(await started())
    a.send({ type: 'publish', topic: 'empty', data: { type: 'announce', from: 'a' } })
    a.send({ type: 'ping' })
    expect(await a.next()).toEqual({ type: 'pong' })
  })

  it('closes a connection that sends malformed JSON with 4400, and others keep working', async () => {
    const server = await started()
    const bad = await connect(server)
    const good = await connect(server)
    const closed = new Promise<number>((resolve) => bad.ws.once('close', resolve))
    bad.ws.send('{"type":"subscribe","topics":')
    expect(await closed).toBe(4400)
    good.send({ type: 'ping' })
    expect(await good.next()).toEqual({ type: 'pong' })
  })
})
