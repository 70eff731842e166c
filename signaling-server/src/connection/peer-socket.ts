/**
 * A WebSocket as the server sees it: sends guarded by a send-buffer cap, receives guarded by
 * rate limits, closes that carry a named code and are counted once. Both endpoints (relay and
 * signaling) use it, so limits and close bookkeeping live in one place.
 */
import { CloseCode, type CloseReason } from '@coedit/sdk/protocol'
import type { Logger } from 'pino'
import type { Duplex } from 'node:stream'
import type { WebSocket } from 'ws'
import type { PreparedFrame } from './frame.js'
import type { Limits } from '../config.js'
import { createTokenBucket, type TokenBucket } from '../limits/token-bucket.js'
import type { Endpoint, Metrics } from '../metrics.js'

export interface PeerSocket {
  readonly id: number
  readonly endpoint: Endpoint
  readonly ip: string
  readonly ws: WebSocket
  /** Whether the connection may still send and receive. */
  readonly open: boolean
  /** `performance.now()` of the last frame sent (keepalive) and the last pong (liveness). */
  lastSentAt: number
  lastPongAt: number
  lastPingAt: number
  /** Sends one frame; closes the connection as a slow consumer past the buffer cap. */
  send(frame: Uint8Array | string): void
  /**
   * Writes a frame prepared once for many recipients (a broadcast), with the same buffer cap.
   * Not counted in metrics: the broadcaster counts once for all recipients.
   */
  sendPrepared(frame: PreparedFrame): void
  /** Charges one received frame against the rate limits; closes the connection if over. */
  admit(bytes: number): boolean
  /** Closes with a named code (counted in metrics) and an optional human reason. */
  close(reason: CloseReason, detail?: string): void
}

/** Time a closing socket gets to finish its close handshake before it is destroyed. */
const CLOSE_GRACE_MS = 2_000

let nextId = 1

export const createPeerSocket = (options: {
  ws: WebSocket
  /** The upgraded TCP socket under `ws` (for prepared frames). */
  socket: Duplex
  endpoint: Endpoint
  ip: string
  limits: Limits
  metrics: Metrics
  logger: Logger
}): PeerSocket => {
  const { ws, endpoint, limits, metrics, logger } = options
  const messages: TokenBucket = createTokenBucket(limits.messagesPerSecond, limits.messageBurst)
  const bytes: TokenBucket = createTokenBucket(limits.bytesPerSecond, limits.byteBurst)
  const messagesOut = metrics.messagesOut.labels(endpoint)
  const bytesOut = metrics.bytesOut.labels(endpoint)
  const messagesIn = metrics.messagesIn.labels(endpoint)
  const bytesIn = metrics.bytesIn.labels(endpoint)
  let open = true

  const peer: PeerSocket = {
    id: nextId++,
    endpoint,
    ip: options.ip,
    ws,
    get open() {
      return open && ws.readyState === ws.OPEN
    },
    lastSentAt: performance.now(),
    lastPongAt: performance.now(),
    lastPingAt: performance.now(),
    send(frame) {
      if (!peer.open) return
      // A laggard's buffer would otherwise grow without bound (R16): past the cap it is closed
      // and resyncs by state vector when it reconnects.
      if (ws.bufferedAmount + frame.length > limits.maxBufferedBytes) {
        peer.close('slowConsumer', 'send buffer full')
        return
      }
      ws.send(frame)
      peer.lastSentAt = performance.now()
      messagesOut.inc()
      bytesOut.inc(frame.length)
    },
    sendPrepared(frame) {
      if (!peer.open) return
      if (ws.bufferedAmount + frame.wire.length > limits.maxBufferedBytes) {
        peer.close('slowConsumer', 'send buffer full')
        return
      }
      options.socket.write(frame.wire)
      peer.lastSentAt = performance.now()
    },
    admit(size) {
      messagesIn.inc()
      bytesIn.inc(size)
      if (messages.take(1) && bytes.take(size)) return true
      metrics.drops.labels('rate-limited').inc()
      peer.close('rateLimited', 'message or byte rate exceeded')
      return false
    },
    close(reason, detail) {
      if (!open) return
      open = false
      metrics.closes.labels(reason).inc()
      logger.info({ conn: peer.id, endpoint, reason, detail }, 'closing connection')
      ws.close(CloseCode[reason], detail ?? reason)
      // A peer that never answers the close frame (or never reads) must not hold the socket.
      setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref()
    },
  }
  ws.on('pong', () => {
    peer.lastPongAt = performance.now()
  })
  ws.on('close', () => {
    open = false
  })
  return peer
}
