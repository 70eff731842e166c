/**
 * The WebRTC transport: a stock `y-webrtc` provider (wire-compatible with stock peers), signaling
 * through the Coedit server's `/signal`, with the parts y-webrtc leaves to its users done here:
 * a fresh token per signaling connection, no hot reconnect loop on refused tokens, and a view of
 * which peers are actually connected.
 *
 * y-webrtc keeps module-level maps of rooms and signaling connections. Two providers for one room
 * in one page make it throw inside a promise (an unhandled rejection); `claimRoom` turns that into
 * a clear error up front. Its signaling client (lib0/websocket) reconnects on its own; we only take
 * over after a connection that had opened is closed, because that is where a refused or expired
 * token would otherwise reconnect at once, forever (lib0 retries with no delay after a disconnect).
 */
import type { Awareness } from 'y-protocols/awareness'
import { WebrtcProvider } from 'y-webrtc'
import type * as Y from 'yjs'
import type { TokenSource } from '../auth/token-source.js'
import { createEmitter, type Listener } from '../events.js'
import { CloseCode, closeReasonOf, isPermanentClose } from '../protocol/close-codes.js'
import { TOKEN_QUERY_PARAM } from '../protocol/message-types.js'
import type { Backoff } from './backoff.js'
import type { TransportError, TransportStatus } from './transport-status.js'
import { CoeditError } from '../protocol/errors.js'

export interface WebrtcTransportOptions {
  readonly room: string
  readonly doc: Y.Doc
  readonly awareness: Awareness
  /** `ws(s)://host/signal`, without a query string. */
  readonly signalUrl: string
  readonly tokens: TokenSource
  readonly backoff: Backoff
  /** Room password: encrypts signaling and BroadcastChannel traffic end to end (AES-GCM). */
  readonly password?: string
  /** Passed to RTCPeerConnection; simple-peer's public STUN defaults apply when omitted. */
  readonly iceServers?: readonly RTCIceServer[]
  /** Mesh size cap; beyond it peers rely on the relay (requirements R19). */
  readonly maxConns?: number
}

export interface WebrtcTransportEvents {
  status: { status: TransportStatus; reason?: string }
  /** The set of y-webrtc peer ids with an open data channel changed. */
  peers: { connected: readonly string[] }
  synced: { synced: boolean }
  error: TransportError
}

export interface WebrtcTransport {
  readonly status: TransportStatus
  /** This session's y-webrtc peer id, once the room is open. Shared via awareness. */
  readonly peerId: string | undefined
  /** y-webrtc peer ids with an open data channel. */
  connectedPeers(): ReadonlySet<string>
  readonly synced: boolean
  on<K extends keyof WebrtcTransportEvents>(
    event: K,
    listener: Listener<WebrtcTransportEvents[K]>,
  ): () => void
  retryNow(): void
  destroy(): void
}

/** Rooms with a live y-webrtc provider in this page: mirrors y-webrtc's own module-level map. */
const claimedRooms = new Set<string>()

interface SignalingConnLike {
  url: string
  connected: boolean
  shouldConnect: boolean
  ws: { addEventListener(type: 'close', listener: (event: { code: number }) => void): void } | null
  on(event: 'connect' | 'disconnect', listener: () => void): void
  off(event: 'connect' | 'disconnect', listener: () => void): void
  connect(): void
}

interface SimplePeerLike {
  on(event: 'connect' | 'close', listener: () => void): void
}

/** Throws (misuse) when this page already has a WebRTC session for `room`. */
export const assertWebrtcRoomFree = (room: string): void => {
  if (claimedRooms.has(room)) {
    throw new CoeditError(
      'misuse',
      `room "${room}" already has a WebRTC session in this page: destroy it first, or share one session`,
    )
  }
}

const withToken = (url: string, token: string | undefined) =>
  token === undefined ? url : `${url}?${TOKEN_QUERY_PARAM}=${encodeURIComponent(token)}`

export const createWebrtcTransport = (options: WebrtcTransportOptions): WebrtcTransport => {
  const { room, doc, awareness, tokens, backoff } = options
  assertWebrtcRoomFree(room)
  claimedRooms.add(room)
  const events = createEmitter<WebrtcTransportEvents>()
  let status: TransportStatus = 'connecting'
  let synced = false
  let provider: WebrtcProvider | undefined
  let destroyed = false
  let retryTimer: ReturnType<typeof setTimeout> | undefined
  const connected = new Set<string>()
  const cleanups: (() => void)[] = []

  const setStatus = (next: TransportStatus, reason?: string) => {
    if (next === status) return
    status = next
    events.emit('status', reason === undefined ? { status } : { status, reason })
  }
  const report = (code: string, message: string) =>
    events.emit('error', { code, message, transport: 'webrtc' })
  const signalingConns = () => (provider?.signalingConns ?? []) as SignalingConnLike[]
  const refreshStatus = () => {
    const anySignaling = signalingConns().some((conn) => conn.connected)
    if (anySignaling || connected.size > 0) setStatus('connected')
    else if (status === 'connected') setStatus('offline', 'signaling-lost')
  }

  const scheduleReconnect = (conn: SignalingConnLike, reason: string) => {
    setStatus(connected.size > 0 ? 'connected' : 'offline', reason)
    clearTimeout(retryTimer)
    retryTimer = setTimeout(() => {
      retryTimer = undefined
      void tokens.fetch().then(
        (token) => {
          if (destroyed) return
          conn.url = withToken(options.signalUrl, token)
          conn.connect()
        },
        (error: unknown) => {
          if (destroyed) return
          report('token-failed', error instanceof Error ? error.message : String(error))
          scheduleReconnect(conn, 'token-failed')
        },
      )
    }, backoff.next())
  }

  const watchSignaling = (conn: SignalingConnLike) => {
    const onConnect = () => {
      backoff.reset()
      refreshStatus()
      // Read the close code lib0 does not pass on. Our listener runs after lib0's own `onclose`,
      // which has already queued an immediate reconnect; clearing `shouldConnect` cancels it.
      conn.ws?.addEventListener('close', ({ code }) => {
        if (destroyed) return
        conn.shouldConnect = false
        const reason = closeReasonOf(code) ?? `closed-${code}`
        if (isPermanentClose(code) && code !== CloseCode.unauthorized) {
          setStatus(connected.size > 0 ? 'connected' : 'offline', reason)
          report(reason, `signaling closed with ${code} (${reason})`)
          return
        }
        // 4401 on a connection that was accepted: the token expired in use. Ask for a new one.
        scheduleReconnect(conn, reason)
      })
    }
    const onDisconnect = () => refreshStatus()
    conn.on('connect', onConnect)
    conn.on('disconnect', onDisconnect)
    cleanups.push(() => {
      conn.off('connect', onConnect)
      conn.off('disconnect', onDisconnect)
    })
  }

  const onPeers = ({ added, removed }: { added: string[]; removed: string[] }) => {
    const conns = provider?.room?.webrtcConns
    for (const id of added) {
      const peer = conns?.get(id)?.peer as SimplePeerLike | undefined
      peer?.on('connect', () => {
        if (destroyed) return
        connected.add(id)
        events.emit('peers', { connected: [...connected] })
        refreshStatus()
      })
    }
    let changed = false
    for (const id of removed) changed = connected.delete(id) || changed
    if (changed) {
      events.emit('peers', { connected: [...connected] })
      refreshStatus()
    }
  }
  const onSynced = ({ synced: next }: { synced: boolean }) => {
    synced = next
    events.emit('synced', { synced })
  }

  const start = async () => {
    let token: string | undefined
    try {
      token = await tokens.fetch()
    } catch (error) {
      if (destroyed) return
      report('token-failed', error instanceof Error ? error.message : String(error))
      setStatus('offline', 'token-failed')
      retryTimer = setTimeout(() => void start(), backoff.next())
      return
    }
    if (destroyed) return
    const peerOpts =
      options.iceServers === undefined ? {} : { config: { iceServers: [...options.iceServers] } }
    provider = new WebrtcProvider(room, doc, {
      signaling: [withToken(options.signalUrl, token)],
      awareness,
      peerOpts,
      ...(options.password === undefined ? {} : { password: options.password }),
      ...(options.maxConns === undefined ? {} : { maxConns: options.maxConns }),
    })
    provider.on('peers', onPeers)
    provider.on('synced', onSynced)
    for (const conn of signalingConns()) watchSignaling(conn)
  }

  void start()

  return {
    get status() {
      return status
    },
    get peerId() {
      return provider?.room?.peerId
    },
    get synced() {
      return synced
    },
    connectedPeers: () => connected,
    on: (event, listener) => events.on(event, listener),
    retryNow() {
      if (retryTimer === undefined || destroyed) return
      clearTimeout(retryTimer)
      retryTimer = undefined
      // Whichever step was waiting (first token or a reconnect) runs again now.
      if (provider === undefined) void start()
      else for (const conn of signalingConns()) if (!conn.connected) conn.connect()
    },
    destroy() {
      if (destroyed) return
      destroyed = true
      clearTimeout(retryTimer)
      for (const cleanup of cleanups) cleanup()
      if (provider !== undefined) {
        provider.off('peers', onPeers)
        provider.off('synced', onSynced)
        provider.destroy()
      }
      claimedRooms.delete(room)
      setStatus('disabled')
      events.clear()
    },
  }
}
