/**
 * How the background reaches the session host: directly on Firefox (the background page is the
 * host, firefox-host-link.ts), through the offscreen document on Chrome (offscreen-host-link.ts).
 * The background only decides *which* tab shares *what*; the link carries that, and the
 * content scripts' ports, to the host.
 */
import type { HostPort } from '../host/host-port.js'
import type { HostShare } from '../host/session-host.js'
import type { StatusView, UserSettings } from '../shared/requests.js'

export interface HostLinkEvents {
  /** The host's status for a tab changed. */
  readonly onStatus: (tabId: number, status: StatusView) => void
  /** The host could not open the tab's share (e.g. the room is open with another key). */
  readonly onAttachFailed: (tabId: number, error: string) => void
}

export interface HostLink {
  /** Makes the host hold the tab's session (idempotent). */
  attach(share: HostShare): void
  /** Hands a content script's `coedit-doc` port to the host. */
  connect(tabId: number, port: HostPort): void
  /** Ends the tab's share in the host: `ended` to its content scripts, session released. */
  stop(tabId: number, reason: string): void
  setUser(user: UserSettings): void
  /**
   * Every share the background knows, after it (re)started: the host attaches these and stops
   * any other tab it still holds.
   */
  reconcile(shares: readonly HostShare[]): void
}
