/**
 * Every message that crosses a context boundary inside the extension, defined once, with a reader
 * per channel that returns `undefined` for anything malformed. Content scripts live in pages we do
 * not control (a compromised renderer can post anything on their ports), so whatever arrives from
 * one is read through these functions before it is used — never cast.
 *
 * Binary Yjs data travels as base64: Chrome's runtime messaging serialises to JSON, which would
 * turn a Uint8Array into an object of numbered keys.
 */

/** Name of the `runtime.Port` between a tab's content script and the session host. */
export const DOC_PORT = 'coedit-doc'

/** How far an invite's link and code format goes back; bump on incompatible changes. */
export const INVITE_VERSION = 1

/** Connection state of one transport, as the SDK reports it. */
export type TransportState = 'connecting' | 'connected' | 'offline' | 'disabled'

/** A person in the room as the popup and the page's overlay show them. */
export interface PeerView {
  readonly name: string
  readonly color: string
  readonly transport: 'webrtc' | 'relay'
}

/** Relative-position JSON, as the SDK's bindings publish it in awareness field `cursor`. */
export interface CursorJson {
  readonly anchor: unknown
  readonly head: unknown
}

/** Content script → session host. */
export type ContentToHost =
  | { readonly type: 'hello'; readonly stateVector: string }
  | { readonly type: 'sync'; readonly update: string }
  | { readonly type: 'update'; readonly update: string }
  | { readonly type: 'cursor'; readonly cursor: CursorJson | null }

/** Session host → content script. */
export type HostToContent =
  | { readonly type: 'sync'; readonly update: string; readonly stateVector: string }
  | { readonly type: 'update'; readonly update: string }
  | { readonly type: 'awareness'; readonly update: string }
  | {
      readonly type: 'status'
      readonly relay: TransportState
      readonly webrtc: TransportState
      readonly saved: boolean
      readonly synced: boolean
      readonly peers: readonly PeerView[]
    }
  | { readonly type: 'ended'; readonly reason: string }

/** What an invite carries (inside the URL fragment, base64url JSON). */
export interface Invite {
  readonly v: typeof INVITE_VERSION
  /** Random 128-bit room id, base64url. */
  readonly room: string
  /** Random 256-bit secret, base64url: y-webrtc's signaling password (end to end). */
  readonly key: string
  /** The Coedit server's base URL. */
  readonly server: string
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/
const BASE64URL = /^[A-Za-z0-9_-]+$/
const TRANSPORT_STATES = new Set(['connecting', 'connected', 'offline', 'disabled'])

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
const isBase64 = (value: unknown): value is string =>
  typeof value === 'string' && value.length % 4 === 0 && BASE64.test(value)
const isTransportState = (value: unknown): value is TransportState =>
  typeof value === 'string' && TRANSPORT_STATES.has(value)

/** A message from a content script, or `undefined` when it is not one. */
export const readContentToHost = (data: unknown): ContentToHost | undefined => {
  if (!isRecord(data)) return undefined
  switch (data['type']) {
    case 'hello':
      return isBase64(data['stateVector'])
        ? { type: 'hello', stateVector: data['stateVector'] }
        : undefined
    case 'sync':
    case 'update':
      return isBase64(data['update']) ? { type: data['type'], update: data['update'] } : undefined
    case 'cursor': {
      const cursor = data['cursor']
      if (cursor === null) return { type: 'cursor', cursor: null }
      if (!isRecord(cursor) || !isRecord(cursor['anchor']) || !isRecord(cursor['head'])) {
        return undefined
      }
      return { type: 'cursor', cursor: { anchor: cursor['anchor'], head: cursor['head'] } }
    }
    default:
      return undefined
  }
}

const readPeer = (value: unknown): PeerView | undefined => {
  if (!isRecord(value)) return undefined
  const { name, color, transport } = value
  if (typeof name !== 'string' || typeof color !== 'string') return undefined
  if (transport !== 'webrtc' && transport !== 'relay') return undefined
  return { name, color, transport }
}

/** A message from the session host, or `undefined` when it is not one. */
export const readHostToContent = (data: unknown): HostToContent | undefined => {
  if (!isRecord(data)) return undefined
  switch (data['type']) {
    case 'sync':
      return isBase64(data['update']) && isBase64(data['stateVector'])
        ? { type: 'sync', update: data['update'], stateVector: data['stateVector'] }
        : undefined
    case 'update':
    case 'awareness':
      return isBase64(data['update']) ? { type: data['type'], update: data['update'] } : undefined
    case 'status': {
      const { relay, webrtc, saved, synced, peers } = data
      if (!isTransportState(relay) || !isTransportState(webrtc)) return undefined
      if (typeof saved !== 'boolean' || typeof synced !== 'boolean' || !Array.isArray(peers)) {
        return undefined
      }
      const views = peers.map(readPeer)
      if (views.some((peer) => peer === undefined)) return undefined
      return { type: 'status', relay, webrtc, saved, synced, peers: views as PeerView[] }
    }
    case 'ended':
      return typeof data['reason'] === 'string'
        ? { type: 'ended', reason: data['reason'] }
        : undefined
    default:
      return undefined
  }
}

/** Bytes → base64 (standard alphabet, padded). */
export const toBase64 = (bytes: Uint8Array): string => {
  let binary = ''
  // Chunked: String.fromCharCode with a whole large update would overflow the argument limit.
  for (let offset = 0; offset < bytes.length; offset += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(offset, offset + 0x8000))
  }
  return btoa(binary)
}

/** base64 → bytes; the caller has checked the alphabet (the readers above do). */
export const fromBase64 = (text: string): Uint8Array =>
  Uint8Array.from(atob(text), (char) => char.charCodeAt(0))

/** The fragment parameter that carries an invite code. */
export const INVITE_PARAM = 'coedit-invite'

/** Encodes an invite as the code that goes after `#coedit-invite=`. */
export const encodeInvite = (invite: Invite): string =>
  toBase64(new TextEncoder().encode(JSON.stringify(invite)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')

/** Reads an invite code, or `undefined` when it is not a valid one of this version. */
export const decodeInvite = (code: string): Invite | undefined => {
  if (!BASE64URL.test(code)) return undefined
  let data: unknown
  try {
    const base64 = code.replace(/-/g, '+').replace(/_/g, '/')
    const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4)
    data = JSON.parse(new TextDecoder().decode(fromBase64(padded)))
  } catch {
    return undefined
  }
  if (!isRecord(data) || data['v'] !== INVITE_VERSION) return undefined
  const { room, key, server } = data
  if (typeof room !== 'string' || !BASE64URL.test(room) || room.length < 16) return undefined
  if (typeof key !== 'string' || !BASE64URL.test(key) || key.length < 32) return undefined
  if (typeof server !== 'string') return undefined
  try {
    const url = new URL(server)
    if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) return undefined
  } catch {
    return undefined
  }
  return { v: INVITE_VERSION, room, key, server }
}

/**
 * Splits an invite link (`https://site/page#coedit-invite=CODE`) into the page to open — without
 * the fragment, so the page never sees the key — and the invite. A bare code is accepted too
 * (then `page` is undefined: join on the current tab).
 */
export const parseInviteLink = (
  text: string,
): { readonly page: string | undefined; readonly invite: Invite } | undefined => {
  const trimmed = text.trim()
  const hashAt = trimmed.indexOf('#')
  if (hashAt < 0) {
    const invite = decodeInvite(trimmed)
    return invite === undefined ? undefined : { page: undefined, invite }
  }
  const params = new URLSearchParams(trimmed.slice(hashAt + 1))
  const invite = decodeInvite(params.get(INVITE_PARAM) ?? '')
  if (invite === undefined) return undefined
  let page: URL
  try {
    page = new URL(trimmed.slice(0, hashAt))
  } catch {
    return undefined
  }
  if (page.protocol !== 'http:' && page.protocol !== 'https:') return undefined
  return { page: page.href, invite }
}

/** The link another user opens (or pastes into the popup) to join. */
export const inviteLink = (pageUrl: string, invite: Invite): string => {
  const page = new URL(pageUrl)
  page.hash = ''
  return `${page.href}#${INVITE_PARAM}=${encodeInvite(invite)}`
}
