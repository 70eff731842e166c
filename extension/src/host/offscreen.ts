/**
 * Chrome only: the offscreen document's script — the session host of the Chrome build. A service
 * worker has no `RTCPeerConnection`, so the background opens this document (reason `WEB_RTC`) and
 * the sessions live here; the document can only use `chrome.runtime`, so everything it needs
 * arrives over the `coedit-host` port it opens to the service worker (host-link-messages.ts).
 *
 * The service worker is stopped when idle and its ports close with it. While any session is open,
 * this document posts a keepalive every 20 s (extension messages reset the worker's 30 s idle
 * timer, Chrome 110+), and if the port closes anyway (restart, crash) it connects again: the
 * worker wakes, reloads its shares from `storage.session` and reconciles.
 */
import {
  HOST_PORT,
  readBackgroundToHost,
  type BackgroundToHost,
  type HostToBackground,
} from './host-link-messages.js'
import type { HostPort } from './host-port.js'
import { openSession } from './open-session.js'
import { createSessionHost } from './session-host.js'

const KEEPALIVE_MS = 20_000

/** A relayed content port: what the host sees of one tab's `coedit-doc` port. */
interface Relayed {
  readonly port: HostPort
  readonly deliver: (data: unknown) => void
  readonly close: () => void
}

let port: chrome.runtime.Port | undefined
const relayed = new Map<number, Relayed>()

const post = (message: HostToBackground) => {
  try {
    port?.postMessage(message)
  } catch {
    // The worker's side closed; onDisconnect reconnects and the worker reconciles.
    port = undefined
  }
}

const host = createSessionHost({
  openSession,
  onStatus: ({ tabId, status }) => post({ kind: 'status', tabId, status }),
  onDrop: ({ tabId, reason }) =>
    console.warn(`coedit: dropped a message from tab ${tabId}: ${reason}`),
})

const relay = (connectionId: number): Relayed => {
  const messageListeners = new Set<(data: unknown) => void>()
  const disconnectListeners = new Set<() => void>()
  let closed = false
  const close = () => {
    if (closed) return
    closed = true
    relayed.delete(connectionId)
    for (const listener of [...disconnectListeners]) listener()
  }
  return {
    port: {
      postMessage: (message) => {
        if (!closed) post({ kind: 'message', connectionId, message })
      },
      onMessage(listener) {
        messageListeners.add(listener)
        return () => messageListeners.delete(listener)
      },
      onDisconnect(listener) {
        disconnectListeners.add(listener)
        return () => disconnectListeners.delete(listener)
      },
      disconnect() {
        if (closed) return
        closed = true
        relayed.delete(connectionId)
        post({ kind: 'close', connectionId })
      },
    },
    deliver: (data) => {
      for (const listener of [...messageListeners]) listener(data)
    },
    close,
  }
}

const stopped = () => {
  if (host.tabs().length === 0) post({ kind: 'idle' })
}

const handle = (message: BackgroundToHost) => {
  switch (message.kind) {
    case 'attach':
      try {
        host.attach(message.share)
      } catch (error) {
        const text = error instanceof Error ? error.message : String(error)
        post({ kind: 'attach-failed', tabId: message.share.tabId, error: text })
      }
      return
    case 'stop':
      void host.stop(message.tabId, message.reason).then(stopped)
      return
    case 'user':
      host.setUser(message.user)
      return
    case 'reconcile': {
      const keep = new Set(message.shares.map((share) => share.tabId))
      for (const tabId of host.tabs()) {
        if (!keep.has(tabId)) void host.stop(tabId, 'Sharing stopped').then(stopped)
      }
      for (const share of message.shares) handle({ kind: 'attach', share })
      return
    }
    case 'open': {
      const connection = relay(message.connectionId)
      relayed.set(message.connectionId, connection)
      host.connect(message.tabId, connection.port)
      return
    }
    case 'message':
      relayed.get(message.connectionId)?.deliver(message.data)
      return
    case 'close':
      relayed.get(message.connectionId)?.close()
      return
  }
}

const connect = () => {
  const next = chrome.runtime.connect({ name: HOST_PORT })
  port = next
  next.onMessage.addListener((data: unknown) => {
    const message = readBackgroundToHost(data)
    if (message === undefined) console.warn('coedit: dropped a malformed message from the worker')
    else handle(message)
  })
  next.onDisconnect.addListener(() => {
    if (port === next) port = undefined
    // The tabs' ports went with the worker; their content scripts connect again.
    for (const connection of [...relayed.values()]) connection.close()
    // Always reconnect, so the worker can reach this document again; a worker with no shares
    // closes it (chrome.offscreen.closeDocument) when the port arrives.
    connect()
  })
}

setInterval(() => {
  if (host.tabs().length > 0) post({ kind: 'keepalive' })
}, KEEPALIVE_MS)

connect()
