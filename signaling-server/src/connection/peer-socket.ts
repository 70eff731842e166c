/**
 * A WebSocket as the server sees it: sends guarded by a send-buffer cap, receives guarded by
 * rate limits, closes that carry a named code and are counted once. Both endpoints (relay and
 * signaling) use it, so limits and close bookkeeping live in one place.
 *
 * One of these exists per connection, so it is a class — methods on the prototype, plain fields
 * — rather than a bundle of closures: at 1,000 idle sockets that is the
 * difference between beating the reference server on memory per socket and not.
 */
import { CloseCode, type CloseReason } from '@coedit/sdk/protocol'
import type { Logger } from 'pino'
import type { Duplex } from 'node:stream'
import type { WebSocket } from 'ws'
import type { PreparedFrame } from './frame.js'
import type { Limits } from '../config.js'
import { TokenBucket } from '../limits/token-bucket.js'
import type { Endpoint, Metrics, Traffic } from '../metrics.js'

/** Time a closing socket gets to finish its close handshake before it is destroyed. */
const CLOSE_GRACE_MS = 2_000

let nextId = 1

export interface PeerSocketOptions {
  ws: WebSocket
  /** The upgraded TCP socket under `ws` (for prepared frames). */
  socket: Duplex
  endpoint: Endpoint
  ip: string
  limits: Limits
  metrics: Metrics
  logger: Logger
}

export class PeerSocket {
  readonly id = nextId++
  readonly endpoint: Endpoint
  readonly ip: string
  readonly ws: WebSocket
  /** `performance.now()` of the last frame sent (keepalive), pong and ping (liveness). */
  lastSentAt: number
  lastPongAt: number
  lastPingAt: number
  private readonly socket: Duplex
  private readonly limits: Limits
  private readonly metrics: Metrics
  private readonly traffic: Traffic
  private readonly logger: Logger
  private closing = false
  private readonly messages: TokenBucket
  private readonly bytes: TokenBucket

  constructor(options: PeerSocketOptions) {
    const now = performance.now()
    this.ws = options.ws
    this.socket = options.socket
    this.endpoint = options.endpoint
    this.ip = options.ip
    this.limits = options.limits
    this.metrics = options.metrics
    this.traffic = options.metrics.traffic[options.endpoint]
    this.logger = options.logger
    this.messages = new TokenBucket(options.limits.messagesPerSecond, options.limits.messageBurst)
    this.bytes = new TokenBucket(options.limits.bytesPerSecond, options.limits.byteBurst)
    this.lastSentAt = now
    this.lastPongAt = now
    this.lastPingAt = now
  }

  /** Whether the connection may still send and receive. */
  get open(): boolean {
    return !this.closing && this.ws.readyState === 1
  }

  /** Sends one frame; closes the connection as a slow consumer past the buffer cap. */
  send(frame: Uint8Array | string): void {
    if (!this.open || this.overCap(frame.length)) return
    this.ws.send(frame)
    this.lastSentAt = performance.now()
    this.traffic.messagesOut++
    this.traffic.bytesOut += frame.length
  }

  /**
   * Writes a frame prepared once for many recipients (a broadcast), with the same buffer cap.
   * Not counted in traffic: the broadcaster counts once for all recipients. `now` is the
   * broadcast's timestamp, taken once.
   */
  sendPrepared(frame: PreparedFrame, now: number): void {
    if (!this.open || this.overCap(frame.wire.length)) return
    this.socket.write(frame.wire)
    this.lastSentAt = now
  }

  /**
   * Calls `next` on a later turn, once fewer than `threshold` bytes wait in the send buffer (a
   * large answer sent in pieces goes no faster than the client reads). Never called if the
   * socket closes first.
   */
  whenDrained(threshold: number, next: () => void): void {
    if (this.ws.bufferedAmount < threshold) setImmediate(next)
    else this.socket.once('drain', () => setImmediate(next))
  }

  /** Charges one received frame against the rate limits; closes the connection if over. */
  admit(bytes: number): boolean {
    this.traffic.messagesIn++
    this.traffic.bytesIn += bytes
    if (this.messages.has(1) && this.bytes.has(bytes)) {
      this.messages.spend(1)
      this.bytes.spend(bytes)
      return true
    }
    this.metrics.drops.labels('rate-limited').inc()
    this.close('rateLimited', 'message or byte rate exceeded')
    return false
  }

  /** Closes with a named code (counted in metrics) and an optional human reason. */
  close(reason: CloseReason, detail?: string): void {
    if (this.closing) return
    this.closing = true
    this.metrics.closes.labels(reason).inc()
    this.logger.info({ conn: this.id, endpoint: this.endpoint, reason, detail }, 'closing')
    this.ws.close(CloseCode[reason], detail ?? reason)
    // A peer that never answers the close frame (or never reads) must not hold the socket.
    const ws = this.ws
    setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref()
  }

  /** Called when the socket closed, whoever closed it. */
  closed(): void {
    this.closing = true
  }

  /**
   * A laggard's buffer would otherwise grow without bound (R16): past the cap it is closed and
   * resyncs by state vector when it reconnects.
   */
  private overCap(length: number): boolean {
    if (this.ws.bufferedAmount + length <= this.limits.maxBufferedBytes) return false
    this.close('slowConsumer', 'send buffer full')
    return true
  }
}

export const createPeerSocket = (options: PeerSocketOptions): PeerSocket => new PeerSocket(options)
