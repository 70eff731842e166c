/**
 * A network link between one session and the server that a test controls: it can be cut (open
 * sockets die as if the cable were pulled, new ones fail until `heal()`), and it can duplicate and
 * reorder frames in both directions with a seeded random source. The session gets the link's
 * `WebSocket` constructor; underneath are real `ws` sockets to a real server.
 */
import WebSocket from 'ws'
import type { WebSocketConstructor, WebSocketLike } from '../../src/index.js'

export interface LinkChaos {
  /** Probability that a frame is delivered twice. */
  readonly duplicate: number
  /** Probability that a frame is held back and delivered after the next one. */
  readonly reorder: number
  readonly random: () => number
}

export interface Link {
  readonly WebSocket: WebSocketConstructor
  /** Connection attempts made through this link (including refused ones). */
  readonly attempts: number
  readonly isCut: boolean
  cut(): void
  heal(): void
}

const ABNORMAL_CLOSURE = 1006

export const createLink = (chaos?: LinkChaos): Link => {
  const live = new Set<FlakySocket>()
  let cut = false
  let attempts = 0

  /** Delivers frames with the link's chaos: maybe twice, maybe after the next one. */
  const shuffler = (deliver: (data: ArrayBuffer | Buffer) => void) => {
    let held: (ArrayBuffer | Buffer)[] = []
    let flushTimer: ReturnType<typeof setTimeout> | undefined
    const flushHeld = () => {
      clearTimeout(flushTimer)
      flushTimer = undefined
      const frames = held
      held = []
      for (const frame of frames) deliver(frame)
    }
    return {
      push(data: ArrayBuffer | Buffer) {
        if (chaos !== undefined && chaos.random() < chaos.reorder) {
          held.push(data)
          // Held frames go out after the next frame, or shortly if none comes.
          flushTimer ??= setTimeout(flushHeld, 5)
          return
        }
        deliver(data)
        if (chaos !== undefined && chaos.random() < chaos.duplicate) deliver(data)
        flushHeld()
      },
      drop() {
        clearTimeout(flushTimer)
        held = []
      },
    }
  }

  class FlakySocket implements WebSocketLike {
    binaryType = 'arraybuffer'
    readyState: number = WebSocket.CONNECTING
    onopen: ((event: unknown) => void) | null = null
    onmessage: ((event: { data: unknown }) => void) | null = null
    onclose: ((event: { code: number; reason: string }) => void) | null = null
    onerror: ((event: unknown) => void) | null = null
    readonly #inner: WebSocket | undefined
    readonly #incoming = shuffler((data) => this.onmessage?.({ data }))
    readonly #outgoing = shuffler((data) => this.#inner?.send(data))

    constructor(url: string, protocols?: string | string[]) {
      attempts++
      if (cut) {
        setTimeout(() => this.die(), 0)
        return
      }
      const inner = new WebSocket(url, protocols)
      inner.binaryType = 'arraybuffer'
      this.#inner = inner
      live.add(this)
      inner.onopen = () => {
        this.readyState = WebSocket.OPEN
        this.onopen?.({})
      }
      inner.onmessage = (event) => this.#incoming.push(event.data as ArrayBuffer)
      inner.onerror = () => undefined
      inner.onclose = (event) => {
        if (this.readyState === WebSocket.CLOSED) return
        this.readyState = WebSocket.CLOSED
        live.delete(this)
        this.#incoming.drop()
        this.onclose?.({ code: event.code, reason: event.reason })
      }
    }

    send(data: Uint8Array) {
      if (this.readyState === WebSocket.OPEN) this.#outgoing.push(Buffer.from(data))
    }

    close(code?: number, reason?: string) {
      this.#inner?.close(code, reason)
    }

    /** The link failed under this socket: the peer hears nothing more, we see 1006. */
    die() {
      if (this.readyState === WebSocket.CLOSED) return
      this.readyState = WebSocket.CLOSED
      live.delete(this)
      this.#incoming.drop()
      this.#outgoing.drop()
      this.#inner?.terminate()
      this.onerror?.({})
      this.onclose?.({ code: ABNORMAL_CLOSURE, reason: '' })
    }
  }

  return {
    WebSocket: FlakySocket as unknown as WebSocketConstructor,
    get attempts() {
      return attempts
    },
    get isCut() {
      return cut
    },
    cut() {
      cut = true
      for (const socket of [...live]) socket.die()
    },
    heal() {
      cut = false
    },
  }
}
