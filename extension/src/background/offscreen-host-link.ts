/**
 * Chrome only: the `HostLink` to the session host in the offscreen document. The service worker
 * cannot hold WebRTC connections, so it opens `offscreen.html` (reason `WEB_RTC`) when the first
 * share needs it and closes it when the host reports `idle` with no share left.
 *
 * The document opens a `coedit-host` port back to the worker (`acceptHostPort`); everything for
 * the host goes over it: shares, and each content script's port relayed under a connection id.
 * Messages for the host that come before its port (the document is still loading, or the worker
 * just restarted) wait in a queue and go out, after a `reconcile` with every known share, once it
 * connects.
 */
import type { HostPort, PortLike } from '../host/host-port.js'
import {
  readHostToBackground,
  type BackgroundToHost,
  type HostToBackground,
} from '../host/host-link-messages.js'
import type { HostShare } from '../host/session-host.js'
import type { HostLink, HostLinkEvents } from './host-link.js'

export interface OffscreenHostLink extends HostLink {
  /** The offscreen document connected (again): send it `shares`, then what waited for it. */
  acceptHostPort(port: PortLike<BackgroundToHost>, shares: readonly HostShare[]): void
}

export interface OffscreenHostLinkOptions extends HostLinkEvents {
  /** Whether any tab still shares (an idle host with none is closed). */
  readonly hasShares: () => boolean
}

const OFFSCREEN_URL = 'offscreen.html'
const JUSTIFICATION =
  'Holds the WebRTC and WebSocket connections of the documents the user shares with Coedit ' +
  '(a service worker cannot create RTCPeerConnection).'

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error))

export const createOffscreenHostLink = (options: OffscreenHostLinkOptions): OffscreenHostLink => {
  let hostPort: PortLike<BackgroundToHost> | undefined
  let creating: Promise<void> | undefined
  const queue: BackgroundToHost[] = []
  const tabPorts = new Map<number, { readonly tabId: number; readonly port: HostPort }>()
  let nextConnectionId = 1

  const hasDocument = async () => {
    const contexts = await chrome.runtime.getContexts({
      contextTypes: [chrome.runtime.ContextType.OFFSCREEN_DOCUMENT],
      documentUrls: [chrome.runtime.getURL(OFFSCREEN_URL)],
    })
    return contexts.length > 0
  }

  /** Creates the document unless it exists (one creation at a time: Chrome allows one). */
  const ensureDocument = () => {
    creating ??= (async () => {
      if (await hasDocument()) return
      await chrome.offscreen.createDocument({
        url: OFFSCREEN_URL,
        reasons: [chrome.offscreen.Reason.WEB_RTC],
        justification: JUSTIFICATION,
      })
    })()
      .catch((error: unknown) =>
        console.error(`coedit: cannot open the session host: ${errorText(error)}`),
      )
      .finally(() => {
        creating = undefined
      })
    return creating
  }

  const closeDocument = async () => {
    if (options.hasShares() || !(await hasDocument())) return
    await chrome.offscreen.closeDocument()
  }

  /** Posts to the host, opening it if needed. */
  const send = (message: BackgroundToHost) => {
    if (hostPort !== undefined) {
      hostPort.postMessage(message)
      return
    }
    queue.push(message)
    void ensureDocument()
  }
  /**
   * Posts only to a connected host: a host that is not connected learns stops, users and shares
   * from the `reconcile` it gets when it connects, and one that does not exist has nothing to stop.
   */
  const sendIfConnected = (message: BackgroundToHost) => hostPort?.postMessage(message)

  const handle = (message: HostToBackground) => {
    switch (message.kind) {
      case 'message':
        tabPorts.get(message.connectionId)?.port.postMessage(message.message)
        return
      case 'close': {
        const entry = tabPorts.get(message.connectionId)
        tabPorts.delete(message.connectionId)
        entry?.port.disconnect()
        return
      }
      case 'status':
        options.onStatus(message.tabId, message.status)
        return
      case 'attach-failed':
        options.onAttachFailed(message.tabId, message.error)
        return
      case 'idle':
        void closeDocument().catch((error: unknown) =>
          console.warn(`coedit: cannot close the session host: ${errorText(error)}`),
        )
        return
      case 'keepalive':
        // Receiving it was the point: the worker's idle timer starts over.
        return
    }
  }

  return {
    acceptHostPort(port, shares) {
      hostPort = port
      port.onMessage((data) => {
        const message = readHostToBackground(data)
        if (message === undefined) console.warn('coedit: dropped a malformed message from the host')
        else handle(message)
      })
      port.onDisconnect(() => {
        if (hostPort !== port) return
        hostPort = undefined
        // The relayed tab ports have no host behind them now; their content scripts reconnect.
        for (const entry of tabPorts.values()) entry.port.disconnect()
        tabPorts.clear()
      })
      port.postMessage({ kind: 'reconcile', shares })
      const queued = queue.splice(0)
      for (const message of queued) port.postMessage(message)
      // A host nobody needs (the worker restarted after the last stop) is closed at once.
      if (shares.length === 0 && queued.length === 0) handle({ kind: 'idle' })
    },

    attach: (share) => send({ kind: 'attach', share }),

    connect(tabId, port) {
      const connectionId = nextConnectionId++
      tabPorts.set(connectionId, { tabId, port })
      send({ kind: 'open', connectionId, tabId })
      port.onMessage((data) => send({ kind: 'message', connectionId, data }))
      port.onDisconnect(() => {
        if (tabPorts.delete(connectionId)) send({ kind: 'close', connectionId })
      })
    },

    stop(tabId, reason) {
      if (hostPort !== undefined) {
        hostPort.postMessage({ kind: 'stop', tabId, reason })
        return
      }
      // Ports still waiting for the host: the host would refuse them, so end them here.
      for (const [connectionId, entry] of tabPorts) {
        if (entry.tabId !== tabId) continue
        tabPorts.delete(connectionId)
        entry.port.postMessage({ type: 'ended', reason })
        entry.port.disconnect()
      }
    },
    setUser: (user) => sendIfConnected({ kind: 'user', user }),
    reconcile: (shares) => sendIfConnected({ kind: 'reconcile', shares }),
  }
}
