/**
 * The slice of the extension runtime the content script uses, behind one small interface so that
 * every other content module is tested with a fake (the real `browser` object only exists inside
 * an extension: webextension-polyfill throws on import anywhere else, which is why only
 * `index.ts` imports it and hands it to `createBrowserRuntime`).
 */
import type { Browser } from 'webextension-polyfill'

/** A `runtime.Port` as both Chrome and Firefox (and the polyfill) expose it. */
export interface PortLike {
  postMessage(message: unknown): void
  disconnect(): void
  readonly onMessage: PortEvent<(message: unknown) => void>
  readonly onDisconnect: PortEvent<() => void>
}

export interface PortEvent<Listener> {
  addListener(listener: Listener): void
  removeListener(listener: Listener): void
}

/**
 * A one-shot message from the background (`tabs.sendMessage`): the answer, if any, is returned as
 * a promise; `undefined` leaves the message to other listeners (there are none in this world).
 */
export type MessageHandler = (message: unknown) => Promise<unknown> | undefined

export interface ContentRuntime {
  /** Opens a port to the background. Throws once the extension context is invalidated. */
  connect(name: string): PortLike
  /** One request to the background; rejects when nobody answers or the context is gone. */
  sendMessage(message: unknown): Promise<unknown>
  /** Subscribes to one-shot messages; returns the unsubscribe function. */
  onMessage(handler: MessageHandler): () => void
  /**
   * False once the extension was reloaded or updated under this page: the script is orphaned,
   * every extension API call fails (Chrome: `runtime.id` becomes undefined).
   */
  isValid(): boolean
  /** Why `port` disconnected, if the browser says (Chrome: `runtime.lastError`; Firefox: `port.error`). */
  disconnectError(port: PortLike): string | undefined
}

/** Chrome's wording when an orphaned content script touches the extension. */
const INVALIDATED = /extension context invalidated/i

/** True when a disconnect or call failed because the extension went away under the page. */
export const isInvalidation = (runtime: ContentRuntime, error: string | undefined): boolean =>
  !runtime.isValid() || (error !== undefined && INVALIDATED.test(error))

const messageOf = (value: unknown): string | undefined => {
  if (typeof value !== 'object' || value === null) return undefined
  const message = (value as { message?: unknown }).message
  return typeof message === 'string' ? message : undefined
}

/** The runtime over webextension-polyfill's `browser` (Chrome and Firefox alike). */
export const createBrowserRuntime = (browser: Browser): ContentRuntime => ({
  connect: (name) => browser.runtime.connect({ name }),
  sendMessage: (message) => browser.runtime.sendMessage(message),
  onMessage(handler) {
    const listener = (message: unknown) => handler(message)
    browser.runtime.onMessage.addListener(listener)
    return () => browser.runtime.onMessage.removeListener(listener)
  },
  isValid() {
    try {
      return typeof browser.runtime.id === 'string'
    } catch (error) {
      // Some Chrome versions throw on any access to an invalidated runtime.
      return !INVALIDATED.test(messageOf(error) ?? '')
    }
  },
  disconnectError(port) {
    // Reading lastError inside onDisconnect also marks it checked (no "Unchecked
    // runtime.lastError" noise in the page's console on Chrome).
    return messageOf((port as { error?: unknown }).error) ?? messageOf(browser.runtime.lastError)
  },
})
