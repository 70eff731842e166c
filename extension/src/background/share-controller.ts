/**
 * The background's share logic: what share / join / stop / pick do, and each tab's view for the
 * popup. It decides which tab shares which room; the session host (through the `HostLink`) does
 * the networking, and tab-scripts.ts the injecting.
 *
 * Host permission: only the popup can ask for it (a user gesture), and on Firefox the popup may
 * close while the browser's prompt is open. So the popup asks and, without waiting, sends its
 * request here; the request waits (up to `PERMISSION_WAIT_MS`) until the permission arrives, and
 * does everything that follows — inject, navigate, start the picker — on its own.
 */
import browser from 'webextension-polyfill'
import type { HostShare } from '../host/session-host.js'
import type { Invite } from '../shared/messages.js'
import {
  readPageUrl,
  type PopupResponse,
  type StatusView,
  type TabView,
} from '../shared/requests.js'
import { loadSettings, loadUser } from '../options/settings.js'
import type { HostLink } from './host-link.js'
import { randomId } from './random-id.js'
import type { ShareState, ShareStore } from './share-store.js'
import {
  hasOriginPermission,
  injectContentScript,
  sendPick,
  waitForOriginPermission,
} from './tab-scripts.js'

/** How long a share or join waits for the user to answer the permission prompt. */
export const PERMISSION_WAIT_MS = 120_000

export interface ShareControllerOptions {
  readonly store: ShareStore
  readonly link: () => HostLink
  /** A tab's view changed (the popup watching it gets the new one). */
  readonly onChange: (tabId: number) => void
}

export interface ShareController {
  view(tabId: number): TabView
  share(tabId: number): Promise<PopupResponse>
  join(tabId: number, invite: Invite, page: string | undefined): Promise<PopupResponse>
  stop(tabId: number, reason: string): Promise<PopupResponse>
  pick(tabId: number): Promise<PopupResponse>
  /** The host reported a tab's status. */
  setStatus(tabId: number, status: StatusView): void
  /** The tab finished loading: inject again if it shares and its origin is still the share's. */
  reinject(tabId: number, url: string | undefined): Promise<void>
  /** What the host needs for one share (room, key, user, token URL). */
  hostShare(share: ShareState): Promise<HostShare>
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error))
const fail = (error: string): PopupResponse => ({ ok: false, error })

export const createShareController = (options: ShareControllerOptions): ShareController => {
  const { store } = options
  const statuses = new Map<number, StatusView>()
  /** Shares and joins waiting for the permission prompt; a stop cancels them. */
  const waiting = new Map<number, AbortController>()

  const view = (tabId: number): TabView => {
    const share = store.get(tabId)
    if (share === undefined) return { shared: false }
    return {
      shared: true,
      invite: { v: 1, room: share.room, key: share.key, server: share.server },
      page: share.page,
      status: statuses.get(tabId) ?? null,
    }
  }
  const ok = (tabId: number): PopupResponse => ({ ok: true, view: view(tabId) })

  const hostShare = async (share: ShareState): Promise<HostShare> => {
    const [settings, user] = await Promise.all([
      loadSettings(browser.storage.local),
      loadUser(browser.storage.local),
    ])
    return {
      tabId: share.tabId,
      room: share.room,
      key: share.key,
      server: share.server,
      user,
      ...(settings.tokenUrl === undefined ? {} : { tokenUrl: settings.tokenUrl }),
    }
  }

  /** Waits for host access to `origin`; false when refused, timed out, or stopped meanwhile. */
  const permitted = async (tabId: number, origin: string): Promise<boolean> => {
    waiting.get(tabId)?.abort()
    const controller = new AbortController()
    waiting.set(tabId, controller)
    try {
      return await waitForOriginPermission(origin, PERMISSION_WAIT_MS, controller.signal)
    } finally {
      if (waiting.get(tabId) === controller) waiting.delete(tabId)
    }
  }

  const register = async (share: ShareState) => {
    await store.set(share)
    options.link().attach(await hostShare(share))
    options.onChange(share.tabId)
  }

  const end = async (tabId: number, reason: string) => {
    waiting.get(tabId)?.abort()
    const had = store.get(tabId) !== undefined
    statuses.delete(tabId)
    await store.delete(tabId)
    if (had) options.link().stop(tabId, reason)
    options.onChange(tabId)
  }

  /** Shows the picker; a tab whose content script is gone (reloaded page) gets it again first. */
  const pick = async (tabId: number) => {
    try {
      await sendPick(tabId)
    } catch {
      // "Receiving end does not exist": no content script in the tab (any more).
      await injectContentScript(tabId)
      await sendPick(tabId)
    }
  }

  const pageOf = async (tabId: number) => readPageUrl((await browser.tabs.get(tabId)).url)

  return {
    view,
    hostShare,

    async share(tabId) {
      if (store.get(tabId) !== undefined) return ok(tabId)
      const page = await pageOf(tabId)
      if (page === undefined) {
        return fail('Coedit can share fields on http:// and https:// pages only.')
      }
      const origin = new URL(page).origin
      if (!(await permitted(tabId, origin))) return fail(`Coedit needs access to ${origin}.`)
      // Another share for this tab may have finished while the prompt was open.
      if (store.get(tabId) !== undefined) return ok(tabId)
      const { server } = await loadSettings(browser.storage.local)
      await register({ tabId, room: randomId(16), key: randomId(32), server, page, origin })
      try {
        await injectContentScript(tabId)
      } catch (error) {
        await end(tabId, 'Coedit cannot run on this page')
        return fail(`Coedit cannot run on this page: ${errorText(error)}`)
      }
      try {
        await pick(tabId)
      } catch (error) {
        // Shared all the same; "Pick another field" in the popup tries again.
        console.warn(`coedit: cannot start the picker in tab ${tabId}: ${errorText(error)}`)
      }
      return ok(tabId)
    },

    async join(tabId, invite, page) {
      const target = page ?? (await pageOf(tabId))
      if (target === undefined) return fail('Open the shared page first, or paste the whole link.')
      const origin = new URL(target).origin
      if (!(await permitted(tabId, origin))) return fail(`Coedit needs access to ${origin}.`)
      const current = store.get(tabId)
      if (current !== undefined && current.room !== invite.room) {
        await end(tabId, 'Joined another room')
      }
      if (current?.room !== invite.room) {
        const { room, key, server } = invite
        await register({ tabId, room, key, server, page: target, origin })
      }
      try {
        // Navigating: tabs.onUpdated injects once the page loaded (reinject). The URL carries no
        // fragment, so the page never sees the key.
        if (page !== undefined) await browser.tabs.update(tabId, { url: page })
        else await injectContentScript(tabId)
      } catch (error) {
        await end(tabId, 'Coedit cannot run on this page')
        return fail(`Coedit cannot run on this page: ${errorText(error)}`)
      }
      return ok(tabId)
    },

    async stop(tabId, reason) {
      await end(tabId, reason)
      return ok(tabId)
    },

    async pick(tabId) {
      if (store.get(tabId) === undefined) return fail('This tab shares nothing yet.')
      try {
        await pick(tabId)
      } catch (error) {
        return fail(`Cannot start the picker: ${errorText(error)}`)
      }
      return ok(tabId)
    },

    setStatus(tabId, status) {
      if (store.get(tabId) === undefined) return
      statuses.set(tabId, status)
      options.onChange(tabId)
    },

    async reinject(tabId, url) {
      const share = store.get(tabId)
      const page = readPageUrl(url)
      if (share === undefined || page === undefined || new URL(page).origin !== share.origin) return
      if (!(await hasOriginPermission(share.origin))) return
      try {
        await injectContentScript(tabId)
      } catch (error) {
        console.warn(`coedit: cannot inject into tab ${tabId}: ${errorText(error)}`)
      }
    },
  }
}
