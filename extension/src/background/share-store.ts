/**
 * Which tab shares which room, with the room's key: in memory, and mirrored in `storage.session`
 * so a Chrome service worker that was stopped and restarted (it is, after ~30 s idle) recovers
 * every share. `storage.session` keeps its default access level (trusted extension contexts
 * only), so content scripts cannot read the keys; it is cleared when the browser closes, which
 * is when a share should end anyway.
 */
import type { Storage } from 'webextension-polyfill'
import { readInvite, readPageUrl } from '../shared/requests.js'

export interface ShareState {
  readonly tabId: number
  readonly room: string
  /** Room secret (base64url, 256 bits): y-webrtc's signaling password. */
  readonly key: string
  readonly server: string
  /** The page the share started on, without fragment: the invite link points there. */
  readonly page: string
  /** `page`'s origin: the content script is injected and accepted only on it. */
  readonly origin: string
}

export interface ShareStore {
  /** Resolves once the shares stored by an earlier run of the worker are loaded. */
  readonly ready: Promise<void>
  get(tabId: number): ShareState | undefined
  all(): readonly ShareState[]
  set(share: ShareState): Promise<void>
  delete(tabId: number): Promise<void>
}

/** The subset of `storage.session` used (tests pass an in-memory one). */
export type SessionArea = Pick<Storage.StorageArea, 'get' | 'set'>

const STORAGE_KEY = 'shares'

/** A stored share, or `undefined` if it is not one (storage from another version). */
export const readShareState = (value: unknown): ShareState | undefined => {
  if (typeof value !== 'object' || value === null) return undefined
  const record = value as Record<string, unknown>
  const { tabId, room, key, server, page, origin } = record
  if (typeof tabId !== 'number' || !Number.isInteger(tabId) || tabId < 0) return undefined
  const invite = readInvite({ v: 1, room, key, server })
  const pageUrl = readPageUrl(page)
  if (invite === undefined || pageUrl === undefined) return undefined
  if (typeof origin !== 'string' || new URL(pageUrl).origin !== origin) return undefined
  return { tabId, room: invite.room, key: invite.key, server: invite.server, page: pageUrl, origin }
}

export const createShareStore = (area: SessionArea): ShareStore => {
  const shares = new Map<number, ShareState>()
  // Writes are chained so the stored copy never goes back to an older state.
  let writing: Promise<void> = Promise.resolve()

  const persist = () => {
    const snapshot = Object.fromEntries([...shares].map(([tabId, share]) => [tabId, share]))
    const write = () => area.set({ [STORAGE_KEY]: snapshot })
    // After a failed write, the next one still runs (and carries the newest state).
    writing = writing.then(write, write)
    return writing
  }

  const ready = area.get(STORAGE_KEY).then((stored) => {
    const value: unknown = stored[STORAGE_KEY]
    if (typeof value !== 'object' || value === null) return
    for (const entry of Object.values(value)) {
      const share = readShareState(entry)
      // A share set before loading finished is newer than the stored one.
      if (share !== undefined && !shares.has(share.tabId)) shares.set(share.tabId, share)
    }
  })

  return {
    ready,
    get: (tabId) => shares.get(tabId),
    all: () => [...shares.values()],
    set(share) {
      shares.set(share.tabId, share)
      return persist()
    },
    delete(tabId) {
      if (!shares.delete(tabId)) return writing
      return persist()
    },
  }
}
