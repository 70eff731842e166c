/**
 * Firefox only: the `HostLink` when the background page is the session host. Firefox's MV3
 * background is an event page with a DOM and `RTCPeerConnection`, so the sessions live right here
 * and content script ports go straight to the host, with no relay.
 */
import { openSession } from '../host/open-session.js'
import { createSessionHost, type SessionHost } from '../host/session-host.js'
import type { HostLink, HostLinkEvents } from './host-link.js'

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error))

export interface FirefoxHostLink extends HostLink {
  readonly host: SessionHost
}

export const createFirefoxHostLink = (events: HostLinkEvents): FirefoxHostLink => {
  const host = createSessionHost({
    openSession,
    onStatus: ({ tabId, status }) => events.onStatus(tabId, status),
    onDrop: ({ tabId, reason }) =>
      console.warn(`coedit: dropped a message from tab ${tabId}: ${reason}`),
  })
  const stop = (tabId: number, reason: string) =>
    host
      .stop(tabId, reason)
      .catch((error: unknown) =>
        console.warn(`coedit: closing the session of tab ${tabId} failed: ${errorText(error)}`),
      )
  const link: FirefoxHostLink = {
    host,
    attach(share) {
      try {
        host.attach(share)
      } catch (error) {
        events.onAttachFailed(share.tabId, errorText(error))
      }
    },
    connect: (tabId, port) => host.connect(tabId, port),
    stop: (tabId, reason) => void stop(tabId, reason),
    setUser: (user) => host.setUser(user),
    reconcile(shares) {
      const keep = new Set(shares.map((share) => share.tabId))
      for (const tabId of host.tabs()) if (!keep.has(tabId)) void stop(tabId, 'Sharing stopped')
      for (const share of shares) link.attach(share)
    },
  }
  return link
}
