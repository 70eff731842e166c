/**
 * Firefox only: keeps the event page — which is the session host — from being suspended while a
 * tab shares. Firefox suspends an idle MV3 event page after ~30 s whatever it holds (open
 * WebSockets and ports do not count), which would drop every session and presence. Extension
 * events reset that timer, so while `set(true)`, a hidden extension frame inside the page sends
 * the background a runtime message every 20 s (keepalive-frame.ts); `set(false)` removes it and
 * lets the page sleep again.
 */
import browser from 'webextension-polyfill'

export const KEEPALIVE_PAGE = 'keepalive.html'

export interface Keepalive {
  set(active: boolean): void
}

export const createKeepalive = (): Keepalive => {
  let frame: HTMLIFrameElement | undefined
  return {
    set(active) {
      if (active && frame === undefined) {
        frame = document.createElement('iframe')
        frame.src = browser.runtime.getURL(KEEPALIVE_PAGE)
        // `body` can be null in Firefox's generated background page (scripts in its head).
        ;(document.body ?? document.documentElement).append(frame)
      } else if (!active && frame !== undefined) {
        frame.remove()
        frame = undefined
      }
    },
  }
}
