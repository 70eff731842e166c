/**
 * A session turns a room name into a live shared document: it owns one `Y.Doc` and composes the
 * transports (WebRTC mesh and server relay, both on the same document), the offline copy,
 * presence and undo. It adds no logic of its own beyond wiring and the combined status — each
 * part lives in its own module and is released by `destroy()`.
 *
 * The same update arriving over WebRTC and the relay is harmless: Yjs applies it once and the
 * second application emits no `update` event, so nothing downstream re-fires (requirements R4).
 */
import { removeAwarenessStates, type Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { createPresence, type Cursor, type Peer, type User } from './awareness/presence.js'
import { createSessionAwareness } from './awareness/session-awareness.js'
import { createTokenSource } from './auth/token-source.js'
import { createEmitter, type Listener } from './events.js'
import {
  createOfflineStore,
  offlineStoreName,
  type OfflineStore,
} from './persistence/offline-store.js'
import { resolveOptions, type SessionOptions } from './session-options.js'
import { listenToPage } from './session-page-events.js'
import { createBackoff } from './transport/backoff.js'
import { createRelayTransport, type RelayTransport } from './transport/relay-transport.js'
import { serverUrls } from './transport/server-urls.js'
import { createSharedRelay } from './transport/shared-relay.js'
import type { TransportError, TransportStatus } from './transport/transport-status.js'
import {
  assertWebrtcRoomFree,
  createWebrtcTransport,
  type WebrtcTransport,
} from './transport/webrtc-transport.js'
import type { WebSocketConstructor } from './transport/websocket-like.js'
import { createUndoManagers, type SharedType } from './undo/undo-managers.js'

export interface SessionStatus {
  readonly relay: TransportStatus
  readonly webrtc: TransportStatus
}

export interface SessionEvents {
  /** A transport's connection state changed; `reason` names why it is not connected. */
  status: SessionStatus & { readonly transport: 'relay' | 'webrtc'; readonly reason?: string }
  peers: { readonly peers: readonly Peer[] }
  synced: { readonly synced: boolean }
  /** True only when the server's persisted state covers every local edit. */
  saved: { readonly saved: boolean }
  error: TransportError
}

export interface Session {
  readonly room: string
  readonly doc: Y.Doc
  readonly awareness: Awareness
  readonly status: SessionStatus
  /** Some transport has exchanged state with the server or a peer. */
  readonly synced: boolean
  readonly saved: boolean
  peers(): readonly Peer[]
  on<K extends keyof SessionEvents>(event: K, listener: Listener<SessionEvents[K]>): () => void
  off<K extends keyof SessionEvents>(event: K, listener: Listener<SessionEvents[K]>): void
  /** The shared text of one field (`doc.getText(field)`). */
  getText(field: string): Y.Text
  /** The per-field undo manager tracking only this user's edits (and `origins`, e.g. a binding). */
  undoManager(type: SharedType, origins?: readonly unknown[]): Y.UndoManager
  setUser(user: User): void
  setCursor(cursor: Cursor | null): void
  /** Resolves once the offline copy (if any) is applied. */
  whenLoaded(): Promise<void>
  whenSynced(): Promise<void>
  whenSaved(): Promise<void>
  /** Connects again now, including after a permanent refusal (e.g. once the user signed in). */
  reconnect(): void
  /** Releases every socket, peer, timer, listener and database handle. */
  destroy(): Promise<void>
}

export const createSession = (input: SessionOptions): Session => {
  const options = resolveOptions(input)
  const urls = serverUrls(options.server, options.room)
  // Every misuse check runs before anything connects or starts a timer.
  if (options.webrtcOptions !== undefined) assertWebrtcRoomFree(options.room)
  const doc = options.doc ?? new Y.Doc()
  const sessionAwareness = createSessionAwareness(doc)
  const { awareness } = sessionAwareness
  const tokens = createTokenSource(options.getToken)
  const events = createEmitter<SessionEvents>()
  const undo = createUndoManagers()
  const cleanups: (() => void)[] = []
  let destroyed = false

  const offline: OfflineStore | undefined = options.offlineEnabled
    ? createOfflineStore(offlineStoreName(urls.origin, options.room), doc)
    : undefined
  const loaded = (offline?.loaded ?? Promise.resolve()).catch((error: unknown) => {
    // The document still works without its offline copy; say so rather than fail.
    events.emit('error', {
      code: 'offline-store-failed',
      message: error instanceof Error ? error.message : String(error),
      transport: 'offline-store',
    })
  })

  const webrtc: WebrtcTransport | undefined =
    options.webrtcOptions === undefined
      ? undefined
      : createWebrtcTransport({
          room: options.room,
          doc,
          awareness,
          signalUrl: urls.signal,
          tokens,
          backoff: createBackoff(options.reconnect),
          ...options.webrtcOptions,
          ...(options.iceServers === undefined ? {} : { iceServers: options.iceServers }),
        })
  const createRelay = () =>
    createRelayTransport({
      url: urls.relay,
      doc,
      awareness,
      tokens,
      WebSocket: options.WebSocket ?? (WebSocket as unknown as WebSocketConstructor),
      backoff: createBackoff(options.reconnect),
      ...(options.livenessTimeoutMs === undefined
        ? {}
        : { livenessTimeoutMs: options.livenessTimeoutMs }),
    })
  const relay: RelayTransport | undefined = !options.relayEnabled
    ? undefined
    : options.tabsEnabled
      ? createSharedRelay({
          name: `coedit:${urls.origin}:${options.room}`,
          doc,
          awareness,
          createRelay,
        })
      : createRelay()

  const presence = createPresence({
    awareness,
    ...(options.user === undefined ? {} : { user: options.user }),
    ...(options.presenceThrottleMs === undefined ? {} : { throttleMs: options.presenceThrottleMs }),
    webrtcPeerId: () => webrtc?.peerId,
    webrtcConnected: () => webrtc?.connectedPeers() ?? new Set(),
  })

  const status = (): SessionStatus => ({
    relay: relay?.status ?? 'disabled',
    webrtc: webrtc?.status ?? 'disabled',
  })
  const synced = () => (relay?.synced ?? false) || (webrtc?.synced ?? false)
  const saved = () => relay?.saved ?? false
  let lastSynced = synced()

  const forwardStatus =
    (transport: 'relay' | 'webrtc') =>
    ({ reason }: { reason?: string }) =>
      events.emit('status', { ...status(), transport, ...(reason === undefined ? {} : { reason }) })
  const onSynced = () => {
    const next = synced()
    if (next === lastSynced) return
    lastSynced = next
    events.emit('synced', { synced: next })
  }
  const onError = (error: TransportError) => events.emit('error', error)

  if (relay !== undefined) {
    cleanups.push(
      relay.on('status', forwardStatus('relay')),
      relay.on('synced', onSynced),
      relay.on('saved', ({ saved: value }) => events.emit('saved', { saved: value })),
      relay.on('error', onError),
    )
  }
  if (webrtc !== undefined) {
    cleanups.push(
      webrtc.on('status', forwardStatus('webrtc')),
      webrtc.on('synced', onSynced),
      webrtc.on('error', onError),
      webrtc.on('peers', () => {
        // The y-webrtc peer id exists once the room opened: publish it with the presence state.
        presence.setField('coedit', { webrtcPeerId: webrtc.peerId })
        presence.refresh()
      }),
    )
  }
  cleanups.push(
    presence.on('peers', ({ peers }) => events.emit('peers', { peers })),
    listenToPage({
      retryNow: () => {
        relay?.retryNow()
        webrtc?.retryNow()
      },
      pageHidden: () => presence.purge(),
      pageShown: () => presence.restore(),
    }),
  )

  /** Resolves when `check()` holds, re-checking on `event`; rejects if the session is destroyed. */
  const when = (event: 'synced' | 'saved', check: () => boolean) =>
    new Promise<void>((resolve, reject) => {
      if (check()) return resolve()
      if (destroyed) return reject(new Error('session destroyed'))
      const stop = () => {
        offEvent()
        offDestroy()
      }
      const offEvent = events.on(event, () => {
        if (!check()) return
        stop()
        resolve()
      })
      const offDestroy = onDestroy(() => {
        stop()
        reject(new Error('session destroyed'))
      })
    })
  const destroyListeners = new Set<() => void>()
  const onDestroy = (listener: () => void) => {
    destroyListeners.add(listener)
    return () => destroyListeners.delete(listener)
  }

  return {
    room: options.room,
    doc,
    awareness,
    get status() {
      return status()
    },
    get synced() {
      return synced()
    },
    get saved() {
      return saved()
    },
    peers: () => presence.peers(),
    on: (event, listener) => events.on(event, listener),
    off: (event, listener) => events.off(event, listener),
    getText: (field) => doc.getText(field),
    undoManager: (type, origins) => undo.get(type, origins),
    setUser: (user) => presence.setUser(user),
    setCursor: (cursor) => presence.setCursor(cursor),
    whenLoaded: () => loaded,
    whenSynced: () => when('synced', synced),
    whenSaved: () => when('saved', saved),
    reconnect() {
      relay?.reconnect()
      webrtc?.retryNow()
    },
    async destroy() {
      if (destroyed) return
      destroyed = true
      for (const listener of destroyListeners) listener()
      // Presence first, so withdrawing our state below emits no `peers` event after destroy().
      presence.destroy()
      // Tell peers we left while the sockets are still open, so no ghost cursor stays behind.
      removeAwarenessStates(awareness, [doc.clientID], 'destroy')
      for (const cleanup of cleanups) cleanup()
      relay?.destroy()
      webrtc?.destroy()
      undo.destroy()
      sessionAwareness.destroy()
      events.clear()
      await offline?.destroy()
      if (options.doc === undefined) doc.destroy()
    },
  }
}
