/**
 * Convergence property (requirements R1, R2): 2–20 sessions on a real server, each behind its own
 * flaky link that duplicates and reorders frames, make random edits while random subsets of links
 * are cut and healed and every session's clock (`Date.now`, mocked) jumps by years in both
 * directions. Once every link is healed all replicas must hold exactly every edit ever made: the
 * same text, the same state, every inserted character that no one deleted, and nothing else.
 *
 * Seeded and replayable (style.md): every random choice derives from one seed, printed in the test
 * names. Replay a failure with `PROPERTY_SEED=<seed> npx vitest run --project sdk
 * test/session/convergence.property.test.ts` (add `-t 'case 2'` for one case). The seed fixes the
 * operations, partitions, clock jumps and chaos decisions; only the OS's scheduling of the real
 * sockets can make a replay interleave differently.
 */
import * as time from 'lib0/time'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import type { Session } from '../../src/index.js'
import { createLink, type Link } from '../helpers/flaky-link.js'
import { nodeSession, startServer, texts, waitFor, type TestServer } from '../helpers/session.js'
import { createRandom } from '../helpers/random.js'

// lib0 (and so Yjs and y-protocols) keeps a reference to `Date.now` taken when it loads. Installed
// before any import runs, this forwarder makes that reference follow the `vi.spyOn` mock below.
const { realNow } = vi.hoisted(() => {
  const realNow = Date.now.bind(Date)
  const forwardingNow = (): number => (Date.now === forwardingNow ? realNow() : Date.now())
  Date.now = forwardingNow
  return { realNow }
})

const SESSION_COUNTS = [20, 2, undefined, undefined] as const
const YEAR_MS = 365 * 24 * 3600 * 1000
const FIELD = 'text'

/** An independent seed for stream `stream` of `seed` (murmur3's finaliser). */
const deriveSeed = (seed: number, stream: number): number => {
  let h = Math.imul(seed ^ Math.imul(stream + 1, 0x9e3779b9), 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

const readSeed = (): number => {
  const value = process.env['PROPERTY_SEED']
  if (value === undefined || value === '') return Math.floor(Math.random() * 2 ** 32)
  const seed = Number(value)
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) {
    throw new RangeError(`PROPERTY_SEED must be an integer in [0, 2^32), got ${value}`)
  }
  return seed
}

const SEED = readSeed()
console.log(`convergence property: PROPERTY_SEED=${SEED} replays this run`)

const int = (random: () => number, min: number, max: number) =>
  min + Math.floor(random() * (max - min + 1))

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzéß中 '
const word = (random: () => number) => {
  let text = ''
  for (let length = int(random, 1, 5); length > 0; length--) {
    text += ALPHABET[int(random, 0, ALPHABET.length - 1)]
  }
  return text
}

/** A clock jump: years ahead or behind, sometimes back to the true time (always two draws). */
const skewOf = (random: () => number) => {
  const [reset, amount] = [random(), random()]
  return reset < 0.15 ? 0 : Math.round((amount * 2 - 1) * 40 * YEAR_MS)
}

const macrotask = () => new Promise<void>((resolve) => setImmediate(resolve))

/** `client:clock` of every character of `text` that is not deleted. */
const liveCharacters = (text: Y.Text): Set<string> => {
  const ids = new Set<string>()
  for (let item = text._start; item !== null; item = item.right) {
    if (item.deleted || !item.countable) continue
    for (let offset = 0; offset < item.length; offset++) {
      ids.add(`${item.id.client}:${item.id.clock + offset}`)
    }
  }
  return ids
}

/** From the updates the sessions made themselves: every character inserted and not deleted. */
const expectedCharacters = (localUpdates: readonly Uint8Array[]): Set<string> => {
  const inserted = new Set<string>()
  const deleted = new Set<string>()
  for (const update of localUpdates) {
    const { structs, ds } = Y.decodeUpdate(update)
    for (const struct of structs) {
      if (!(struct instanceof Y.Item)) continue
      for (let offset = 0; offset < struct.length; offset++) {
        inserted.add(`${struct.id.client}:${struct.id.clock + offset}`)
      }
    }
    for (const [client, ranges] of ds.clients) {
      for (const { clock, len } of ranges) {
        for (let offset = 0; offset < len; offset++) deleted.add(`${client}:${clock + offset}`)
      }
    }
  }
  return new Set([...inserted].filter((id) => !deleted.has(id)))
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b))

interface PropertyCase {
  readonly index: number
  readonly seed: number
  readonly sessions: number
}

const cases: PropertyCase[] = SESSION_COUNTS.map((fixed, index) => {
  const seed = deriveSeed(SEED, index)
  const sessions = fixed ?? int(createRandom(seed), 2, 20)
  return { index, seed, sessions }
})

describe(`convergence under chaos (PROPERTY_SEED=${SEED})`, () => {
  let server: TestServer
  const sessions: Session[] = []

  beforeEach(async () => {
    server = await startServer()
  })
  afterEach(async () => {
    vi.restoreAllMocks()
    await Promise.all(sessions.splice(0).map((session) => session.destroy()))
    await server.close()
  })

  for (const { index, seed, sessions: count } of cases) {
    it(`case ${index}: ${count} sessions converge to every edit made`, async () => {
      const replay = `replay: PROPERTY_SEED=${SEED} (case ${index}, seed ${seed})`
      const random = createRandom(deriveSeed(seed, 1))
      const room = `convergence-${SEED}-${index}`

      // Every session's own clock; `Date.now` answers with the one of the session acting now.
      const skews = Array.from({ length: count }, () => skewOf(random))
      let skew = 0
      const now = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + skew)

      const links: Link[] = []
      const localUpdates: Uint8Array[] = []
      const reference = new Y.Doc()
      for (let i = 0; i < count; i++) {
        const link = createLink({
          duplicate: 0.1 + random() * 0.2,
          reorder: 0.1 + random() * 0.2,
          random: createRandom(deriveSeed(seed, 100 + i)),
        })
        const session = nodeSession(server.url, room, { WebSocket: link.WebSocket })
        // Origin null: an edit made by this test, not one a transport applied.
        session.doc.on('update', (update: Uint8Array, origin: unknown) => {
          if (origin !== null) return
          localUpdates.push(update)
          Y.applyUpdate(reference, update)
        })
        links.push(link)
        sessions.push(session)
      }

      // Edits start at once, racing the initial handshakes (R6). Each step draws the same number
      // of random values whatever the documents look like, so the seed fixes the whole sequence.
      const steps = 80 + 10 * count
      for (let step = 0; step < steps; step++) {
        const actor = int(random, 0, count - 1)
        const action = random()
        const [a, b, c] = [random(), random(), random()]
        const [jump, next, back] = [random(), skewOf(random), random()]
        // The clock jumps by years, or creeps backwards by up to a minute.
        skews[actor] = jump < 0.3 ? next : (skews[actor] ?? 0) - Math.floor(back * 60_000)
        skew = skews[actor] ?? 0
        const text = (sessions[actor] as Session).getText(FIELD)
        if (action < 0.5) {
          text.insert(Math.floor(a * (text.length + 1)), word(createRandom(deriveSeed(seed, step))))
        } else if (action < 0.75) {
          if (text.length > 0) {
            const start = Math.floor(a * text.length)
            text.delete(start, 1 + Math.floor(b * Math.min(6, text.length - start)))
          }
        } else if (action < 0.82) {
          for (const link of links) if (random() < 0.3) link.cut()
        } else if (action < 0.9) {
          for (const link of links) if (random() < 0.5) link.heal()
        } else {
          // Let the network run for a while: several tasks without edits.
          for (let turn = Math.floor(c * 8); turn > 0; turn--) await macrotask()
        }
        await macrotask()
      }

      for (const link of links) link.heal()
      const converged = () => {
        if (!sessions.every((session) => session.synced)) return false
        const stateVector = Y.encodeStateVector(reference)
        const snapshot = Y.snapshot(reference)
        return sessions.every(
          (session) =>
            sameBytes(Y.encodeStateVector(session.doc), stateVector) &&
            Y.equalSnapshots(Y.snapshot(session.doc), snapshot),
        )
      }
      // Event-driven wait; if it times out, the assertions below say what differs.
      await waitFor(
        `all ${count} sessions hold every edit (${replay})`,
        sessions,
        converged,
        15_000,
      ).catch((error: unknown) => console.error(error))

      // The skewed clocks were in force where the libraries read the time.
      expect(now).toHaveBeenCalled()
      skew = 7 * YEAR_MS
      expect(Math.abs(time.getUnixTime() - realNow() - 7 * YEAR_MS)).toBeLessThan(60_000)

      const expected = expectedCharacters(localUpdates)
      const referenceText = reference.getText(FIELD).toString()
      expect(
        sessions.map((session) => session.synced),
        replay,
      ).toEqual(sessions.map(() => true))
      expect(texts(sessions, FIELD), replay).toEqual(sessions.map(() => referenceText))
      for (const session of sessions) {
        expect(liveCharacters(session.getText(FIELD)), replay).toEqual(expected)
      }
      expect(converged(), `every replica's state equals the union of all edits (${replay})`).toBe(
        true,
      )

      // The server holds the same document: a newcomer gets it from the server alone.
      const newcomer = nodeSession(server.url, room)
      sessions.push(newcomer)
      await newcomer.whenSynced()
      expect(newcomer.getText(FIELD).toString(), replay).toBe(referenceText)
      expect(Y.equalSnapshots(Y.snapshot(newcomer.doc), Y.snapshot(reference)), replay).toBe(true)
    }, 60_000)
  }
})

describe('clock independence (R1)', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  /**
   * A seeded run of plain Y.Docs with fixed client ids exchanging updates over an in-memory
   * network that partitions, reorders and duplicates; returns each replica's encoded state.
   * With `clock`, `Date.now` answers `clock()` and moves on after every operation.
   */
  const simulate = (seed: number, clock?: () => number): Uint8Array[] => {
    const random = createRandom(seed)
    let time = 0
    const tick = () => {
      if (clock !== undefined) time = clock()
    }
    vi.restoreAllMocks()
    if (clock !== undefined) vi.spyOn(Date, 'now').mockImplementation(() => time)
    tick()

    const count = 6
    const docs = Array.from({ length: count }, (_, i) => {
      const doc = new Y.Doc()
      doc.clientID = 1000 + i
      return doc
    })
    const inFlight: { from: number; to: number; update: Uint8Array }[] = []
    const partitioned = new Set<number>()
    docs.forEach((doc, from) => {
      doc.on('update', (update: Uint8Array, origin: unknown) => {
        if (origin === 'network') return
        for (let to = 0; to < count; to++) if (to !== from) inFlight.push({ from, to, update })
      })
    })
    const deliver = (index: number) => {
      const [message] = inFlight.splice(index, 1)
      if (message === undefined) return
      Y.applyUpdate(docs[message.to] as Y.Doc, message.update, 'network')
      // Duplicated: the same update will arrive again, later.
      if (random() < 0.2) inFlight.push(message)
    }
    for (let step = 0; step < 400; step++) {
      const actor = int(random, 0, count - 1)
      const text = (docs[actor] as Y.Doc).getText(FIELD)
      const [action, a, b] = [random(), random(), random()]
      if (action < 0.45) {
        text.insert(Math.floor(a * (text.length + 1)), word(createRandom(deriveSeed(seed, step))))
      } else if (action < 0.65) {
        if (text.length > 0) {
          const start = Math.floor(a * text.length)
          text.delete(start, 1 + Math.floor(b * Math.min(6, text.length - start)))
        }
      } else if (action < 0.7) {
        partitioned.add(actor)
      } else if (action < 0.75) {
        partitioned.delete(actor)
      } else {
        // Any message in flight, not only the oldest: delivery order is random.
        const index = Math.floor(a * inFlight.length)
        const message = inFlight[index]
        if (
          message !== undefined &&
          !partitioned.has(message.from) &&
          !partitioned.has(message.to)
        ) {
          deliver(index)
        }
      }
      tick()
    }
    while (inFlight.length > 0) deliver(Math.floor(random() * inFlight.length))

    const [first, ...others] = docs as [Y.Doc, ...Y.Doc[]]
    for (const doc of others) {
      expect(doc.getText(FIELD).toString()).toBe(first.getText(FIELD).toString())
      expect(Y.equalSnapshots(Y.snapshot(doc), Y.snapshot(first))).toBe(true)
    }
    expect(first.getText(FIELD).length).toBeGreaterThan(0)
    return docs.map((doc) => Y.encodeStateAsUpdate(doc))
  }

  it.each([0, 1, 2].map((index) => ({ seed: deriveSeed(SEED, 1000 + index) })))(
    'skewed clocks produce byte-identical replicas (seed $seed)',
    ({ seed }) => {
      const clockRandom = createRandom(deriveSeed(seed, 1))
      const unskewed = simulate(seed)
      // ±60 years, a different jump after every operation.
      const wild = simulate(
        seed,
        () => realNow() + Math.round((clockRandom() * 2 - 1) * 60 * YEAR_MS),
      )
      const frozen = simulate(seed, () => 0)
      // Always running backwards, by up to a year per operation.
      let past = realNow()
      const backwards = simulate(seed, () => (past -= Math.floor(clockRandom() * YEAR_MS)))
      for (const run of [wild, frozen, backwards]) {
        expect(run.length).toBe(unskewed.length)
        run.forEach((update, i) => expect(sameBytes(update, unskewed[i] as Uint8Array)).toBe(true))
      }
    },
  )
})
