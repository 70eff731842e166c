/**
 * `destroy()` releases everything (requirements: "leaves no open handles, checked in a test"):
 * after destroying sessions in every state — synced with pending presence and offline-store
 * timers, still connecting, waiting out a reconnect backoff — the process holds exactly the
 * resources (sockets, timers, …) it held before they existed, no session event fires any more, and
 * a document the application passed in carries no listener the session added.
 */
import 'fake-indexeddb/auto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { Session, SessionEvents } from '../../src/index.js'
import { metricValue } from '../../../signaling-server/test/helpers/server.js'
import { createLink } from '../helpers/flaky-link.js'
import { nodeSession, startServer, waitFor, type TestServer } from '../helpers/session.js'

const EVENTS: readonly (keyof SessionEvents)[] = ['status', 'peers', 'synced', 'saved', 'error']

/**
 * Active resources that keep the process alive, counted by kind (Timeout, TCPSocketWrap, …).
 * `Immediate` is left out: the polling loop below is made of immediates, so it sees its own.
 */
const resources = (): Record<string, number> => {
  const counts: Record<string, number> = {}
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind !== 'Immediate') counts[kind] = (counts[kind] ?? 0) + 1
  }
  return counts
}

const same = (a: Record<string, number>, b: Record<string, number>) =>
  JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort())

const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * Polls once per event-loop turn (each turn runs the I/O the closing sockets need) until
 * `done(counts)` has held, with the counts unchanged, for `stableMs`; gives up after `maxMs`.
 */
const settle = async (
  done: (counts: Record<string, number>) => boolean,
  { stableMs = 20, maxMs = 10_000 } = {},
): Promise<Record<string, number>> => {
  const deadline = performance.now() + maxMs
  let previous = resources()
  let since = performance.now()
  for (;;) {
    await turn()
    const counts = resources()
    const now = performance.now()
    if (!done(counts) || !same(counts, previous)) since = now
    previous = counts
    if (now - since >= stableMs || now > deadline) return counts
  }
}

/** Polls once per event-loop turn until `condition()` holds; false if `maxMs` passed first. */
const until = async (condition: () => Promise<boolean> | boolean, maxMs = 10_000) => {
  const deadline = performance.now() + maxMs
  while (!(await condition())) {
    if (performance.now() > deadline) return false
    await turn()
  }
  return true
}

/** Listener counts per event of a lib0 observable (`Y.Doc`, `Awareness`). */
const listeners = (observable: { _observers: Map<string, Set<unknown>> }) =>
  Object.fromEntries([...observable._observers].map(([event, set]) => [event, set.size]))

describe('destroy()', () => {
  let server: TestServer
  const connections = () => metricValue(server.server, 'coedit_connections')

  beforeAll(async () => {
    server = await startServer()
  })
  afterAll(async () => {
    await server.close()
  })

  it('leaves no open handles, fires no event and removes every listener it added', async () => {
    // Warm-up: lazy module-level state (ws, fake-indexeddb, the server's room code) settles here.
    const warmUp = nodeSession(server.url, 'warm-up', { offline: true, presenceThrottleMs: 20 })
    await Promise.all([warmUp.whenSynced(), warmUp.whenLoaded()])
    warmUp.getText('text').insert(0, 'warm')
    warmUp.setCursor({ anchor: 0, head: 1 })
    await warmUp.whenSaved()
    await warmUp.destroy()
    expect(await until(async () => (await connections()) === 0)).toBe(true)
    // Idle: no connection left, and the resource counts unchanged for a quarter of a second (the
    // server's storage worker and commit timers come and go after a save).
    const baseline = await settle(() => true, { stableMs: 250 })
    expect(baseline['TCPSocketWrap'] ?? 0, JSON.stringify(baseline)).toBe(0)

    // An application's own document: whatever the session attaches to it must come off again.
    const doc = new Y.Doc()
    const docListenersBefore = listeners(doc)
    const room = 'destroy'
    const user = { name: 'Ada', color: '#336699' }
    // Synced, with an offline copy (y-indexeddb), an undo manager and throttled presence.
    const full = nodeSession(server.url, room, { doc, offline: true, user, presenceThrottleMs: 50 })
    // Synced over the relay only.
    const plain = nodeSession(server.url, room, { presenceThrottleMs: 1_000 })
    // Stays connected until after the others are gone: it makes traffic they must not hear.
    const witness = nodeSession(server.url, room)
    // Never gets through: destroyed while waiting out its reconnect backoff.
    const link = createLink()
    link.cut()
    const unreachable = nodeSession(server.url, room, {
      WebSocket: link.WebSocket,
      reconnect: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
    })
    const neverSynced = unreachable.whenSynced().then(
      () => 'synced',
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    )

    // Events a session emitted after its destroy() resolved.
    const fired: string[] = []
    const destroyed = new Set<Session>()
    const watch = (name: string, session: Session) => {
      for (const event of EVENTS) {
        session.on(event, () => {
          if (destroyed.has(session)) fired.push(`${name}: ${event}`)
        })
      }
    }
    watch('full', full)
    watch('plain', plain)
    watch('unreachable', unreachable)

    await Promise.all([full.whenLoaded(), full.whenSynced(), plain.whenSynced()])
    await waitFor('the unreachable session is waiting to retry', [unreachable], () => {
      return link.attempts > 0 && unreachable.status.relay === 'offline'
    })
    full.undoManager(full.getText('text'))
    full.getText('text').insert(0, 'full ')
    plain.getText('text').insert(0, 'plain ')
    unreachable.getText('text').insert(0, 'unreachable ')
    await waitFor('edits reached everyone', [full, plain, witness], () =>
      [full, plain, witness].every((s) => s.getText('text').length === 'full plain '.length),
    )
    // Timers pending at destroy: presence throttles and y-indexeddb's store debounce.
    for (let i = 0; i < 3; i++) {
      full.setCursor({ anchor: i, head: i + 1 })
      plain.setCursor({ anchor: i, head: i + 1 })
    }
    full.getText('text').insert(0, '!')

    // Destroyed with its socket created but not yet open. Only microtasks run in between (the
    // token fetch), so no I/O can have opened it.
    const connectingLink = createLink()
    const connecting = nodeSession(server.url, room, {
      offline: true,
      WebSocket: connectingLink.WebSocket,
    })
    watch('connecting', connecting)
    for (let i = 0; i < 100 && connectingLink.attempts === 0; i++) await Promise.resolve()
    expect(connectingLink.attempts).toBe(1)
    expect(connecting.status.relay).toBe('connecting')

    const doomed = [full, plain, unreachable, connecting]
    await Promise.all(
      doomed.map(async (session) => {
        // Counted from the call on: destroy() itself must not emit either.
        const done = session.destroy()
        destroyed.add(session)
        await done
      }),
    )
    expect(await neverSynced).toBe('session destroyed')

    // The application's document lives on, without the session's listeners.
    expect(doc.isDestroyed).toBe(false)
    expect(listeners(doc)).toEqual(docListenersBefore)
    for (const session of doomed) {
      expect(listeners(session.awareness), 'awareness destroyed').toEqual({})
      expect(session.awareness.getLocalState()).toBeNull()
    }
    // Edits on it go nowhere (the witness must not see them), and nothing fires.
    doc.getText('text').insert(0, 'after destroy ')

    // Traffic in the room after the fact: the destroyed sessions must not hear it.
    witness.getText('text').insert(0, 'witness ')
    witness.setCursor({ anchor: 0, head: 1 })
    await witness.whenSaved()
    await waitFor('the witness sees nobody else', [witness], () => witness.peers().length === 0)
    expect(witness.getText('text').toString()).not.toContain('after destroy')
    expect(fired).toEqual([])
    await witness.destroy()

    // Back to the baseline: every socket closed (both ends live in this process), every timer gone.
    expect(await until(async () => (await connections()) === 0)).toBe(true)
    const after = await settle((counts) => same(counts, baseline))
    expect(await connections()).toBe(0)
    expect(after).toEqual(baseline)
    expect(fired).toEqual([])
  }, 30_000)

  // y-protocols' `new Awareness(doc)` registers `doc.on('destroy', …)` and its `destroy()` never
  // removes it; the session must, or a document the application passed in keeps every session's
  // Awareness alive.
  it('removes the listener its Awareness put on a document passed in', async () => {
    const doc = new Y.Doc()
    const before = listeners(doc)
    // No transport at all: the only thing that can fail here is the assertion.
    const session = nodeSession(server.url, 'destroy-doc-listeners', { doc, relay: false })
    await session.destroy()
    expect(listeners(doc)).toEqual(before)
  })
})
