/**
 * The presence badge of one Coedit instance: keeps the view (badge-view.ts) in step with the
 * session's `peers`, `status` and `saved` events, and puts it on the page — fixed at the bottom
 * right of `<body>`, or inside a given container. `destroy()` removes the element and every
 * listener it added.
 */
import type { User } from '../awareness/presence.js'
import type { Session } from '../session.js'
import { badgeState } from './badge-state.js'
import { createBadgeView } from './badge-view.js'

/** What the badge reads of a session (a test passes a fake). */
export type BadgeSession = Pick<Session, 'peers' | 'status' | 'saved' | 'on'>

export interface BadgeOptions {
  readonly session: BadgeSession
  readonly document: Document
  /** This user as currently published (the page may call `session.setUser` later). */
  readonly self: () => User
  /** The session keeps an IndexedDB copy; decides between "Saved on this device" and "Not saved". */
  readonly offlineCopy: boolean
  /** Where the badge goes; default `document.body`, fixed at the bottom right. */
  readonly container?: HTMLElement
}

export interface Badge {
  /** The host element, `<div data-coedit-badge>`. */
  readonly element: HTMLElement
  /** Re-reads the session (events do this on their own). */
  refresh(): void
  destroy(): void
}

export const createBadge = (options: BadgeOptions): Badge => {
  const { session, document: page, container } = options
  const view = createBadgeView(page)
  if (container !== undefined) view.host.setAttribute('data-inline', '')

  const refresh = () =>
    view.render(
      badgeState({
        self: options.self(),
        peers: session.peers(),
        status: session.status,
        saved: session.saved,
        offlineCopy: options.offlineCopy,
      }),
    )
  const offs = [
    session.on('peers', refresh),
    session.on('status', refresh),
    session.on('saved', refresh),
  ]
  refresh()

  // Started from <head> (code use), the body does not exist yet.
  const mount = () => (container ?? page.body).append(view.host)
  const waitsForBody = container === undefined && page.body === null
  if (waitsForBody) page.addEventListener('DOMContentLoaded', mount, { once: true })
  else mount()

  let destroyed = false
  return {
    element: view.host,
    refresh,
    destroy() {
      if (destroyed) return
      destroyed = true
      for (const off of offs) off()
      if (waitsForBody) page.removeEventListener('DOMContentLoaded', mount)
      view.host.remove()
    },
  }
}
