/**
 * Test helpers for several server instances: relay clients that have finished their first sync,
 * text waits, raw y-webrtc signaling sockets, a seeded random source, and `coedit-server` child
 * processes sharing Redis and a fresh PostgreSQL schema.
 */
import WebSocket from 'ws'
import type * as Y from 'yjs'
import { startServerProcess, type ServerProcess } from './server-process.js'
import { connectRelay, type TestRelayClient } from './relay-client.js'
import { until } from './wait.js'

/** Anything with a `ws://` base URL: an in-process test server or a child process. */
export interface HasWsUrl {
  readonly wsUrl: string
}

export const textOf = (client: TestRelayClient, key = 't'): string =>
  client.doc.getText(key).toString()

/** A coedit relay client that has finished its first sync with the instance. */
export const joinRelay = async (
  server: HasWsUrl,
  room: string,
  registry: TestRelayClient[],
  doc?: Y.Doc,
): Promise<TestRelayClient> => {
  const client = connectRelay(server.wsUrl, room, { coedit: true, ...(doc ? { doc } : {}) })
  registry.push(client)
  await client.opened
  await until('first sync', () => client.synced, [[client.events, 'synced']])
  return client
}

export const waitForText = (client: TestRelayClient, expected: string): Promise<void> =>
  until(`text "${expected}" (has "${textOf(client)}")`, () => textOf(client) === expected, [
    [client.events, 'message'],
  ])

/** Waits until the client's last `saved` covers its whole state and every message it sent. */
export const waitForSaved = (client: TestRelayClient): Promise<void> =>
  until('saved', () => client.isSaved(), [[client.events, 'saved']])

/** mulberry32: a small seeded generator, so a failing run can be replayed from its seed. */
export const seededRandom = (seed: number): (() => number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** The seed from `COEDIT_TEST_SEED` (to replay a run), else a fresh one; printed either way. */
export const testSeed = (label: string): number => {
  const given = process.env['COEDIT_TEST_SEED']
  const seed = given === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(given)
  console.log(`${label}: seed ${seed} (replay with COEDIT_TEST_SEED=${seed})`)
  return seed
}

/** A raw y-webrtc signaling socket speaking JSON, with everything it received. */
export interface SignalingPeer {
  readonly ws: WebSocket
  readonly inbox: Record<string, unknown>[]
  send(message: unknown): void
}

export const connectSignaling = async (
  server: HasWsUrl,
  sockets: WebSocket[],
): Promise<SignalingPeer> => {
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

/**
 * Publishes `{ from }` announcements on `topic` from `sender` until `receiver` heard one (the
 * subscription reaches Redis asynchronously, and y-webrtc itself re-announces periodically).
 */
export const announceUntilHeard = async (
  sender: SignalingPeer,
  receiver: SignalingPeer,
  topic: string,
  from: string,
  timeoutMs = 20_000,
): Promise<void> => {
  const heard = () =>
    receiver.inbox.some((m) => (m['data'] as { from?: string } | undefined)?.from === from)
  const deadline = Date.now() + timeoutMs
  for (let n = 0; !heard(); n++) {
    if (Date.now() > deadline) throw new Error(`no publish from ${from} arrived`)
    sender.send({ type: 'publish', topic, data: { type: 'announce', from, n } })
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Polls `/healthz` (there is no event to wait on) until `redis` reads `state`. */
export const waitForRedisState = async (
  url: string,
  state: 'up' | 'down',
  timeoutMs = 20_000,
): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const body = (await (await fetch(`${url}/healthz`)).json()) as Record<string, unknown>
    if (body['redis'] === state) return
    if (Date.now() > deadline) throw new Error(`${url}: redis never reported ${state}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** A `coedit-server` child process on a free port with `--redis` and `--postgres`. */
export const startClusterProcess = (
  redisUrl: string,
  postgresUrl: string,
  extra: readonly string[] = [],
): Promise<ServerProcess> =>
  startServerProcess([
    '--port',
    '0',
    '--redis',
    redisUrl,
    '--postgres',
    postgresUrl,
    '--log-level',
    'warn',
    ...extra,
  ])
