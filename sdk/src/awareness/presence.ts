/**
 * Presence: this user's name, colour and cursor in y-protocols awareness, using y-quill's field
 * names (`user: { name, color }`, `cursor: { anchor, head }`) so stock y-quill peers understand
 * it, and the typed list of who else is here.
 *
 * Local changes are throttled (requirements R18: ≤ 10–20 Hz) — a cursor moving on every key must
 * not flood peers — and never touch the document. Remote states are untrusted: only well-formed
 * names and colours reach the peer list (a colour ends up in CSS).
 */
import type { Awareness } from 'y-protocols/awareness'
import { removeAwarenessStates } from 'y-protocols/awareness'
import { createEmitter, type Listener } from '../events.js'
import type { TransportKind } from '../transport/transport-status.js'
import { CoeditError } from '../protocol/errors.js'

export interface User {
  readonly name: string
  /** A CSS colour: `#rgb`, `#rrggbb` or `#rrggbbaa`. */
  readonly color: string
}

/** A y-quill cursor: Yjs relative positions, JSON-encoded. */
export interface Cursor {
  readonly anchor: unknown
  readonly head: unknown
}

export interface Peer {
  /** The peer's awareness (Yjs) client id. */
  readonly clientId: number
  readonly user: User | undefined
  readonly cursor: Cursor | undefined
  /** The path this peer's edits take: a direct data channel or the relay. */
  readonly transport: TransportKind
}

export interface PresenceEvents {
  peers: { peers: readonly Peer[] }
}

export interface Presence {
  setUser(user: User): void
  setCursor(cursor: Cursor | null): void
  /** Sets any other field of the local state (throttled like the cursor). */
  setField(name: string, value: unknown): void
  peers(): readonly Peer[]
  /** Withdraws the local state at once (`pagehide`); `restore()` brings it back. */
  purge(): void
  restore(): void
  /** Recompute the peer list (e.g. a WebRTC data channel opened or closed). */
  refresh(): void
  on<K extends keyof PresenceEvents>(event: K, listener: Listener<PresenceEvents[K]>): () => void
  destroy(): void
}

export interface PresenceOptions {
  readonly awareness: Awareness
  readonly user?: User
  /** Minimum interval between two local awareness updates, in ms. Default 100 (10 Hz). */
  readonly throttleMs?: number
  /** This session's y-webrtc peer id, published so peers can tell which path they share. */
  readonly webrtcPeerId: () => string | undefined
  /** y-webrtc peer ids with an open data channel. */
  readonly webrtcConnected: () => ReadonlySet<string>
}

export const USER_MISUSE = 'user must be { name: string, color: "#rgb" | "#rrggbb" | "#rrggbbaa" }'
const COLOR = /^#(?:[0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/i
const MAX_NAME_LENGTH = 64

/** The user if well-formed (a remote state is untrusted), else undefined. */
export const readUser = (value: unknown): User | undefined => {
  if (typeof value !== 'object' || value === null) return undefined
  const { name, color } = value as Record<string, unknown>
  if (typeof name !== 'string' || typeof color !== 'string' || !COLOR.test(color)) return undefined
  return { name: name.slice(0, MAX_NAME_LENGTH), color }
}

const readCursor = (value: unknown): Cursor | undefined => {
  if (typeof value !== 'object' || value === null) return undefined
  const { anchor, head } = value as Record<string, unknown>
  return anchor === undefined || head === undefined ? undefined : { anchor, head }
}

const readWebrtcPeerId = (state: Record<string, unknown>): string | undefined => {
  const coedit = state['coedit']
  if (typeof coedit !== 'object' || coedit === null) return undefined
  const id = (coedit as Record<string, unknown>)['webrtcPeerId']
  return typeof id === 'string' ? id : undefined
}

export const createPresence = (options: PresenceOptions): Presence => {
  const { awareness } = options
  const throttleMs = options.throttleMs ?? 100
  const events = createEmitter<PresenceEvents>()
  let local: Record<string, unknown> = {}
  let pending: Record<string, unknown> = {}
  let lastFlush = -Infinity
  let timer: ReturnType<typeof setTimeout> | undefined
  let purged = false
  let destroyed = false
  let peers: readonly Peer[] = []

  const flush = () => {
    timer = undefined
    lastFlush = performance.now()
    local = { ...local, ...pending }
    pending = {}
    const peerId = options.webrtcPeerId()
    if (peerId !== undefined) local['coedit'] = { webrtcPeerId: peerId }
    if (!purged) awareness.setLocalState(local)
  }
  const schedule = () => {
    if (timer !== undefined) return
    const wait = lastFlush + throttleMs - performance.now()
    if (wait <= 0) flush()
    else timer = setTimeout(flush, wait)
  }
  const set = (name: string, value: unknown) => {
    if (destroyed) return
    pending[name] = value
    schedule()
  }

  const computePeers = (): readonly Peer[] => {
    const connected = options.webrtcConnected()
    const list: Peer[] = []
    for (const [clientId, state] of awareness.getStates()) {
      if (clientId === awareness.clientID) continue
      const peerId = readWebrtcPeerId(state)
      list.push({
        clientId,
        user: readUser(state['user']),
        cursor: readCursor(state['cursor']),
        transport: peerId !== undefined && connected.has(peerId) ? 'webrtc' : 'relay',
      })
    }
    return list
  }
  const refresh = () => {
    peers = computePeers()
    events.emit('peers', { peers })
  }
  // `change` (not `update`): the 15-second renewals of unchanged states are not news.
  awareness.on('change', refresh)

  if (options.user !== undefined) pending['user'] = options.user
  flush()

  return {
    setUser(user) {
      if (readUser(user) === undefined)
        throw new CoeditError('misuse', 'user must be { name, color: "#rrggbb" }')
      set('user', user)
    },
    setCursor: (cursor) => set('cursor', cursor),
    setField: set,
    peers: () => peers,
    purge() {
      purged = true
      removeAwarenessStates(awareness, [awareness.clientID], 'pagehide')
    },
    restore() {
      if (!purged) return
      purged = false
      awareness.setLocalState(local)
    },
    refresh,
    on: (event, listener) => events.on(event, listener),
    destroy() {
      destroyed = true
      clearTimeout(timer)
      awareness.off('change', refresh)
      events.clear()
    },
  }
}
