// @vitest-environment happy-dom
/**
 * The entry script injected twice into one tab: the second run replaces the first (one panel,
 * one port, one message listener), and nothing is put on the page's `window`.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { PANEL_ATTRIBUTE } from '../../src/content/presence-panel.js'
import { createPortNetwork, type FakePort } from './helpers/fake-port.js'

const network = createPortNetwork()
const ports: FakePort[] = []
const listeners = new Set<unknown>()

const fakeBrowser = {
  runtime: {
    id: 'extension-id',
    lastError: undefined,
    connect: () => {
      const [content, host] = network.pair()
      ports.push(content)
      void host
      return content
    },
    sendMessage: () => Promise.resolve(undefined),
    onMessage: {
      addListener: (listener: unknown) => listeners.add(listener),
      removeListener: (listener: unknown) => listeners.delete(listener),
    },
  },
}

vi.mock('webextension-polyfill', () => ({ default: fakeBrowser }))
vi.mock('../../src/content/page-quill.js', () => ({ bindPageQuill: vi.fn() }))

const RUN = Symbol.for('coedit.content-script')

afterEach(() => {
  const scope = globalThis as { [RUN]?: { destroy(): void } | undefined }
  scope[RUN]?.destroy()
  scope[RUN] = undefined
  document.body.replaceChildren()
})

/** Runs the entry as a fresh injection would (a new module instance each time). */
const inject = async () => {
  vi.resetModules()
  await import('../../src/content/index.js')
}

describe('content.js entry', () => {
  it('replaces the previous run when injected again', async () => {
    const globalsBefore = new Set(Object.keys(window))
    await inject()
    await inject()
    await network.idle()
    expect(document.querySelectorAll(`[${PANEL_ATTRIBUTE}]`)).toHaveLength(1)
    expect(ports).toHaveLength(2)
    expect(ports[0]?.disconnected).toBe(true)
    expect(ports[1]?.disconnected).toBe(false)
    expect(listeners.size).toBe(1)
    // Only a symbol-keyed slot on the (isolated world's) global; no string-named globals but
    // Yjs's own duplicate-import marker.
    const added = Object.keys(window).filter((key) => !globalsBefore.has(key))
    expect(added.filter((key) => key !== '__ $YJS$ __')).toEqual([])
    expect((window as unknown as Record<symbol, unknown>)[RUN]).toBeDefined()
  })
})
