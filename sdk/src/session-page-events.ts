/**
 * The page events a session reacts to, in one place so `destroy()` can remove them all:
 * `online` and a tab becoming visible retry a pending reconnect at once (requirements R14);
 * `pagehide` withdraws presence so no ghost cursor lingers (R15), `pageshow` from the
 * back/forward cache brings it back. Outside a browser (Node) there is nothing to listen to.
 */
export interface PageEventHandlers {
  retryNow(): void
  pageHidden(): void
  pageShown(): void
}

export const listenToPage = (handlers: PageEventHandlers): (() => void) => {
  if (typeof window === 'undefined' || typeof document === 'undefined') return () => undefined
  const onVisibility = () => {
    if (document.visibilityState === 'visible') handlers.retryNow()
  }
  const onOnline = () => handlers.retryNow()
  const onPageHide = () => handlers.pageHidden()
  const onPageShow = (event: PageTransitionEvent) => {
    if (event.persisted) handlers.pageShown()
  }
  window.addEventListener('online', onOnline)
  document.addEventListener('visibilitychange', onVisibility)
  window.addEventListener('pagehide', onPageHide)
  window.addEventListener('pageshow', onPageShow)
  return () => {
    window.removeEventListener('online', onOnline)
    document.removeEventListener('visibilitychange', onVisibility)
    window.removeEventListener('pagehide', onPageHide)
    window.removeEventListener('pageshow', onPageShow)
  }
}
