/**
 * Reconnect policy of the relay transport, with fake timers and a scripted WebSocket: full-jitter
 * backoff with a cap, a fresh token per attempt, and no retry loop after a refusal.
 */
import * as prng from 'lib0/prng'
import { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createTokenSource } from '../../src/auth/token-source.js'
import { CloseCode } from '../../src/protocol/close-codes.js'
import { encodeSyncStep2 } from '../../src/protocol/relay-messages.js'
import { createBackoff } from '../../src/transport/backoff.js'
import { createRelayTransport, type RelayTransport } from '../../src/transport/relay-transport.js'
import type { WebSocketConstructor } from '../../src/transport/websocket-like.js'

/** A WebSocket whose fate the test scripts: `accept()`, `refuse(code)`, `receive(frame)`. */
class ScriptedSocket {
  static created: ScriptedSocket[] = []
  binaryType = ''
  readyState = 0
  onopen: ((event: unknown) => void) | null = null
  onmessage: ((event: { data: unknown }) => void) | null = null
  onclose: ((event: { code: number; reason: string }) => void) | null = null
  onerror: ((event: unknown) => void) | null = null
  readonly sent: Uint8Array[] = []
  constructor(
    readonly url: string,
    readonly protocols?: string | string[],
  ) {
    ScriptedSocket.created.push(this)
  }
  send(data: Uint8Array) {
    this.sent.push(data)
  }
  close() {
    this.closeWith(1000)
  }
  accept() {
    this.readyState = 1
    this.onopen?.({})
  }
  receive(frame: Uint8Array) {
    this.onmessage?.({ data: frame.slice().buffer })
  }
  closeWith(code: number) {
    if (this.readyState === 3) return
    this.readyState = 3
    this.onclose?.({ code, reason: '' })
  }
}

const last = () => {
  const socket = ScriptedSocket.created.at(-1)
  if (socket === undefined) throw new Error('no socket was created')
  return socket
}

describe('relay reconnects', () => {
  let transport: RelayTransport | undefined
  let tokenCalls = 0
  const start = (options: { random?: () => number; token?: boolean } = {}) => {
    const doc = new Y.Doc()
    transport = createRelayTransport({
      url: 'ws://relay.test/relay/room',
      doc,
      awareness: new Awareness(doc),
      tokens: createTokenSource(
        options.token === false ? undefined : () => `token-${++tokenCalls}`,
      ),
      WebSocket: ScriptedSocket as unknown as WebSocketConstructor,
      backoff: createBackoff({
        initialDelayMs: 100,
        maxDelayMs: 30_000,
        ...(options.random === undefined ? {} : { random: options.random }),
      }),
    })
    return transport
  }
  /** Lets the token promise settle so the next socket is constructed. */
  const settle = () => vi.advanceTimersByTimeAsync(0)

  beforeEach(() => {
    vi.useFakeTimers()
    ScriptedSocket.created = []
    tokenCalls = 0
  })
  afterEach(() => {
    transport?.destroy()
    vi.useRealTimers()
  })

  it('waits a full-jitter delay, growing exponentially up to the cap', () => {
    const gen = prng.create(42)
    const random = () => prng.real53(gen)
    const replay = prng.create(42)
    const backoff = createBackoff({ initialDelayMs: 100, maxDelayMs: 30_000, random })
    const delays = Array.from({ length: 20 }, () => backoff.next())
    delays.forEach((delay, attempt) => {
      const ceiling = Math.min(30_000, 100 * 2 ** attempt)
      // Exactly random × ceiling: full jitter, not "ceiling ± a bit".
      expect(delay).toBe(Math.floor(prng.real53(replay) * ceiling))
      expect(delay).toBeLessThan(ceiling)
    })
    // Past the cap the delays stay spread over [0, 30 s), not pinned at 30 s.
    const late = delays.slice(10)
    expect(Math.max(...late)).toBeLessThan(30_000)
    expect(new Set(late).size).toBe(late.length)
    expect(Math.min(...late)).toBeLessThan(Math.max(...late) / 2)
  })

  it('retries after a transient close, after the drawn delay, with a new token each time', async () => {
    const draws = [0.5, 0.25, 0.999]
    let draw = 0
    start({ random: () => draws[draw++] ?? 0.5 })
    await settle()
    expect(ScriptedSocket.created).toHaveLength(1)
    last().closeWith(1006)
    // First delay: 0.5 × 100 ms.
    await vi.advanceTimersByTimeAsync(49)
    expect(ScriptedSocket.created).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(ScriptedSocket.created).toHaveLength(2)
    last().closeWith(CloseCode.restart)
    // Second: 0.25 × 200 ms.
    await vi.advanceTimersByTimeAsync(50)
    expect(ScriptedSocket.created).toHaveLength(3)
    expect(tokenCalls).toBe(3)
    expect(ScriptedSocket.created.map((socket) => socket.protocols)).toEqual([
      ['coedit', 'coedit-token.token-1'],
      ['coedit', 'coedit-token.token-2'],
      ['coedit', 'coedit-token.token-3'],
    ])
    expect(transport?.status).toBe('connecting')
  })

  it('never waits longer than the cap, however many attempts failed', async () => {
    start({ random: () => 0.999_999 })
    await settle()
    for (let attempt = 0; attempt < 30; attempt++) {
      last().closeWith(1006)
      await vi.advanceTimersByTimeAsync(30_000)
    }
    expect(ScriptedSocket.created).toHaveLength(31)
  })

  it('retries at once when told the network is back', async () => {
    start({ random: () => 0.999 })
    await settle()
    for (let attempt = 0; attempt < 8; attempt++) {
      last().closeWith(1006)
      await vi.advanceTimersByTimeAsync(30_000)
    }
    last().closeWith(1006)
    const before = ScriptedSocket.created.length
    transport?.retryNow()
    await settle()
    expect(ScriptedSocket.created).toHaveLength(before + 1)
  })

  for (const [code, name] of [
    [CloseCode.unauthorized, 'unauthorized'],
    [CloseCode.forbidden, 'forbidden'],
    [CloseCode.upgradeRequired, 'upgradeRequired'],
  ] as const) {
    it(`stops and reports "${name}" when a connection is refused with ${code}`, async () => {
      const relay = start()
      const errors: string[] = []
      relay.on('error', ({ code: errorCode }) => errors.push(errorCode))
      await settle()
      last().accept()
      last().closeWith(code)
      expect(errors).toEqual([name])
      expect(relay.status).toBe('offline')
      // Ten minutes later: no new attempt, no new token.
      await vi.advanceTimersByTimeAsync(600_000)
      expect(ScriptedSocket.created).toHaveLength(1)
      expect(tokenCalls).toBe(1)
      // Until the application asks for it.
      relay.reconnect()
      await settle()
      expect(ScriptedSocket.created).toHaveLength(2)
      expect(tokenCalls).toBe(2)
    })
  }

  it('reconnects with a fresh token when a synced connection is closed for an expired token', async () => {
    const relay = start({ random: () => 0.5 })
    await settle()
    last().accept()
    last().receive(encodeSyncStep2(Y.encodeStateAsUpdate(new Y.Doc())))
    expect(relay.synced).toBe(true)
    last().closeWith(CloseCode.unauthorized)
    await vi.advanceTimersByTimeAsync(100)
    expect(ScriptedSocket.created).toHaveLength(2)
    expect(last().protocols).toEqual(['coedit', 'coedit-token.token-2'])
  })

  it('reports a failing getToken and retries it with backoff', async () => {
    const doc = new Y.Doc()
    let calls = 0
    const errors: string[] = []
    transport = createRelayTransport({
      url: 'ws://relay.test/relay/room',
      doc,
      awareness: new Awareness(doc),
      tokens: createTokenSource(() => {
        calls++
        throw new Error('login expired')
      }),
      WebSocket: ScriptedSocket as unknown as WebSocketConstructor,
      backoff: createBackoff({ initialDelayMs: 100, random: () => 0.5 }),
    })
    transport.on('error', ({ code }) => errors.push(code))
    await settle()
    expect(errors).toEqual(['token-failed'])
    await vi.advanceTimersByTimeAsync(50)
    expect(calls).toBe(2)
    expect(ScriptedSocket.created).toHaveLength(0)
  })

  it('closes with 4400 and reconnects when the server sends a frame it cannot decode', async () => {
    const relay = start({ token: false, random: () => 0.5 })
    const errors: string[] = []
    relay.on('error', ({ code }) => errors.push(code))
    await settle()
    last().accept()
    last().receive(new Uint8Array([0, 9, 9, 9]))
    expect(errors).toEqual(['bad-message'])
    await vi.advanceTimersByTimeAsync(50)
    expect(ScriptedSocket.created).toHaveLength(2)
  })
})
