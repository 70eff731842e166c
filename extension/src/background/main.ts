/**
 * The background, for both browsers: registers every listener synchronously (a Chrome service
 * worker or Firefox event page woken by an event only sees listeners added in its first turn),
 * and routes:
 *
 * - popup requests (`runtime.sendMessage`, extension pages only) → share-controller.ts;
 * - `coedit-popup` ports: the view of the tab a popup shows, pushed on every change;
 * - `coedit-doc` ports from content scripts: to the session host, when the sender's tab shares
 *   and the sender is its top frame on the share's origin; any other port is closed;
 * - `coedit:inject-quill-bridge` from a sharing tab's content script;
 * - tab events: a shared tab that finished loading gets its content script again (a reload, or
 *   the navigation a join started); a closed tab's share ends.
 *
 * The platform (chrome.ts, firefox.ts) supplies the link to the session host.
 */
import browser, { type Runtime } from 'webextension-polyfill'
import { portFromRuntime, type PortLike } from '../host/host-port.js'
import type { HostShare } from '../host/session-host.js'
import { DOC_PORT, type HostToContent } from '../shared/messages.js'
import {
  POPUP_PORT,
  readContentRequest,
  readPopupRequest,
  readPopupWatch,
  type ContentResponse,
  type PopupRequest,
  type PopupResponse,
  type PopupViewMessage,
} from '../shared/requests.js'
import type { HostLink, HostLinkEvents } from './host-link.js'
import { createShareController } from './share-controller.js'
import { createShareStore, type ShareStore } from './share-store.js'
import { injectQuillBridge } from './tab-scripts.js'

export interface Platform {
  createLink(events: HostLinkEvents): HostLink
  /**
   * A port that is neither `coedit-doc` nor `coedit-popup` (Chrome: the offscreen host's).
   * Returns false when the platform does not take it (it is then closed).
   */
  acceptPort?(port: Runtime.Port, shares: () => Promise<readonly HostShare[]>): boolean
  /** The number of shared tabs changed (Firefox keeps its event page alive while any). */
  onShareCount?(count: number): void
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error))

/** A message from one of our own pages (popup, options), not from a content script. */
const fromExtensionPage = (sender: Runtime.MessageSender): boolean =>
  sender.id === browser.runtime.id &&
  typeof sender.url === 'string' &&
  sender.url.startsWith(browser.runtime.getURL('/'))

const originOf = (url: string | undefined): string | undefined => {
  if (url === undefined) return undefined
  try {
    return new URL(url).origin
  } catch {
    return undefined
  }
}

export const startBackground = (platform: Platform): ShareStore => {
  const store = createShareStore(browser.storage.session)
  const watchers = new Map<PortLike<PopupViewMessage>, number | undefined>()

  const push = (tabId: number) => {
    for (const [port, watched] of watchers) {
      if (watched === tabId) port.postMessage({ type: 'view', tabId, view: controller.view(tabId) })
    }
  }
  const controller = createShareController({
    store,
    link: () => link,
    onChange: (tabId) => {
      push(tabId)
      platform.onShareCount?.(store.all().length)
    },
  })
  const link: HostLink = platform.createLink({
    onStatus: (tabId, status) => controller.setStatus(tabId, status),
    onAttachFailed: (tabId, error) => {
      console.warn(`coedit: the session host refused tab ${tabId}: ${error}`)
      void controller.stop(tabId, error)
    },
  })
  const hostShares = async () => {
    await store.ready
    return Promise.all(store.all().map((share) => controller.hostShare(share)))
  }

  // A restarted worker (or event page) brings the host back in line with the stored shares
  // before it serves any content script port: a port for a tab the host has not re-attached yet
  // would be refused, and its content script would give up.
  const recovered = hostShares().then(
    (shares) => {
      platform.onShareCount?.(shares.length)
      if (shares.length > 0) link.reconcile(shares)
    },
    (error: unknown) => console.error(`coedit: cannot restore the shares: ${errorText(error)}`),
  )

  const handlePopup = (request: PopupRequest): Promise<PopupResponse> => {
    switch (request.type) {
      case 'share':
        return controller.share(request.tabId)
      case 'join':
        return controller.join(request.tabId, request.invite, request.page)
      case 'stop':
        return controller.stop(request.tabId, 'Sharing stopped')
      case 'state':
        return Promise.resolve({ ok: true, view: controller.view(request.tabId) })
      case 'pick':
        return controller.pick(request.tabId)
      case 'user':
        link.setUser(request.user)
        return Promise.resolve({ ok: true, view: { shared: false } })
    }
  }

  const handleContent = async (sender: Runtime.MessageSender): Promise<ContentResponse> => {
    const tabId = sender.tab?.id
    const frameId = sender.frameId
    if (tabId === undefined || frameId === undefined || store.get(tabId) === undefined) {
      return { ok: false, error: 'this tab shares nothing' }
    }
    try {
      await injectQuillBridge(tabId, frameId)
      return { ok: true }
    } catch (error) {
      return { ok: false, error: errorText(error) }
    }
  }

  browser.runtime.onMessage.addListener((message: unknown, sender: Runtime.MessageSender) => {
    if (fromExtensionPage(sender)) {
      const request = readPopupRequest(message)
      if (request === undefined) return undefined
      return store.ready.then(() => handlePopup(request))
    }
    if (readContentRequest(message) === undefined) return undefined
    return store.ready.then(() => handleContent(sender))
  })

  browser.runtime.onConnect.addListener((port: Runtime.Port) => {
    if (port.name === DOC_PORT) {
      // Wrapped at once: the content script says hello before the shares are loaded.
      const docPort = portFromRuntime<HostToContent>(port)
      const tabId = port.sender?.tab?.id
      void recovered.then(() => {
        const share = tabId === undefined ? undefined : store.get(tabId)
        const topFrame = port.sender?.frameId === 0
        if (share === undefined || !topFrame || originOf(port.sender?.url) !== share.origin) {
          docPort.disconnect()
          return
        }
        link.connect(share.tabId, docPort)
      })
      return
    }
    if (port.name === POPUP_PORT) {
      const popupPort = portFromRuntime<PopupViewMessage>(port)
      if (port.sender === undefined || !fromExtensionPage(port.sender)) {
        popupPort.disconnect()
        return
      }
      watchers.set(popupPort, undefined)
      popupPort.onDisconnect(() => watchers.delete(popupPort))
      popupPort.onMessage((data) => {
        const watch = readPopupWatch(data)
        if (watch === undefined) return
        watchers.set(popupPort, watch.tabId)
        void store.ready.then(() => push(watch.tabId))
      })
      return
    }
    if (platform.acceptPort?.(port, hostShares) !== true) port.disconnect()
  })

  browser.tabs.onUpdated.addListener((tabId, change, tab) => {
    if (change.status !== 'complete') return
    void store.ready.then(() => controller.reinject(tabId, tab.url))
  })
  browser.tabs.onRemoved.addListener((tabId) => {
    // Tab ids are never reused: a closed tab's share could never be reached or stopped again,
    // and its user would stay "here" for everyone else.
    void store.ready.then(() => {
      if (store.get(tabId) !== undefined) return controller.stop(tabId, 'The tab was closed')
      return undefined
    })
  })
  browser.tabs.onReplaced.addListener((_addedTabId, removedTabId) => {
    void store.ready.then(() => {
      if (store.get(removedTabId) !== undefined) {
        return controller.stop(removedTabId, 'The tab was replaced')
      }
      return undefined
    })
  })

  return store
}
