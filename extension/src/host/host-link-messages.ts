/**
 * Chrome only: the messages between the service worker and the offscreen document that hosts the
 * sessions, over one `runtime.Port` named `coedit-host` that the offscreen document opens. Content
 * script ports are relayed over it, each tagged with a connection id the service worker assigns
 * (a tab has a new port after every reload, so the tab id alone would mix old and new).
 *
 * Both ends are trusted extension contexts, but the readers still check shapes: a version skew
 * after an update, or a relayed content message, must not be taken on faith. Relayed content
 * data stays `unknown` here; the host validates it (readContentToHost).
 */
import { readHostToContent, type HostToContent } from '../shared/messages.js'
import {
  readInvite,
  readUserSettings,
  type StatusView,
  type UserSettings,
} from '../shared/requests.js'
import type { HostShare } from './session-host.js'

export const HOST_PORT = 'coedit-host'

export type BackgroundToHost =
  | { readonly kind: 'attach'; readonly share: HostShare }
  | { readonly kind: 'stop'; readonly tabId: number; readonly reason: string }
  | { readonly kind: 'user'; readonly user: UserSettings }
  /** Every share the service worker knows; the host stops any other tab it holds. */
  | { readonly kind: 'reconcile'; readonly shares: readonly HostShare[] }
  | { readonly kind: 'open'; readonly connectionId: number; readonly tabId: number }
  | { readonly kind: 'message'; readonly connectionId: number; readonly data: unknown }
  | { readonly kind: 'close'; readonly connectionId: number }

export type HostToBackground =
  | { readonly kind: 'message'; readonly connectionId: number; readonly message: HostToContent }
  | { readonly kind: 'close'; readonly connectionId: number }
  | { readonly kind: 'status'; readonly tabId: number; readonly status: StatusView }
  | { readonly kind: 'attach-failed'; readonly tabId: number; readonly error: string }
  /** The host holds no tab any more: the service worker may close the document. */
  | { readonly kind: 'idle' }
  /** Sent every 20 s while sessions are open: keeps the service worker from being stopped. */
  | { readonly kind: 'keepalive' }

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
const isId = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0

export const readHostShare = (value: unknown): HostShare | undefined => {
  if (!isRecord(value) || !isId(value['tabId'])) return undefined
  const invite = readInvite({
    v: 1,
    room: value['room'],
    key: value['key'],
    server: value['server'],
  })
  if (invite === undefined) return undefined
  const user = value['user'] === undefined ? undefined : readUserSettings(value['user'])
  if (value['user'] !== undefined && user === undefined) return undefined
  const tokenUrl = value['tokenUrl']
  if (tokenUrl !== undefined && typeof tokenUrl !== 'string') return undefined
  return {
    tabId: value['tabId'],
    room: invite.room,
    key: invite.key,
    server: invite.server,
    ...(user === undefined ? {} : { user }),
    ...(tokenUrl === undefined ? {} : { tokenUrl }),
  }
}

export const readBackgroundToHost = (data: unknown): BackgroundToHost | undefined => {
  if (!isRecord(data)) return undefined
  switch (data['kind']) {
    case 'attach': {
      const share = readHostShare(data['share'])
      return share === undefined ? undefined : { kind: 'attach', share }
    }
    case 'stop':
      return isId(data['tabId']) && typeof data['reason'] === 'string'
        ? { kind: 'stop', tabId: data['tabId'], reason: data['reason'] }
        : undefined
    case 'user': {
      const user = readUserSettings(data['user'])
      return user === undefined ? undefined : { kind: 'user', user }
    }
    case 'reconcile': {
      if (!Array.isArray(data['shares'])) return undefined
      const shares = data['shares'].map(readHostShare)
      if (shares.some((share) => share === undefined)) return undefined
      return { kind: 'reconcile', shares: shares as HostShare[] }
    }
    case 'open':
      return isId(data['connectionId']) && isId(data['tabId'])
        ? { kind: 'open', connectionId: data['connectionId'], tabId: data['tabId'] }
        : undefined
    case 'message':
      return isId(data['connectionId'])
        ? { kind: 'message', connectionId: data['connectionId'], data: data['data'] }
        : undefined
    case 'close':
      return isId(data['connectionId'])
        ? { kind: 'close', connectionId: data['connectionId'] }
        : undefined
    default:
      return undefined
  }
}

export const readHostToBackground = (data: unknown): HostToBackground | undefined => {
  if (!isRecord(data)) return undefined
  switch (data['kind']) {
    case 'message': {
      const message = readHostToContent(data['message'])
      return isId(data['connectionId']) && message !== undefined
        ? { kind: 'message', connectionId: data['connectionId'], message }
        : undefined
    }
    case 'close':
      return isId(data['connectionId'])
        ? { kind: 'close', connectionId: data['connectionId'] }
        : undefined
    case 'status': {
      // The same shape as the content script's status message, which has a reader already.
      const status = readHostToContent({
        ...(isRecord(data['status']) ? data['status'] : {}),
        type: 'status',
      })
      if (!isId(data['tabId']) || status?.type !== 'status') return undefined
      const { relay, webrtc, saved, synced, peers } = status
      return {
        kind: 'status',
        tabId: data['tabId'],
        status: { relay, webrtc, saved, synced, peers },
      }
    }
    case 'attach-failed':
      return isId(data['tabId']) && typeof data['error'] === 'string'
        ? { kind: 'attach-failed', tabId: data['tabId'], error: data['error'] }
        : undefined
    case 'idle':
      return { kind: 'idle' }
    case 'keepalive':
      return { kind: 'keepalive' }
    default:
      return undefined
  }
}
