/**
 * What `createSession` accepts, with defaults and units. Misuse (a missing room, a relative
 * server URL, no WebSocket implementation in Node) throws at once with a message naming the fix.
 */
import type * as Y from 'yjs'
import { readUser, USER_MISUSE, type User } from './awareness/presence.js'
import type { GetToken } from './auth/token-source.js'
import type { BackoffOptions } from './transport/backoff.js'
import { canShareRelay } from './transport/shared-relay.js'
import type { WebSocketConstructor } from './transport/websocket-like.js'
import { CoeditError } from './protocol/errors.js'

export interface WebrtcOptions {
  /** Room password: end-to-end encrypts signaling (the server sees only ciphertext). */
  readonly password?: string
  /** Maximum direct peers; default y-webrtc's 20–34 (randomised to avoid clusters). */
  readonly maxConns?: number
}

export interface SessionOptions {
  /** The Coedit server's base URL, e.g. `http://localhost:8787`. Relay and signaling derive from it. */
  readonly server: string
  /** Room name: one shared document per room. */
  readonly room: string
  /**
   * Returns a fresh access token (a JWT for this room) when the server requires auth. Called
   * for every connection attempt; the SDK never stores the result.
   */
  readonly getToken?: GetToken
  /** Name and colour shown to others. */
  readonly user?: User
  /**
   * Direct peer-to-peer connections through y-webrtc. Default: on where the runtime has
   * `RTCPeerConnection` (browsers). `false` for networks that block UDP (relay only).
   */
  readonly webrtc?: boolean | WebrtcOptions
  /** The server relay (durability, "saved", peers WebRTC cannot reach). Default true. */
  readonly relay?: boolean
  /**
   * Share one relay connection among this browser's tabs on the room (Web Locks elect the tab
   * that connects; the others sync with it over a BroadcastChannel). Default: on where both APIs
   * exist (browsers).
   */
  readonly tabs?: boolean
  /** Keep an IndexedDB copy for offline use and reloads. Default: on where IndexedDB exists. */
  readonly offline?: boolean
  /** ICE servers for WebRTC, passed through to RTCPeerConnection. */
  readonly iceServers?: readonly RTCIceServer[]
  /** Use this document instead of a new one. */
  readonly doc?: Y.Doc
  /** WebSocket implementation; default the global one. In Node pass `WebSocket` from `ws`. */
  readonly WebSocket?: WebSocketConstructor
  /** Reconnect backoff (full jitter). Defaults: 500 ms first ceiling, 30 s cap. */
  readonly reconnect?: BackoffOptions
  /** Minimum interval between two presence updates, in ms. Default 100 (10 Hz). */
  readonly presenceThrottleMs?: number
  /** Reconnect the relay when nothing arrived for this long, in ms. Default 30 000. */
  readonly livenessTimeoutMs?: number
}

export interface ResolvedOptions extends SessionOptions {
  readonly webrtcOptions: WebrtcOptions | undefined
  readonly relayEnabled: boolean
  readonly offlineEnabled: boolean
  readonly tabsEnabled: boolean
}

export const resolveOptions = (options: SessionOptions): ResolvedOptions => {
  if (typeof options.room !== 'string' || options.room.length === 0) {
    throw new CoeditError('misuse', 'createSession needs a non-empty `room` name')
  }
  // Checked before anything connects, so a rejected option leaves nothing running.
  if (options.user !== undefined && readUser(options.user) === undefined) {
    throw new CoeditError('misuse', USER_MISUSE)
  }
  const hasRtc = typeof RTCPeerConnection !== 'undefined'
  const webrtcOptions =
    options.webrtc === false || (options.webrtc === undefined && !hasRtc)
      ? undefined
      : options.webrtc === true || options.webrtc === undefined
        ? {}
        : options.webrtc
  if (webrtcOptions !== undefined && !hasRtc) {
    throw new CoeditError(
      'misuse',
      'webrtc needs RTCPeerConnection (a browser); pass `webrtc: false` here',
    )
  }
  const relayEnabled = options.relay !== false
  if (relayEnabled && options.WebSocket === undefined && typeof WebSocket === 'undefined') {
    throw new CoeditError(
      'misuse',
      "no global WebSocket: pass `WebSocket` (e.g. from 'ws') to createSession",
    )
  }
  const hasIndexedDb = typeof indexedDB !== 'undefined'
  if (options.offline === true && !hasIndexedDb) {
    throw new CoeditError('misuse', 'offline needs IndexedDB; pass `offline: false` here')
  }
  if (options.tabs === true && !canShareRelay()) {
    throw new CoeditError(
      'misuse',
      'tabs needs BroadcastChannel and navigator.locks; pass `tabs: false` here',
    )
  }
  return {
    ...options,
    tabsEnabled: relayEnabled && (options.tabs ?? canShareRelay()),
    webrtcOptions,
    relayEnabled,
    offlineEnabled: options.offline ?? hasIndexedDb,
  }
}
