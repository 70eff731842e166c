/**
 * A fake extension runtime for the content script: `connect` opens a fake port whose other end
 * goes to `onConnect` (the test's host), one-shot messages are delivered with `send`, and the
 * extension can be "reloaded" under the page (`invalidate`).
 */
import { vi } from 'vitest'
import type { ContentRuntime, MessageHandler } from '../../../src/content/runtime.js'
import type { FakePort, PortNetwork } from './fake-port.js'

export interface FakeRuntime extends ContentRuntime {
  readonly sendMessage: ReturnType<typeof vi.fn<(message: unknown) => Promise<unknown>>>
  /** Names of the ports opened so far. */
  readonly connected: string[]
  /** Delivers a one-shot message as `tabs.sendMessage` would; resolves with the answer. */
  send(message: unknown): Promise<unknown>
  /** The extension is reloaded: API calls fail, the next disconnect carries Chrome's error. */
  invalidate(): void
  /** What `runtime.lastError` says during the next disconnect. */
  lastError: string | undefined
  readonly handlers: Set<MessageHandler>
}

export const createFakeRuntime = (
  network: PortNetwork,
  onConnect: (hostEnd: FakePort) => void,
): FakeRuntime => {
  let valid = true
  const handlers = new Set<MessageHandler>()
  const connected: string[] = []
  const runtime: FakeRuntime = {
    connected,
    handlers,
    lastError: undefined,
    connect(name) {
      if (!valid) throw new Error('Extension context invalidated.')
      connected.push(name)
      const [content, host] = network.pair()
      onConnect(host)
      return content
    },
    sendMessage: vi.fn((message: unknown) => {
      if (!valid) return Promise.reject(new Error('Extension context invalidated.'))
      return Promise.resolve(
        (message as { type?: unknown }).type === 'coedit:inject-quill-bridge'
          ? { ok: true }
          : undefined,
      )
    }),
    onMessage(handler) {
      handlers.add(handler)
      return () => handlers.delete(handler)
    },
    isValid: () => valid,
    disconnectError: () => runtime.lastError,
    async send(message) {
      for (const handler of handlers) {
        const answer = handler(message)
        if (answer !== undefined) return answer
      }
      return undefined
    },
    invalidate() {
      valid = false
      runtime.lastError = 'Extension context invalidated.'
    },
  }
  return runtime
}
