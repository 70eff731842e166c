/**
 * Requests to the background besides the `coedit-doc` port (messages.ts), each with a reader that
 * returns `undefined` for anything malformed:
 *
 * - popup → background (`runtime.sendMessage`): share / join / stop / state / pick / user, answered
 *   with a `PopupResponse`. The background accepts them only from extension pages (never from a
 *   content script), because the answer carries the room key.
 * - popup ⇄ background (`runtime.Port` named `coedit-popup`): the popup says which tab it shows;
 *   the background pushes that tab's view whenever it changes (peers, saved, stopped).
 * - content script → background: `coedit:inject-quill-bridge`, answered with `ContentResponse`.
 * - background → content script (`tabs.sendMessage`): `coedit:pick`.
 */
import { decodeInvite, encodeInvite, type Invite, type PeerView } from './messages.js'
import type { TransportState } from './messages.js'

/** Name of the port the popup keeps open to receive its tab's view as it changes. */
export const POPUP_PORT = 'coedit-popup'

/** Asks the content script to show the field picker. */
export const PICK_MESSAGE = 'coedit:pick'

/** Asks the background to inject `quill-bridge.js` into the sender's frame (main world). */
export const INJECT_QUILL_BRIDGE = 'coedit:inject-quill-bridge'

/** Name and colour shown to others (the SDK's `user`). */
export interface UserSettings {
  readonly name: string
  /** `#rrggbb`, as `<input type="color">` gives it. */
  readonly color: string
}

/** A shared tab's live state, as the session host last reported it. */
export interface StatusView {
  readonly relay: TransportState
  readonly webrtc: TransportState
  readonly saved: boolean
  readonly synced: boolean
  readonly peers: readonly PeerView[]
}

/** What the popup shows for one tab. */
export type TabView =
  | { readonly shared: false }
  | {
      readonly shared: true
      readonly invite: Invite
      /** The page the share started on (URL without fragment). */
      readonly page: string
      /** `null` until the session host reported (it starts with the first content script). */
      readonly status: StatusView | null
    }

export type PopupRequest =
  /** Start sharing: new room and key, inject the content script. */
  | { readonly type: 'share'; readonly tabId: number }
  /**
   * Join an invite in this tab. With `page`, the background first navigates the tab there (the
   * URL without the invite fragment) and injects once it loaded; without, it injects at once.
   */
  | {
      readonly type: 'join'
      readonly tabId: number
      readonly invite: Invite
      readonly page?: string
    }
  | { readonly type: 'stop'; readonly tabId: number }
  | { readonly type: 'state'; readonly tabId: number }
  /** Show the field picker in the tab. */
  | { readonly type: 'pick'; readonly tabId: number }
  /** The user changed name or colour: running sessions update their presence. */
  | { readonly type: 'user'; readonly user: UserSettings }

export type PopupResponse =
  { readonly ok: true; readonly view: TabView } | { readonly ok: false; readonly error: string }

/** popup → background over `coedit-popup`: which tab's view to push. */
export interface PopupWatch {
  readonly type: 'watch'
  readonly tabId: number
}

/** background → popup over `coedit-popup`. */
export interface PopupViewMessage {
  readonly type: 'view'
  readonly tabId: number
  readonly view: TabView
}

export interface ContentRequest {
  readonly type: typeof INJECT_QUILL_BRIDGE
}

export type ContentResponse = { readonly ok: true } | { readonly ok: false; readonly error: string }

export interface PickMessage {
  readonly type: typeof PICK_MESSAGE
}

const COLOR = /^#[0-9a-f]{6}$/i
const MAX_NAME_LENGTH = 64

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
const isTabId = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0

/** A name and colour the SDK accepts, or `undefined`. */
export const readUserSettings = (value: unknown): UserSettings | undefined => {
  if (!isRecord(value)) return undefined
  const { name, color } = value
  if (typeof name !== 'string' || typeof color !== 'string' || !COLOR.test(color)) return undefined
  const trimmed = name.trim()
  if (trimmed.length === 0 || trimmed.length > MAX_NAME_LENGTH) return undefined
  return { name: trimmed, color }
}

/** An invite object (not a code): valid exactly when its code would decode. */
export const readInvite = (value: unknown): Invite | undefined => {
  if (!isRecord(value)) return undefined
  try {
    return decodeInvite(encodeInvite(value as unknown as Invite))
  } catch {
    // encodeInvite only throws on values JSON cannot encode (a BigInt): not an invite.
    return undefined
  }
}

/** An http(s) page URL without fragment, or `undefined`. */
export const readPageUrl = (value: unknown): string | undefined => {
  if (typeof value !== 'string') return undefined
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return undefined
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined
  url.hash = ''
  return url.href
}

export const readPopupRequest = (data: unknown): PopupRequest | undefined => {
  if (!isRecord(data)) return undefined
  const { type, tabId } = data
  if (type === 'user') {
    const user = readUserSettings(data['user'])
    return user === undefined ? undefined : { type, user }
  }
  if (!isTabId(tabId)) return undefined
  switch (type) {
    case 'share':
    case 'stop':
    case 'state':
    case 'pick':
      return { type, tabId }
    case 'join': {
      const invite = readInvite(data['invite'])
      if (invite === undefined) return undefined
      if (data['page'] === undefined) return { type, tabId, invite }
      const page = readPageUrl(data['page'])
      return page === undefined ? undefined : { type, tabId, invite, page }
    }
    default:
      return undefined
  }
}

export const readPopupWatch = (data: unknown): PopupWatch | undefined =>
  isRecord(data) && data['type'] === 'watch' && isTabId(data['tabId'])
    ? { type: 'watch', tabId: data['tabId'] }
    : undefined

export const readContentRequest = (data: unknown): ContentRequest | undefined =>
  isRecord(data) && data['type'] === INJECT_QUILL_BRIDGE ? { type: INJECT_QUILL_BRIDGE } : undefined

export const readPickMessage = (data: unknown): PickMessage | undefined =>
  isRecord(data) && data['type'] === PICK_MESSAGE ? { type: PICK_MESSAGE } : undefined

/**
 * The background's answer as the popup reads it. The background is trusted; this guards against
 * `undefined` (no listener answered, e.g. while the service worker restarts) more than malice.
 */
export const readPopupResponse = (data: unknown): PopupResponse | undefined => {
  if (!isRecord(data) || typeof data['ok'] !== 'boolean') return undefined
  if (!data['ok']) {
    return typeof data['error'] === 'string' ? { ok: false, error: data['error'] } : undefined
  }
  const view = data['view']
  if (!isRecord(view) || typeof view['shared'] !== 'boolean') return undefined
  return { ok: true, view: view as unknown as TabView }
}

export const readPopupView = (data: unknown): PopupViewMessage | undefined => {
  if (!isRecord(data) || data['type'] !== 'view' || !isTabId(data['tabId'])) return undefined
  const view = data['view']
  if (!isRecord(view) || typeof view['shared'] !== 'boolean') return undefined
  return { type: 'view', tabId: data['tabId'], view: view as unknown as TabView }
}
