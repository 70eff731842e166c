/**
 * Several Coedit instances sharing rooms through Redis and PostgreSQL (issue 7: R10, R13, R21–R25).
 *
 * - In-process instances: "saved" across instances covers only what is in storage (R22), the
 *   periodic anti-entropy heals a message lost between instances (R13), an update whose
 *   instance never commits is adopted by another, and two instances compacting one room while
 *   clients write lose nothing (R23).
 * - Three `coedit-server` child processes (`--redis`, `--postgres`): random clients converge,
 *   signaling crosses instances, `kill -9` under load loses no acknowledged update, and a Redis
 *   outage heals.
 *
 * Needs Redis at 127.0.0.1:6379 (or COEDIT_TEST_REDIS_URL), `redis-server` on the PATH, and
 * PostgreSQL (COEDIT_TEST_POSTGRES_URL): the tests fail, never skip, without them. Randomness is
 * seeded; the seed is printed and COEDIT_TEST_SEED replays it.
 */
import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import type WebSocket from 'ws'
import * as Y from 'yjs'
import { createPostgresStorage } from '../src/storage/postgres-storage.js'
import type { Storage } from '../src/storage/storage.js'
import {
  announceUntilHeard,
  connectSignaling,
  joinRelay,
  seededRandom,
  startClusterProcess,
  testSeed,
  textOf,
  waitForRedisState,
  waitForSaved,
  waitForText,
  type HasWsUrl,
  type SignalingPeer,
} from './helpers/cluster.js'
import { createGatedStorage } from './helpers/gated-storage.js'
import { createTestSchema, requirePostgres, type TestSchema } from './helpers/postgres.js'
import {
  requireRedis,
  SHARED_REDIS_URL,
  startPrivateRedis,
  type PrivateRedis,
} from './helpers/redis.js'
import type { TestRelayClient } from './helpers/relay-client.js'
import { stopAllServerProcesses, type ServerProcess } from './helpers/server-process.js'
import { makeDataDir, startServer, type TestServer } from './helpers/server.js'
import { until } from './helpers/wait.js'

const servers: TestServer[] = []
const clients: TestRelayClient[] = []
const sockets: WebSocket[] = []
const redises: PrivateRedis[] = []
const schemas: TestSchema[] = []

beforeAll(async () => {
  await requireRedis()
  await requirePostgres()
})

afterEach(async () => {
  for (const client of clients.splice(0)) client.ws.terminate()
  for (const ws of sockets.splice(0)) ws.terminate()
  for (const server of servers.splice(0)) await server.close()
  await stopAllServerProcesses()
  for (const redis of redises.splice(0)) await redis.kill()
  for (const schema of schemas.splice(0)) await schema.drop()
})

const uniqueRoom = (label: string) => `${label}-${randomUUID()}`

const freshSchema = async () => {
  const schema = await createTestSchema()
  schemas.push(schema)
  return schema
}

interface CompactionCounts {
  merged: number
  skipped: number
  failed: number
}

/** A storage that counts its compactions by outcome and announces each one as it ends. */
const observeCompactions = (inner: Storage) => {
  const counts: CompactionCounts = { merged: 0, skipped: 0, failed: 0 }
  const events = new EventEmitter()
  const storage: Storage = {
    ...inner,
    compact: (room, merge) =>
      inner.compact(room, merge).then(
        (result) => {
          counts[result.compacted ? 'merged' : 'skipped']++
          events.emit('compaction')
          return result
        },
        (error: unknown) => {
          counts.failed++
          events.emit('compaction')
          throw error
        },
      ),
  }
  return { storage, counts, events }
}

/** A relay update frame on a room channel (after the bus envelope): kind 0 and not empty. */
const isUpdatePublish = (channel: string, payload: Uint8Array) =>
  channel.startsWith('coedit:room:') && payload[0] === 0 && payload.length > 3

/** The text stored for `room` in the PostgreSQL schema, read with a storage of its own. */
const storedText = async (schema: TestSchema, room: string): Promise<string> => {
  const storage = createPostgresStorage({ connectionString: schema.url })
  try {
    const doc = new Y.Doc()
    for (const update of (await storage.loadRoom(room)).updates) Y.applyUpdate(doc, update)
    return doc.getText('t').toString()
  } finally {
    await storage.close()
  }
}

/** The first element, which a test knows to exist. */
const first = <T>(items: readonly T[]): T => {
  const item = items[0]
  if (item === undefined) throw new Error('empty group')
  return item
}

const allSame = (group: readonly TestRelayClient[]) =>
  group.every((client) => textOf(client) === textOf(first(group)))

const messagesOf = (group: readonly TestRelayClient[]) =>
  group.map((client) => [client.events, 'message'] as [EventEmitter, string])

/** Waits until every client of `group` has the same text and it holds every token. */
const waitForConvergence = (
  group: readonly TestRelayClient[],
  tokens: readonly string[],
  timeoutMs = 30_000,
) =>
  until(
    'all clients converge on every token',
    () => allSame(group) && tokens.every((token) => textOf(first(group)).includes(token)),
    messagesOf(group),
    timeoutMs,
  )

/**
 * Inserts `token` at the start or the end of the text, at random (never inside another token,
 * so that every token stays whole and can be looked up); returns the client's own clock after.
 */
const insertToken = (client: TestRelayClient, token: string, random: () => number): number => {
  const text = client.doc.getText('t')
  text.insert(random() < 0.5 ? 0 : text.length, token)
  return Y.getState(client.doc.store, client.doc.clientID)
}

describe('"saved" across instances (R22)', () => {
  it('tells a client on B "saved" for an edit made on A only once A committed it', async () => {
    const gated = createGatedStorage(makeDataDir())
    const a = await startServer({ redisUrl: SHARED_REDIS_URL, storage: gated })
    servers.push(a)
    const b = await startServer({ redisUrl: SHARED_REDIS_URL })
    servers.push(b)
    const room = uniqueRoom('saved-across')
    const onA = await joinRelay(a, room, clients)
    const onB = await joinRelay(b, room, clients)
    await Promise.all([waitForSaved(onA), waitForSaved(onB)])

    gated.setMode('stall')
    const blocked = gated.blockedWrite()
    onA.doc.getText('t').insert(0, 'from A')
    await blocked
    await waitForText(onB, 'from A')
    // B commits an edit of its own client and tells it what B knows to be stored.
    onB.doc.getText('t').insert(6, ', from B')
    await until('B acknowledged its own edit', () => onB.acked >= onB.sent, [[onB.events, 'saved']])
    expect(onB.persisted.get(onB.doc.clientID)).toBe(Y.getState(onB.doc.store, onB.doc.clientID))
    // A's edit is in B's memory, not in any storage: B must not call it saved.
    expect(onB.persisted.get(onA.doc.clientID) ?? 0).toBe(0)
    expect(onB.isSaved()).toBe(false)

    gated.setMode('open')
    // A commits and announces it: B's client is now saved, without any edit of its own.
    await waitForSaved(onB)
    await waitForSaved(onA)
    expect(onB.persisted.get(onA.doc.clientID)).toBe(6)
  })

  it('stores an update another instance received but never committed', async () => {
    // A stalls forever, as if killed inside its group-commit window after publishing.
    const gated = createGatedStorage(makeDataDir())
    const cluster = { syncIntervalMs: 100 }
    const a = await startServer({ redisUrl: SHARED_REDIS_URL, storage: gated, cluster })
    servers.push(a)
    const b = await startServer({ redisUrl: SHARED_REDIS_URL, cluster })
    servers.push(b)
    const room = uniqueRoom('adopt')
    const onA = await joinRelay(a, room, clients)
    const onB = await joinRelay(b, room, clients)
    await Promise.all([waitForSaved(onA), waitForSaved(onB)])
    gated.setMode('stall')
    onA.doc.getText('t').insert(0, 'orphan')
    await waitForText(onB, 'orphan')
    // B adopts it after a whole period without an announcement, stores it and says so.
    await waitForSaved(onB)
    expect(onB.persisted.get(onA.doc.clientID)).toBe(6)
    gated.setMode('open')
  })
})

describe('anti-entropy between instances (R13)', () => {
  it('heals a lost update and a lost deletion without a reload or a Redis reconnect', async () => {
    const events = new EventEmitter()
    let dropNext = false
    let dropped = 0
    let updates = 0
    const dropPublish = (channel: string, payload: Uint8Array) => {
      if (channel.startsWith('coedit:room:') && payload[0] === 5) events.emit('digest')
      if (!isUpdatePublish(channel, payload)) return false
      updates++
      if (!dropNext) return false
      dropNext = false
      dropped++
      events.emit('dropped')
      return true
    }
    const a = await startServer({
      redisUrl: SHARED_REDIS_URL,
      cluster: { syncIntervalMs: 150, dropPublish },
    })
    servers.push(a)
    const b = await startServer({ redisUrl: SHARED_REDIS_URL, cluster: { syncIntervalMs: 150 } })
    servers.push(b)
    const room = uniqueRoom('anti-entropy')
    const onA = await joinRelay(a, room, clients)
    const onB = await joinRelay(b, room, clients)

    dropNext = true
    onA.doc.getText('t').insert(0, 'lost on the way')
    await until('the update dropped', () => dropped === 1, [[events, 'dropped']])
    await waitForText(onB, 'lost on the way')

    // A deletion carries no clock: only the delete-set digest can reveal its loss.
    dropNext = true
    onA.doc.getText('t').delete(0, 5)
    await until('the deletion dropped', () => dropped === 2, [[events, 'dropped']])
    await waitForText(onB, 'on the way')
    await Promise.all([waitForSaved(onA), waitForSaved(onB)])

    // In sync, the digests make nobody publish an update: four more periods of A, none sent.
    const before = updates
    let digests = 0
    await until('four digests from A', () => ++digests > 4, [[events, 'digest']])
    expect(updates).toBe(before)
  })
})

describe('two instances compacting one room while clients write (R23)', () => {
  it('loses nothing', async () => {
    const seed = testSeed('concurrent compaction')
    const random = seededRandom(seed)
    const schema = await freshSchema()
    const options = (storage: Storage) => ({
      redisUrl: SHARED_REDIS_URL,
      storage,
      persistence: { compactAfterRows: 3, batchWindowMs: 5 },
    })
    const onA = observeCompactions(createPostgresStorage({ connectionString: schema.url }))
    const onB = observeCompactions(createPostgresStorage({ connectionString: schema.url }))
    const a = await startServer(options(onA.storage))
    servers.push(a)
    const b = await startServer(options(onB.storage))
    servers.push(b)
    const room = uniqueRoom('compaction')
    const writers = [
      await joinRelay(a, room, clients),
      await joinRelay(a, room, clients),
      await joinRelay(b, room, clients),
      await joinRelay(b, room, clients),
    ]
    const tokens: string[] = []
    for (let round = 0; round < 40; round++) {
      writers.forEach((writer, index) => {
        const token = `<${index}.${round}>`
        tokens.push(token)
        insertToken(writer, token, random)
      })
      // Let commits (and compactions of both instances) interleave with the writes.
      if (round % 4 === 3) await Promise.all(writers.map(waitForSaved))
    }
    await waitForConvergence(writers, tokens)
    await Promise.all(writers.map(waitForSaved))
    // Both instances compact the room (each stores far more than 3 rows; a compaction may still
    // be running once everything is saved); where both merged the same rows at once, the loser's
    // compare-and-set made it skip, never fail.
    const finished = (counts: CompactionCounts) => counts.merged + counts.skipped + counts.failed
    await until(
      'a finished compaction on each instance',
      () => finished(onA.counts) > 0 && finished(onB.counts) > 0,
      [
        [onA.events, 'compaction'],
        [onB.events, 'compaction'],
      ],
    )
    console.log('compactions on A', onA.counts, 'on B', onB.counts)
    expect(onA.counts.merged + onB.counts.merged).toBeGreaterThan(0)
    expect(onA.counts.failed + onB.counts.failed).toBe(0)
    const stored = await storedText(schema, room)
    for (const token of tokens) expect(stored).toContain(token)
    expect(stored).toBe(textOf(first(writers)))
  })
})

describe('three coedit-server processes sharing Redis and PostgreSQL', () => {
  const startThree = async (redisUrl: string, schema: TestSchema) =>
    Promise.all([0, 1, 2].map(() => startClusterProcess(redisUrl, schema.url)))

  it('converges clients connected and reconnecting at random; signaling crosses instances', async () => {
    const seed = testSeed('random clients')
    const random = seededRandom(seed)
    const schema = await freshSchema()
    const instances = await startThree(SHARED_REDIS_URL, schema)
    const pick = (except?: ServerProcess): ServerProcess => {
      const choices = instances.filter((instance) => instance !== except)
      return choices[Math.floor(random() * choices.length)] as ServerProcess
    }
    const room = uniqueRoom('random')
    const placed = new Map<TestRelayClient, ServerProcess>()
    const live: TestRelayClient[] = []
    for (let i = 0; i < 12; i++) {
      const instance = pick()
      const client = await joinRelay(instance, room, clients)
      placed.set(client, instance)
      live.push(client)
    }
    const tokens: string[] = []
    const reconnecting = new Set([1, 4, 7, 10])
    for (let round = 0; round < 12; round++) {
      live.forEach((client, index) => {
        const token = `<${index}.${round}>`
        tokens.push(token)
        insertToken(client, token, random)
      })
      if (round === 5) {
        // Some clients drop, edit offline, and come back through another instance.
        for (const index of reconnecting) {
          const old = live[index] as TestRelayClient
          old.ws.terminate()
          await old.closed
          const token = `<${index}.offline>`
          tokens.push(token)
          insertToken(old, token, random)
          const target = pick(placed.get(old))
          const back = await joinRelay(target, room, clients, old.doc)
          placed.set(back, target)
          live[index] = back
        }
      }
      await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 20)))
    }
    await waitForConvergence(live, tokens)
    // A fresh client on each instance syncs the same text.
    const fresh = await Promise.all(instances.map((instance) => joinRelay(instance, room, clients)))
    await waitForConvergence([...live, ...fresh], tokens)
    await Promise.all(live.map(waitForSaved))
    expect(await storedText(schema, room)).toBe(textOf(first(live)))

    // y-webrtc signaling peers on different instances hear each other's publish.
    const topic = uniqueRoom('topic')
    const peers = await Promise.all(
      instances.map((instance) => connectSignaling(instance as HasWsUrl, sockets)),
    )
    for (const peer of peers) peer.send({ type: 'subscribe', topics: [topic] })
    const [p0, p1, p2] = peers as [SignalingPeer, SignalingPeer, SignalingPeer]
    await announceUntilHeard(p0, p1, topic, 'p0')
    await announceUntilHeard(p1, p2, topic, 'p1')
    await announceUntilHeard(p2, p0, topic, 'p2')
  })

  it('loses no acknowledged update when one instance is killed with kill -9 under load', async () => {
    const seed = testSeed('kill -9')
    const random = seededRandom(seed)
    const schema = await freshSchema()
    const instances = await startThree(SHARED_REDIS_URL, schema)
    const [victim, ...survivors] = instances as [ServerProcess, ServerProcess, ServerProcess]
    const room = uniqueRoom('kill')
    const writers: { client: TestRelayClient; on: ServerProcess; edits: [string, number][] }[] = []
    for (let i = 0; i < 9; i++) {
      const on = instances[i % 3] as ServerProcess
      writers.push({ client: await joinRelay(on, room, clients), on, edits: [] })
    }
    let round = 0
    let writing = true
    const write = () => {
      for (const [index, writer] of writers.entries()) {
        const token = `<${index}.${round}>`
        writer.edits.push([token, insertToken(writer.client, token, random)])
      }
      round++
    }
    const loop = (async () => {
      while (writing) {
        write()
        await new Promise((resolve) => setTimeout(resolve, 5 + Math.floor(random() * 10)))
      }
    })()
    // Under load, with acknowledgements flowing, kill one instance.
    await until(
      'every writer has something saved',
      () => writers.every((w) => w.client.acked > 1),
      [...messagesOf(writers.map((w) => w.client))],
    )
    await until('40 rounds written', () => round >= 40, messagesOf(writers.map((w) => w.client)))
    const savedAtKill = writers.flatMap(({ client, edits }) => {
      const persisted = client.persisted.get(client.doc.clientID) ?? 0
      return edits.filter(([, clock]) => clock <= persisted).map(([token]) => token)
    })
    victim.child.kill('SIGKILL')
    await victim.exited
    writing = false
    await loop
    console.log(`kill -9: ${round} rounds written, ${savedAtKill.length} edits saved at the kill`)
    expect(savedAtKill.length).toBeGreaterThan(0)
    // Everything acknowledged before the kill is in storage now, before any client resends.
    const stored = await storedText(schema, room)
    for (const token of savedAtKill) expect(stored).toContain(token)

    // The victim's clients move to the survivors and everybody converges.
    for (const writer of writers) {
      if (writer.on !== victim) continue
      await writer.client.closed
      const target = survivors[Math.floor(random() * survivors.length)] as ServerProcess
      writer.client = await joinRelay(target, room, clients, writer.client.doc)
      writer.on = target
    }
    write()
    const tokens = writers.flatMap((writer) => writer.edits.map(([token]) => token))
    await waitForConvergence(
      writers.map((w) => w.client),
      tokens,
    )
    const fresh = await Promise.all(survivors.map((on) => joinRelay(on, room, clients)))
    await waitForConvergence([...writers.map((w) => w.client), ...fresh], tokens)
  })

  it('converges every instance after Redis is stopped for a while and restarted', async () => {
    const seed = testSeed('redis outage')
    const random = seededRandom(seed)
    const redis = await startPrivateRedis()
    redises.push(redis)
    const schema = await freshSchema()
    const instances = await startThree(redis.url, schema)
    await Promise.all(instances.map((instance) => waitForRedisState(instance.url, 'up')))
    const room = uniqueRoom('outage')
    const group: TestRelayClient[] = []
    for (const instance of instances) {
      group.push(await joinRelay(instance, room, clients))
      group.push(await joinRelay(instance, room, clients))
    }
    const tokens: string[] = []
    const writeRound = (label: string) =>
      group.forEach((client, index) => {
        const token = `<${index}.${label}>`
        tokens.push(token)
        insertToken(client, token, random)
      })
    writeRound('before')
    await waitForConvergence(group, tokens)

    await redis.kill()
    await Promise.all(instances.map((instance) => waitForRedisState(instance.url, 'down')))
    for (let round = 0; round < 5; round++) writeRound(`down${round}`)
    // Each instance still relays among its own clients.
    for (let i = 0; i < group.length; i += 2) {
      await waitForConvergence(group.slice(i, i + 2), [])
    }

    await redis.restart()
    await Promise.all(instances.map((instance) => waitForRedisState(instance.url, 'up')))
    await waitForConvergence(group, tokens)
    writeRound('after')
    await waitForConvergence(group, tokens)
    await Promise.all(group.map(waitForSaved))
    const stored = await storedText(schema, room)
    for (const token of tokens) expect(stored).toContain(token)
  })
})
