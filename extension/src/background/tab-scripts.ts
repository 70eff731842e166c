/**
 * What the background does inside tabs: inject the content script (top frame), inject the Quill
 * bridge into a frame's main world on the content script's request, ask the content script to
 * show the picker, and check the optional host permission for an origin.
 */
import browser from 'webextension-polyfill'
import { PICK_MESSAGE, type PickMessage } from '../shared/requests.js'

/** Output names at the extension's root (scripts/build.mjs). */
export const CONTENT_SCRIPT = 'content.js'
export const QUILL_BRIDGE = 'quill-bridge.js'

/** The match pattern that grants host access to exactly one origin. */
export const originPattern = (origin: string): string => `${origin}/*`

export const hasOriginPermission = (origin: string): Promise<boolean> =>
  browser.permissions.contains({ origins: [originPattern(origin)] })

/**
 * Resolves true once the extension holds host access to `origin` — the popup asks for it in its
 * click handler (only a user gesture may) while the request that needs it is already here — or
 * false after `timeoutMs` or when `signal` aborts (the user stopped, or refused).
 */
export const waitForOriginPermission = async (
  origin: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<boolean> => {
  if (await hasOriginPermission(origin)) return true
  if (signal.aborted) return false
  return new Promise((resolve) => {
    const finish = (granted: boolean) => {
      clearTimeout(timer)
      browser.permissions.onAdded.removeListener(onAdded)
      signal.removeEventListener('abort', onAbort)
      resolve(granted)
    }
    const onAdded = () => {
      void hasOriginPermission(origin).then((granted) => {
        if (granted) finish(true)
      })
    }
    const onAbort = () => finish(false)
    const timer = setTimeout(onAbort, timeoutMs)
    browser.permissions.onAdded.addListener(onAdded)
    signal.addEventListener('abort', onAbort)
    // Granted between the first check and the listener: onAdded would not fire again.
    onAdded()
  })
}

/**
 * Injects `content.js` into the tab's top frame. Injecting twice is harmless: the script checks
 * a flag on its isolated world's `globalThis` (the contract with the content script).
 */
export const injectContentScript = async (tabId: number): Promise<void> => {
  await browser.scripting.executeScript({ target: { tabId }, files: [CONTENT_SCRIPT] })
}

/** Injects `quill-bridge.js` into one frame's main world (the page's own JavaScript). */
export const injectQuillBridge = async (tabId: number, frameId: number): Promise<void> => {
  await browser.scripting.executeScript({
    target: { tabId, frameIds: [frameId] },
    files: [QUILL_BRIDGE],
    world: 'MAIN',
  })
}

/** Asks the tab's content script (top frame) to show the field picker. */
export const sendPick = async (tabId: number): Promise<void> => {
  const message: PickMessage = { type: PICK_MESSAGE }
  await browser.tabs.sendMessage(tabId, message, { frameId: 0 })
}
