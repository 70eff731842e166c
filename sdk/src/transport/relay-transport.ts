/**
 * The relay transport: Coedit's own y-websocket-protocol client for `/relay/<room>`, speaking the
 * Coedit extension (`hello`, `saved`) on top. Owned by one session; it must not touch the DOM
 * (the session wires `online`/`visibilitychange` to `retryNow()`).
 *
 * Why not the stock `y-websocket` provider: it cannot pass a fresh token per attempt, cannot read
 * `saved` acknowledgements, and its reconnect delay has no jitter (requirements R14, R22, R28).
 *
 * Failure policy (style.md's three kinds):
 * - A frame from the server that does not decode is untrusted input: reported as `error`, the
 *   socket is closed with 4400 and the transport reconnects — the document is untouched.
 * - Closes with a 44xx code (or 1009) cannot be fixed by retrying: the transport stops, reports
 *   the code as `error` and waits for `reconnect()`. One exception: a 4401 that ends a connection
 *   which had synced is a token that expired in use; a new attempt asks `getToken()` again.
 * - Everything else is transient: status `offline`, then a full-jitter backoff retry.
 */
import type { Awareness } from 'y-protocols/awareness'
import { applyAwarenessUpdate, encodeAwarenessUpdate } from 'y-protocols/awareness'
import * as Y from 'yjs'
import type { TokenSource } from '../auth/token-source.js'
import { createEmitter, type Listener } from '../events.js'
import { CloseCode, closeReasonOf, isPermanentClose } from '../protocol/close-codes.js'
import { CoeditError } from '../protocol/errors.js'
import {
  COEDIT_PROTOCOL_VERSION,
  COEDIT_QUERY_PARAM,
  SUBPROTOCOL,
  TOKEN_SUBPROTOCOL_PREFIX,
} from '../protocol/message-types.js'
import {
  decodeRelayFrame,
  encodeAwarenessFrame,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeSyncUpdate,
  type RelayMessage,
} from '../protocol/relay-messages.js'
import type { Backoff } from './backoff.js'
import { createSavedTracker } from './saved-tracker.js'
import type { TransportError, TransportStatus } from './transport-status.js'
import { WS_OPEN, type WebSocketConstructor, type WebSocketLike } from './websocket-like.js'

export interface RelayTransportOptions {
  /** `ws(s)://host/relay/<room>`, without a query string. */
  readonly url: string
  readonly doc: Y.Doc
  readonly awareness: Awareness
  readonly tokens: TokenSource
  readonly WebSocket: WebSocketConstructor
  readonly backoff: Backoff
  /**
   * Close and reconnect when nothing arrived for this long, in ms. The server sends at least an
   * empty awareness update every 15 s, so silence means a dead path. Default 30 000.
   */
  readonly livenessTimeoutMs?: number
}

export interface RelayTransportEvents {
  status: { status: TransportStatus; reason?: string }
  synced: { synced: boolean }
  saved: { saved: boolean }
  error: TransportError
}

export interface RelayTransport {
  readonly status: TransportStatus
  /** The server's state was received on the current connection. */
  readonly synced: boolean
  /** Every local edit is durable on the server (see saved-tracker.ts). */
  readonly saved: boolean
  on<K extends keyof RelayTransportEvents>(
    event: K,
    listener: Listener<RelayTransportEvents[K]>,
  ): () => void
  /** Skips the pending backoff delay (network came back, tab became visible). */
  retryNow(): void
  /** Connects again even after a permanent close (e.g. once the user signed in again). */
  reconnect(): void
  destroy(): void
}

const DEFAULT_LIVENESS_TIMEOUT_MS = 30_000
const NORMAL_CLOSURE = 1000

export const createRelayTransport = (options: RelayTransportOptions): RelayTransport => {
  const { doc, awareness, tokens, backoff } = options
  const livenessTimeoutMs = options.livenessTimeoutMs ?? DEFAULT_LIVENESS_TIMEOUT_MS
  const events = createEmitter<RelayTransportEvents>()
  const saved = createSavedTracker(doc)

  let status: TransportStatus = 'connecting'
  let synced = false
  let isSaved = saved.isSaved()
  let socket: WebSocketLike | undefined
  let attempt = 0
  let retryTimer: ReturnType<typeof setTimeout> | undefined
  let stopped = false
  let destroyed = false
  let lastReceived = 0

  const setStatus = (next: TransportStatus, reason?: string) => {
    if (next === status) return
    status = next
    events.emit('status', reason === undefined ? { status } : { status, reason })
  }
  const setSynced = (next: boolean) => {
    if (next === synced) return
    synced = next
    events.emit('synced', { synced })
  }
  const updateSaved = () => {
    const next = saved.isSaved()
    if (next === isSaved) return
    isSaved = next
    events.emit('saved', { saved: isSaved })
  }
  const report = (code: string, message: string) =>
    events.emit('error', { code, message, transport: 'relay' })

  const isOpen = () => socket !== undefined && socket.readyState === WS_OPEN
  const send = (frame: Uint8Array) => {
    if (isOpen()) socket?.send(frame)
  }
  const sendDocument = (frame: Uint8Array): number => {
    const index = saved.documentSent()
    send(frame)
    return index
  }
  const sendAwareness = (clients: number[]) => {
    if (clients.length > 0) send(encodeAwarenessFrame(encodeAwarenessUpdate(awareness, clients)))
  }

  const handle = (message: RelayMessage) => {
    switch (message.type) {
      case 'sync-step1':
        saved.offlineChangesSent(
          sendDocument(encodeSyncStep2(Y.encodeStateAsUpdate(doc, message.stateVector))),
        )
        break
      case 'sync-step2':
        Y.applyUpdate(doc, message.update, transport)
        setSynced(true)
        // Only a connection that got as far as syncing proves the path healthy.
        backoff.reset()
        break
      case 'sync-update':
        Y.applyUpdate(doc, message.update, transport)
        break
      case 'awareness':
        applyAwarenessUpdate(awareness, message.update, transport)
        break
      case 'query-awareness':
        sendAwareness([...awareness.getStates().keys()])
        break
      case 'auth-denied':
        report('read-only', `the server refused a write: ${message.reason}`)
        break
      case 'coedit-hello':
        if (message.major !== COEDIT_PROTOCOL_VERSION.major) {
          throw new CoeditError('upgrade-required', `server speaks coedit/${message.major}`)
        }
        break
      case 'coedit-saved':
        saved.acknowledged(message.stateVector, message.acked)
        break
    }
    updateSaved()
  }

  const onDocUpdate = (update: Uint8Array, origin: unknown) => {
    if (origin === transport) return
    if (isOpen()) sendDocument(encodeSyncUpdate(update))
    else saved.changedOffline()
    updateSaved()
  }
  const onAwarenessUpdate = (
    changes: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ) => {
    if (origin === transport) return
    sendAwareness([...changes.added, ...changes.updated, ...changes.removed])
  }

  const scheduleRetry = (reason: string) => {
    setStatus('offline', reason)
    clearTimeout(retryTimer)
    retryTimer = setTimeout(() => {
      retryTimer = undefined
      void connect()
    }, backoff.next())
  }

  const stop = (code: string, message: string) => {
    stopped = true
    setStatus('offline', code)
    report(code, message)
  }

  const onClose = (ws: WebSocketLike, code: number, wasSynced: boolean) => {
    if (socket !== ws) return
    socket = undefined
    setSynced(false)
    updateSaved()
    if (destroyed || stopped) return
    const reason = closeReasonOf(code) ?? `closed-${code}`
    if (code === CloseCode.unauthorized && wasSynced) {
      scheduleRetry('token-expired')
    } else if (isPermanentClose(code) || code === CloseCode.frameTooLarge) {
      stop(reason, `the relay closed the connection with ${code} (${reason})`)
    } else {
      scheduleRetry(reason)
    }
  }

  const open = (token: string | undefined) => {
    const url = `${options.url}?${COEDIT_QUERY_PARAM}=${COEDIT_PROTOCOL_VERSION.major}`
    // Browsers only accept a handshake whose selected subprotocol was offered: the server selects
    // `coedit`, never echoing the token.
    const protocols =
      token === undefined ? undefined : [SUBPROTOCOL, `${TOKEN_SUBPROTOCOL_PREFIX}${token}`]
    const ws = new options.WebSocket(url, protocols)
    ws.binaryType = 'arraybuffer'
    socket = ws
    let wasSynced = false
    ws.onopen = () => {
      if (socket !== ws) return
      lastReceived = performance.now()
      saved.connectionOpened()
      setStatus('connected')
      send(encodeSyncStep1(Y.encodeStateVector(doc)))
      sendAwareness([...awareness.getStates().keys()])
    }
    ws.onmessage = (event: { data: unknown }) => {
      if (socket !== ws) return
      lastReceived = performance.now()
      try {
        if (!(event.data instanceof ArrayBuffer)) {
          throw new CoeditError('bad-message', 'relay frames must be binary')
        }
        handle(decodeRelayFrame(new Uint8Array(event.data)))
        wasSynced ||= synced
      } catch (error) {
        const code = error instanceof CoeditError ? error.code : 'bad-message'
        const message = error instanceof Error ? error.message : String(error)
        if (code === 'upgrade-required') {
          stop(code, message)
          ws.close(NORMAL_CLOSURE)
          return
        }
        report(code, `dropped a frame from the relay: ${message}`)
        ws.close(CloseCode.badMessage)
        onClose(ws, CloseCode.restart, wasSynced)
      }
    }
    ws.onclose = (event: { code: number }) => onClose(ws, event.code, wasSynced)
    // An error is always followed by a close event; nothing else to do here.
    ws.onerror = () => undefined
  }

  const connect = async () => {
    if (destroyed || socket !== undefined) return
    const current = ++attempt
    setStatus('connecting')
    let token: string | undefined
    try {
      token = await tokens.fetch()
    } catch (error) {
      if (current !== attempt || destroyed) return
      report('token-failed', error instanceof Error ? error.message : String(error))
      scheduleRetry('token-failed')
      return
    }
    if (current !== attempt || destroyed || stopped) return
    try {
      open(token)
    } catch (error) {
      socket = undefined
      report('connect-failed', error instanceof Error ? error.message : String(error))
      scheduleRetry('connect-failed')
    }
  }

  const liveness = setInterval(() => {
    if (isOpen() && performance.now() - lastReceived > livenessTimeoutMs) {
      const ws = socket as WebSocketLike
      ws.close(NORMAL_CLOSURE)
      onClose(ws, CloseCode.restart, synced)
    }
  }, livenessTimeoutMs / 2)

  const transport: RelayTransport = {
    get status() {
      return status
    },
    get synced() {
      return synced
    },
    get saved() {
      return isSaved
    },
    on: (event, listener) => events.on(event, listener),
    retryNow() {
      if (retryTimer === undefined || destroyed) return
      clearTimeout(retryTimer)
      retryTimer = undefined
      void connect()
    },
    reconnect() {
      if (destroyed) return
      stopped = false
      clearTimeout(retryTimer)
      retryTimer = undefined
      void connect()
    },
    destroy() {
      if (destroyed) return
      destroyed = true
      clearTimeout(retryTimer)
      clearInterval(liveness)
      doc.off('update', onDocUpdate)
      awareness.off('update', onAwarenessUpdate)
      const ws = socket
      socket = undefined
      ws?.close(NORMAL_CLOSURE)
      setStatus('disabled')
      events.clear()
    },
  }

  doc.on('update', onDocUpdate)
  awareness.on('update', onAwarenessUpdate)
  void connect()
  return transport
}
