/**
 * Several server instances sharing rooms through Redis pub/sub (R10, R13, R25): relay updates,
 * awareness and signaling cross instances exactly once; a client may reach any instance; a
 * Redis outage leaves every instance serving its own clients, and they converge when it returns.
 *
 * Each instance has its own SQLite directory: the instance whose client sent an update stores
 * it, the others hold it in memory only (cluster/room-channel.ts).
 *
 * Needs Redis at 127.0.0.1:6379 (or COEDIT_TEST_REDIS_URL) and `redis-server` on the PATH; the
 * tests fail, not skip, without them.
 */
import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import {
  encodeAwarenessFrame,
  encodeAwarenessUpdate,
  type RelayMessage,
} from '@coedit/sdk/protocol'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createClient } from 'redis'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { parseServeOptions } from '../src/cli-options.js'
import { createSqliteStorage } from '../src/storage/sqlite-storage.js'
import {
  startPrivateRedis,
  requireRedis,
  SHARED_REDIS_URL,
  type PrivateRedis,
} from './helpers/redis.js'
import { connectRelay, roundTrip, type TestRelayClient } from './helpers/relay-client.js'
import { metricValue, startServer, type TestServer } from './helpers/server.js'
import { until } from './helpers/wait.js'

const servers: TestServer[] = []
const clients: TestRelayClient[] = []
const sockets: WebSocket[] = []
const redises: PrivateRedis[] = []

beforeAll(() => requireRedis())

afterEach(async () => {
  for (const client of clients.splice(0)) client.ws.terminate()
  for (const ws of sockets.splice(0)) ws.terminate()
  for (const server of servers.splice(0)) await server.close()
  for (const redis of redises.splice(0)) await redis.kill()
})

const uniqueRoom = (label: string) => `${label}-${randomUUID()}`

const instance = async (redisUrl = SHARED_REDIS_URL) => {
  const server = await startServer({ redisUrl })
  servers.push(server)
  return server
}

/** A relay client that has finished its first sync with the instance. */
const joined = async (server: TestServer, room: string, doc?: Y.Doc) => {
  const client = connectRelay(server.wsUrl, room, doc === undefined ? {} : { doc })
  clients.push(client)
  await client.opened
  await until('first sync', () => client.synced, [[client.events, 'synced']])
  return client
}

const textOf = (client: TestRelayClient) => client.doc.getText('t').toString()

/** Counts the document updates (sync updates) a client receives. */
const countUpdates = (client: TestRelayClient) => {
  const counter = { updates: 0 }
  client.events.on('message', (message: RelayMessage) => {
    if (message.type === 'sync-update') counter.updates++
  })
  return counter
}

const waitForText = (client: TestRelayClient, expected: string) =>
  until(`text "${expected}" (has "${textOf(client)}")`, () => textOf(client) === expected, [
    [client.events, 'message'],
  ])

const healthz = async (server: TestServer) => {
  const response = await fetch(`${server.url}/healthz`)
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

/** Polls `/healthz` (there is no event to wait on) until `redis` reads `state`. */
const waitForRedis = async (server: TestServer, state: 'up' | 'down') => {
  const deadline = Date.now() + 20_000
  for (;;) {
    const { body } = await healthz(server)
    if (body['redis'] === state) return
    if (Date.now() > deadline) throw new Error(`redis never reported ${state}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const awarenessFrame = (clientID: number, clock: number, state: unknown) =>
  encodeAwarenessFrame(
    encodeAwarenessUpdate([
      { clientID, clock, state: state === null ? 'null' : JSON.stringify(state) },
    ]),
  )

const awarenessOf = (client: TestRelayClient) => {
  const seen = new Map<number, string>()
  client.events.on('message', (message: RelayMessage) => {
    if (message.type !== 'awareness') return
    for (const entry of message.entries) seen.set(entry.clientID, entry.state)
  })
  return seen
}

/** A raw y-webrtc signaling client speaking JSON. */
const signaling = async (server: TestServer) => {
  const ws = new WebSocket(`${server.wsUrl}/signal`)
  sockets.push(ws)
  const inbox: Record<string, unknown>[] = []
  ws.on('message', (data: Buffer) =>
    inbox.push(JSON.parse(data.toString()) as Record<string, unknown>),
  )
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  return { ws, inbox, send: (message: unknown) => ws.send(JSON.stringify(message)) }
}

describe('several instances sharing rooms through Redis', () => {
  it('delivers an edit made on one instance to clients of the others, each exactly once', async () => {
    const [a, b, c] = [await instance(), await instance(), await instance()]
    const room = uniqueRoom('fanout')
    const onA = await joined(a, room)
    const onB = await joined(b, room)
    const onC = await joined(c, room)
    const counts = [onA, onB, onC].map(countUpdates)
    // What crosses Redis: non-empty document updates on the room's channel (answers to the
    // hellos of the loads above are empty: every document was still empty).
    const spy = createClient({ url: SHARED_REDIS_URL })
    spy.on('error', () => undefined)
    await spy.connect()
    let published = 0
    const spied = new EventEmitter()
    await spy.subscribe(
      `coedit:room:${room}`,
      (message: Buffer) => {
        const idLength = message[0] ?? 0
        if (message[1 + idLength] === 0 && message.length - 2 - idLength > 2) published++
        spied.emit('message')
      },
      true,
    )

    onA.doc.getText('t').insert(0, 'a')
    await waitForText(onB, 'a')
    await waitForText(onC, 'a')
    onB.doc.getText('t').insert(1, 'b')
    await waitForText(onA, 'ab')
    await waitForText(onC, 'ab')
    onC.doc.getText('t').insert(2, 'c')
    await waitForText(onA, 'abc')
    await waitForText(onB, 'abc')
    // Any echo or re-publication would have arrived by now: every instance has answered a
    // round trip after the last edit reached it, and Redis keeps each publisher's order.
    await Promise.all([onA, onB, onC].map(roundTrip))
    onA.doc.getText('t').insert(3, '!')
    await Promise.all([onB, onC].map((client) => waitForText(client, 'abc!')))
    await Promise.all([onA, onB, onC].map(roundTrip))

    // Three edits from others plus the relay's echo of each client's own (y-websocket does
    // that; the sender included) — 4 edits in all, one frame each, on every client.
    for (const count of counts) expect(count.updates).toBe(4)
    // Each edit was published once, by the instance its client reached: nobody re-publishes.
    await until('4 updates on the channel', () => published >= 4, [[spied, 'message']])
    await Promise.all([onA, onB, onC].map(roundTrip))
    await spy.close()
    expect(published).toBe(4)
  })

  it('stores an update only on the instance whose client sent it', async () => {
    // Closed by the test itself, keeping their data directories to read them back.
    const a = await startServer({ redisUrl: SHARED_REDIS_URL })
    const b = await startServer({ redisUrl: SHARED_REDIS_URL })
    const room = uniqueRoom('persist-once')
    const onA = await joined(a, room)
    const onB = await joined(b, room)
    onA.doc.getText('t').insert(0, 'from A')
    await waitForText(onB, 'from A')
    onB.doc.getText('t').insert(6, ', from B')
    await waitForText(onA, 'from A, from B')
    await a.close({ keepData: true })
    await b.close({ keepData: true })
    const storedText = async (dataDir: string) => {
      const storage = createSqliteStorage({ dir: dataDir })
      const doc = new Y.Doc()
      for (const update of (await storage.loadRoom(room)).updates) Y.applyUpdate(doc, update)
      await storage.close()
      return doc.getText('t').toString()
    }
    try {
      // B's store lacks A's insert and vice versa: B's own insert references A's, so it stays
      // pending there — what matters is that neither store holds the other's update.
      expect(await storedText(a.dataDir)).toBe('from A')
      expect(await storedText(b.dataDir)).toBe('')
    } finally {
      for (const server of [a, b]) await server.close({ keepData: false })
    }
  })

  it('carries awareness across instances, including removal when a client leaves', async () => {
    const [a, b] = [await instance(), await instance()]
    const room = uniqueRoom('awareness')
    const onA = await joined(a, room)
    const onB = await joined(b, room)
    const seenOnB = awarenessOf(onB)
    onA.ws.send(awarenessFrame(4242, 1, { user: { name: 'Ada' } }))
    await until('awareness on B', () => seenOnB.get(4242) !== undefined, [[onB.events, 'message']])
    expect(JSON.parse(seenOnB.get(4242) ?? 'null')).toEqual({ user: { name: 'Ada' } })

    // A client joining B later learns the state from B's own registry.
    const lateOnB = connectRelay(b.wsUrl, room)
    clients.push(lateOnB)
    const seenLate = awarenessOf(lateOnB)
    await until('awareness for a late joiner', () => seenLate.has(4242), [
      [lateOnB.events, 'message'],
    ])

    onA.close()
    await until('removal on B', () => seenOnB.get(4242) === 'null', [[onB.events, 'message']])
  })

  it('lets y-webrtc peers on different instances signal each other, without echo', async () => {
    const [a, b] = [await instance(), await instance()]
    const topic = uniqueRoom('signal')
    const onA = await signaling(a)
    const onB = await signaling(b)
    onA.send({ type: 'subscribe', topics: [topic] })
    onB.send({ type: 'subscribe', topics: [topic] })
    // Subscribing gives no answer and reaches Redis asynchronously: announce until B hears one,
    // as y-webrtc itself re-announces.
    const fromB = (inbox: Record<string, unknown>[], from: string) =>
      inbox.filter((m) => (m['data'] as { from?: string } | undefined)?.from === from)
    let sent = 0
    const deadline = Date.now() + 20_000
    while (fromB(onB.inbox, 'a').length === 0) {
      if (Date.now() > deadline) throw new Error('B never received A’s publish')
      onA.send({ type: 'publish', topic, data: { type: 'announce', from: 'a', n: sent++ } })
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    onB.send({ type: 'publish', topic, data: { type: 'announce', from: 'b', n: 0 } })
    await until('A hears B', () => fromB(onA.inbox, 'b').length > 0, [[onA.ws, 'message']])
    // B's announcement reached A once, and B's own copy came back once (from B, not Redis).
    onB.send({ type: 'ping' })
    await until('pong', () => onB.inbox.some((m) => m['type'] === 'pong'), [[onB.ws, 'message']])
    expect(fromB(onA.inbox, 'b')).toHaveLength(1)
    expect(fromB(onB.inbox, 'b')).toHaveLength(1)
    expect(fromB(onB.inbox, 'b')[0]).toMatchObject({ type: 'publish', topic, clients: 1 })
    // A heard each of its own announcements exactly once.
    await until('A hears its own', () => fromB(onA.inbox, 'a').length === sent, [
      [onA.ws, 'message'],
    ])
    const numbers = fromB(onA.inbox, 'a').map((m) => (m['data'] as { n: number }).n)
    expect(new Set(numbers).size).toBe(sent)
  })

  it('resyncs a client that reconnects to another instance by state vector', async () => {
    const [a, b] = [await instance(), await instance()]
    const room = uniqueRoom('reconnect')
    const onA = await joined(a, room)
    const onB = await joined(b, room)
    onA.doc.getText('t').insert(0, 'one ')
    await waitForText(onB, 'one ')
    // The client goes offline, keeps editing, and comes back through the other instance while
    // someone else also edited.
    const offlineDoc = onA.doc
    onA.ws.terminate()
    await onA.closed
    offlineDoc.getText('t').insert(4, 'two ')
    onB.doc.getText('t').insert(0, 'zero ')
    const back = await joined(b, room, offlineDoc)
    await waitForText(onB, textOf(back))
    await until('both edits', () => textOf(back).includes('zero') && textOf(back).includes('two'), [
      [back.events, 'message'],
    ])

    // An instance that loads the room cold completes it from the instances serving it.
    const c = await instance()
    const onC = await joined(c, room)
    await waitForText(onC, textOf(onB))
  })

  it('keeps serving local clients while Redis is down and converges when it returns', async () => {
    const redis = await startPrivateRedis()
    redises.push(redis)
    const [a, b] = [await instance(redis.url), await instance(redis.url)]
    await Promise.all([waitForRedis(a, 'up'), waitForRedis(b, 'up')])
    const room = uniqueRoom('outage')
    const a1 = await joined(a, room)
    const a2 = await joined(a, room)
    const b1 = await joined(b, room)
    const b2 = await joined(b, room)
    a1.doc.getText('t').insert(0, 'before ')
    await waitForText(b2, 'before ')
    expect(await metricValue(a.server, 'coedit_redis_up')).toBe(1)

    await redis.kill()
    await Promise.all([waitForRedis(a, 'down'), waitForRedis(b, 'down')])
    const health = await healthz(a)
    expect(health.status).toBe(200)
    expect(health.body).toMatchObject({ status: 'degraded', redis: 'down' })
    expect(await metricValue(b.server, 'coedit_redis_up')).toBe(0)

    // Each instance keeps relaying among its own clients.
    a1.doc.getText('t').insert(7, 'A ')
    b1.doc.getText('t').insert(0, 'B ')
    await waitForText(a2, 'before A ')
    await waitForText(b2, 'B before ')

    await redis.restart()
    await Promise.all([waitForRedis(a, 'up'), waitForRedis(b, 'up')])
    const converged = () =>
      [a1, a2, b1, b2].every((client) => textOf(client) === textOf(a1)) &&
      textOf(a1).includes('A ') &&
      textOf(a1).includes('B ')
    await until('all four converge without client action', converged, [
      [a1.events, 'message'],
      [a2.events, 'message'],
      [b1.events, 'message'],
      [b2.events, 'message'],
    ])
    expect((await healthz(b)).body).toMatchObject({ status: 'ok', redis: 'up' })
  })
})

describe('--redis', () => {
  it('reads --redis and COEDIT_REDIS_URL, the flag winning', () => {
    const env = { COEDIT_REDIS_URL: 'redis://env:6379' }
    expect(parseServeOptions([], {}).redisUrl).toBeUndefined()
    expect(parseServeOptions([], env).redisUrl).toBe('redis://env:6379')
    expect(parseServeOptions(['--redis', 'redis://flag:6379'], env).redisUrl).toBe(
      'redis://flag:6379',
    )
  })

  it('starts, serves and closes while Redis is unreachable', async () => {
    const redis = await startPrivateRedis()
    await redis.kill()
    const server = await instance(redis.url)
    const { status, body } = await healthz(server)
    expect(status).toBe(200)
    expect(body).toMatchObject({ status: 'degraded', redis: 'down' })
    const room = uniqueRoom('no-redis')
    const one = await joined(server, room)
    const two = await joined(server, room)
    one.doc.getText('t').insert(0, 'local')
    await waitForText(two, 'local')
    await server.close()
  })
})
