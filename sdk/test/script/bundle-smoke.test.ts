// @vitest-environment happy-dom
/**
 * The built `coedit.js` run as a page runs it: evaluated with its script tag as
 * `document.currentScript`, it defines `window.Coedit`, starts from the tag's attributes, binds
 * a textarea and the page's own Quill editor (loading its inlined quill-cursors), and keeps the
 * first copy when loaded twice. No network: the relay's WebSocket is a stub that never opens.
 * Real-browser behaviour is covered by the Chromium tests.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import Quill from 'quill'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { CoeditGlobal } from '../../src/script/coedit-global.js'
import type { CoeditInstance } from '../../src/script/start.js'
import { readBundle, SDK_DIR } from './bundle-file.js'

const { version } = JSON.parse(readFileSync(resolve(SDK_DIR, 'package.json'), 'utf8')) as {
  version: string
}

type PageWindow = Window & { Coedit?: CoeditGlobal; Quill?: unknown }
const page = window as PageWindow

/** A WebSocket that reports where it was pointed and never connects. */
class StubWebSocket {
  static onCreate: (url: string) => void = () => undefined
  binaryType = 'blob'
  readyState = 0
  onopen = null
  onmessage = null
  onclose = null
  onerror = null
  constructor(url: string) {
    StubWebSocket.onCreate(url)
  }
  send() {
    throw new Error('the stub never opens')
  }
  close() {
    this.readyState = 3
  }
}

afterEach(async () => {
  await page.Coedit?.instance?.destroy()
  delete page.Coedit
  delete page.Quill
  delete (document as { currentScript?: unknown }).currentScript
  vi.unstubAllGlobals()
  document.body.replaceChildren()
})

/** Runs the bundle as if loaded by `script`. */
const load = (script: HTMLScriptElement) => {
  Object.defineProperty(document, 'currentScript', { configurable: true, get: () => script })
  new Function(readBundle())()
}

/** Resolves when an element matching `selector` is inside `root`. */
const appears = (root: Element, selector: string) =>
  new Promise<Element>((resolve) => {
    const check = () => {
      const found = root.querySelector(selector)
      if (found === null) return false
      observer.disconnect()
      resolve(found)
      return true
    }
    const observer = new MutationObserver(check)
    observer.observe(root, { childList: true, subtree: true })
    check()
  })

describe('coedit.js (built bundle)', () => {
  it('defines window.Coedit and starts from its script tag', async () => {
    vi.stubGlobal('WebSocket', StubWebSocket)
    const relayUrl = new Promise<string>((resolve) => (StubWebSocket.onCreate = resolve))
    page.Quill = Quill
    const summary = document.createElement('textarea')
    summary.setAttribute('data-coedit', 'summary')
    summary.value = 'hello'
    const container = document.createElement('div')
    container.setAttribute('data-coedit', 'notes')
    document.body.append(summary, container)
    const quill = new Quill(container)
    quill.setText('quill text')

    const script = document.createElement('script')
    script.src = 'https://coedit.example/coedit.js'
    script.setAttribute('data-room', 'smoke')
    script.setAttribute('data-user-name', 'Ada')
    script.setAttribute('data-user-color', '#e91e63')
    let ready: CoeditInstance | undefined
    document.addEventListener('coedit:ready', (event) => {
      ready = (event as CustomEvent<CoeditInstance>).detail
    })
    load(script)

    const coedit = page.Coedit
    expect(coedit?.version).toBe(version)
    expect(coedit?.instance).toBeDefined()
    expect(ready).toBe(coedit?.instance)
    const session = coedit?.instance?.session
    expect(session?.room).toBe('smoke')
    expect(session?.awareness.getLocalState()?.['user']).toEqual({ name: 'Ada', color: '#e91e63' })
    // The relay connects once the (absent) token is fetched: a microtask later.
    expect(await relayUrl).toMatch(/^wss:\/\/coedit\.example\/relay\/smoke\b/)
    expect(session?.getText('summary').toString()).toBe('hello')
    expect(session?.getText('notes').toString()).toBe('quill text')
    expect(document.querySelector('[data-coedit-badge]')?.getAttribute('data-path')).toBe('offline')
    // bindQuill loads quill-cursors (inlined) and puts its layer into the editor.
    await appears(container, '.ql-cursors')
    expect((Quill.imports as Record<string, unknown>)['modules/cursors']).toBeTypeOf('function')
  })

  it('keeps the first copy when loaded twice', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    // Each evaluation brings its own Yjs, which warns about the previous one.
    const yjsWarning = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    const script = document.createElement('script')
    script.src = 'https://coedit.example/coedit.js'
    load(script)
    const first = page.Coedit
    expect(first?.instance).toBeUndefined() // no data-room: code use only
    load(script)
    expect(page.Coedit).toBe(first)
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('loaded twice'))
    warn.mockRestore()
    yjsWarning.mockRestore()
  })
})
