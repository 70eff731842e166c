/**
 * The session host's view of one content script's `coedit-doc` port (`HostPort`), and the
 * generic wrapper that turns a `runtime.Port` into one. On Firefox the host gets the tab's real
 * port; on Chrome the offscreen document gets the port's traffic relayed through the service
 * worker and builds the same interface over it; tests use in-memory pairs. Whatever arrives
 * through `onMessage` is untrusted.
 */
import type { Runtime } from 'webextension-polyfill'
import type { HostToContent } from '../shared/messages.js'

/** A message port as the extension's modules use it; `Out` is what this side posts. */
export interface PortLike<Out> {
  postMessage(message: Out): void
  /** Subscribes to incoming (unvalidated) messages; returns the unsubscribe function. */
  onMessage(listener: (data: unknown) => void): () => void
  /** Called once when the other side goes away (tab closed or navigated, script reloaded). */
  onDisconnect(listener: () => void): () => void
  disconnect(): void
}

export type HostPort = PortLike<HostToContent>

/**
 * Messages kept for a port nobody listens to yet. A content script says `hello` the moment it
 * connects, while the background may still be loading its shares from storage; a page that
 * floods a port it is not served on must not grow memory without bound.
 */
const MAX_BUFFERED = 1000

/**
 * Wraps `port`, listening at once: messages that arrive before the first `onMessage` subscriber
 * are buffered and replayed to it (Chrome drops port messages that find no listener), and a
 * disconnect before the first `onDisconnect` subscriber is reported to it on subscription.
 */
export const portFromRuntime = <Out>(port: Runtime.Port): PortLike<Out> => {
  const messageListeners = new Set<(data: unknown) => void>()
  const disconnectListeners = new Set<() => void>()
  const buffered: unknown[] = []
  let disconnected = false

  port.onMessage.addListener((data: unknown) => {
    if (messageListeners.size === 0) {
      if (buffered.length < MAX_BUFFERED) buffered.push(data)
      return
    }
    for (const listener of [...messageListeners]) listener(data)
  })
  port.onDisconnect.addListener(() => {
    disconnected = true
    for (const listener of [...disconnectListeners]) listener()
    disconnectListeners.clear()
  })

  return {
    postMessage(message) {
      if (disconnected) return
      try {
        port.postMessage(message)
      } catch {
        // Closed between its disconnect event and this post (Chrome throws); onDisconnect runs.
        disconnected = true
      }
    },
    onMessage(listener) {
      messageListeners.add(listener)
      for (const data of buffered.splice(0)) listener(data)
      return () => messageListeners.delete(listener)
    },
    onDisconnect(listener) {
      if (disconnected) queueMicrotask(listener)
      else disconnectListeners.add(listener)
      return () => disconnectListeners.delete(listener)
    },
    disconnect() {
      disconnected = true
      disconnectListeners.clear()
      port.disconnect()
    },
  }
}
