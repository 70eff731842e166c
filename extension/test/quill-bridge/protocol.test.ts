// @vitest-environment happy-dom
/**
 * The bridge protocol at its boundary: events for another binding or garbled ones change nothing,
 * a change that cannot be applied makes the shared text win, teardown leaves no listener behind,
 * injecting the bridge twice is harmless, and a missing bridge or Quill rejects `ready`.
 */
import Quill from 'quill'
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import {
  ATTACH_EVENT,
  TO_CONTENT_EVENT,
  TO_PAGE_EVENT,
} from '../../src/main-world/bridge-protocol.js'
import { BRIDGE_KEY, installQuillBridge } from '../../src/main-world/install-bridge.js'
import {
  bind,
  cleanUp,
  createPageQuill,
  exchange,
  forge,
  installPage,
  recordTraffic,
} from './helpers.js'

afterEach(() => {
  cleanUp()
  vi.restoreAllMocks()
})

/** A bound page Quill, its Y.Text and the binding's nonce (read from the recorded traffic). */
const boundQuill = async (text = '') => {
  installPage()
  const doc = new Y.Doc()
  const ytext = doc.getText('field:a')
  const quill = createPageQuill(text)
  const traffic = recordTraffic(quill.container)
  const binding = bind(ytext, quill.container)
  await binding.ready
  const nonce = traffic.find((entry) => entry.type === 'attached')?.nonce
  if (nonce === undefined) throw new Error('no attached message')
  return { doc, ytext, quill, traffic, binding, nonce }
}

const WRONG_NONCE = 'AAAAAAAAAAAAAAAAAAAAAA'

describe('quill bridge protocol', () => {
  it('ignores page deltas with another nonce', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const { ytext, quill } = await boundQuill()
    const detail = JSON.stringify({ nonce: WRONG_NONCE, type: 'delta', delta: [{ insert: 'x' }] })
    forge(quill.container, TO_CONTENT_EVENT, detail)
    expect(ytext.length).toBe(0)
  })

  it('ignores malformed details: bad JSON, objects, oversized ones', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const { ytext, quill, nonce } = await boundQuill()
    forge(quill.container, TO_CONTENT_EVENT, '{"nonce": "' + nonce)
    // An object detail (what a careless sender would post) is not read at all.
    forge(quill.container, TO_CONTENT_EVENT, { nonce, type: 'delta', delta: [{ insert: 'x' }] })
    forge(quill.container, TO_CONTENT_EVENT, 'x'.repeat(8_000_001))
    expect(ytext.length).toBe(0)
    expect(quill.getText()).toBe('\n')
    // Reported once, not once per event.
    expect(warn).toHaveBeenCalledTimes(1)
  })

  it('ignores to-page messages with another nonce or a malformed shape', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const { quill, nonce } = await boundQuill()
    const apply = (n: string, delta: unknown) =>
      forge(quill.container, TO_PAGE_EVENT, JSON.stringify({ nonce: n, type: 'apply', delta }))
    apply(WRONG_NONCE, [{ insert: 'x' }])
    apply(nonce, [{ insert: 'x', retain: 1 }])
    apply(nonce, [{ retain: -1 }])
    apply(nonce, [{ insert: 'x', attributes: { __proto__: { bold: true } } }])
    apply(nonce, [{ insert: { image: 'a.png', video: 'b.mp4' } }])
    expect(quill.getText()).toBe('\n')
  })

  it('sets the page to the shared text when a page delta overruns the text', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const { ytext, quill, traffic, nonce } = await boundQuill()
    quill.insertText(0, 'abc', 'user')
    const before = traffic.length
    const detail = JSON.stringify({
      nonce,
      type: 'delta',
      delta: [{ retain: 1000, attributes: { bold: true } }],
    })
    forge(quill.container, TO_CONTENT_EVENT, detail)
    // Y.Text would have padded itself with ~1000 newlines.
    expect(ytext.toString()).toBe('abc')
    expect(traffic.slice(before).map((entry) => entry.type)).toEqual(['delta', 'set'])
    expect(quill.getText()).toBe('abc\n')
  })

  it('stops with onError when the page cannot take even the shared text', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    vi.spyOn(console, 'error').mockImplementation(() => undefined)
    installPage()
    const ytext = new Y.Doc().getText('field:a')
    const quill = createPageQuill()
    const onError = vi.fn()
    await bind(ytext, quill.container, { onError }).ready
    // A page whose Quill throws on every change.
    vi.spyOn(quill, 'updateContents').mockImplementation(() => {
      throw new Error('broken editor')
    })
    vi.spyOn(quill, 'setContents').mockImplementation(() => {
      throw new Error('broken editor')
    })
    ytext.insert(0, 'remote')
    expect(onError).toHaveBeenCalledTimes(1)
    expect(onError.mock.calls[0]?.[0]).toMatchObject({ code: 'quill-desync' })
    // Unbound: later edits do not reach the page any more.
    const traffic = recordTraffic(quill.container)
    ytext.insert(0, 'more')
    expect(traffic).toEqual([])
  })

  it('renders an embed the page cannot show as a placeholder of the same length', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const { doc, quill } = await boundQuill()
    const other = new Y.Doc()
    other.getText('field:a').insert(0, 'ab')
    other.getText('field:a').insertEmbed(1, { widget: 'x' })
    exchange(doc, other)
    expect(quill.getText()).toBe('a\uFFFCb\n')
    quill.insertText(3, '!', 'user')
    exchange(doc, other)
    expect(other.getText('field:a').toDelta()).toEqual([
      { insert: 'a' },
      { insert: { widget: 'x' } },
      { insert: 'b!' },
    ])
  })

  it('removes every listener on destroy: no traffic either way afterwards', async () => {
    const { ytext, quill, traffic, binding } = await boundQuill()
    quill.insertText(0, 'a', 'user')
    binding.destroy()
    expect(traffic.at(-1)?.type).toBe('detach')
    const count = traffic.length
    quill.insertText(1, 'b', 'user')
    quill.setSelection(0, 1, 'user')
    ytext.insert(0, 'z')
    expect(traffic).toHaveLength(count)
    expect(ytext.toString()).toBe('za')
    expect(quill.getText()).toBe('ab\n')
  })

  it('can bind the same editor again after destroy', async () => {
    const { quill, binding } = await boundQuill()
    binding.destroy()
    const ytext = new Y.Doc().getText('field:b')
    await bind(ytext, quill.container).ready
    quill.insertText(0, 'again', 'user')
    expect(ytext.toString()).toBe('again')
  })

  it('installs once: a second injection returns the installed bridge', async () => {
    const first = installPage()
    expect(installQuillBridge(window)).toBe(first)
    expect(Object.keys(window)).not.toContain(BRIDGE_KEY.toString())
    expect(Object.getOwnPropertyDescriptor(window, BRIDGE_KEY)?.enumerable).toBe(false)
    const quill = createPageQuill()
    const traffic = recordTraffic(quill.container)
    await bind(new Y.Doc().getText('field:a'), quill.container).ready
    expect(traffic.filter((entry) => entry.type === 'attached')).toHaveLength(1)
  })

  it('replaces a bridge of another version', () => {
    const old = { version: 0, destroy: vi.fn() }
    Object.defineProperty(window, BRIDGE_KEY, { value: old, configurable: true })
    const bridge = installPage()
    expect(old.destroy).toHaveBeenCalledTimes(1)
    expect(Reflect.get(window, BRIDGE_KEY)).toBe(bridge)
  })

  it('attaches once the bridge is installed after the request', async () => {
    const quill = new Quill(document.body.appendChild(document.createElement('div')))
    const ytext = new Y.Doc().getText('field:a')
    const binding = bind(ytext, quill.container)
    installPage()
    await binding.ready
    quill.insertText(0, 'late', 'user')
    expect(ytext.toString()).toBe('late')
    quill.container.remove()
  })

  it('rejects ready with quill-not-found when the element has no Quill', async () => {
    installPage()
    const element = document.body.appendChild(document.createElement('div'))
    element.contentEditable = 'true'
    const onError = vi.fn()
    const binding = bind(new Y.Doc().getText('field:a'), element, { onError })
    await expect(binding.ready).rejects.toMatchObject({ code: 'quill-not-found' })
    expect(onError.mock.calls[0]?.[0]).toMatchObject({ code: 'quill-not-found' })
    element.remove()
  })

  it('rejects ready with quill-bridge-failed when the page’s content cannot be read', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    installPage()
    const quill = createPageQuill()
    // An embed the protocol does not carry (two blot names), as some page blot could report.
    type Contents = ReturnType<Quill['getContents']>
    const Delta = quill.getContents().constructor as new (ops: unknown[]) => Contents
    const odd = new Delta([{ insert: { image: 'a.png', video: 'b.mp4' } }, { insert: '\n' }])
    vi.spyOn(quill, 'getContents').mockReturnValue(odd)
    const binding = bind(new Y.Doc().getText('field:a'), quill.container)
    await expect(binding.ready).rejects.toMatchObject({ code: 'quill-bridge-failed' })
  })

  it('rejects ready with quill-not-found when the page does not expose Quill', async () => {
    const bridge = installQuillBridge(window)
    const quill = createPageQuill()
    const binding = bind(new Y.Doc().getText('field:a'), quill.container)
    await expect(binding.ready).rejects.toMatchObject({ code: 'quill-not-found' })
    bridge.destroy()
  })

  it('rejects ready with quill-not-found when no bridge answers in time', async () => {
    const quill = createPageQuill()
    const traffic = recordTraffic(quill.container)
    const binding = bind(new Y.Doc().getText('field:a'), quill.container, { timeoutMs: 20 })
    await expect(binding.ready).rejects.toMatchObject({ code: 'quill-not-found' })
    expect(traffic.map((entry) => entry.type)).toEqual(['detach'])
  })

  it('rejects ready with destroyed when destroyed before the answer', async () => {
    const quill = createPageQuill()
    const binding = bind(new Y.Doc().getText('field:a'), quill.container)
    binding.destroy()
    await expect(binding.ready).rejects.toMatchObject({ code: 'destroyed' })
  })

  it('tells the previous binding when another one takes the editor', async () => {
    const { quill } = await boundQuill()
    const onError = vi.fn()
    // Rebinding the first one would replace it again: this one is created by hand.
    const first = bind(new Y.Doc().getText('field:b'), quill.container, { onError })
    await first.ready
    const second = new Y.Doc().getText('field:c')
    await bind(second, quill.container).ready
    expect(onError.mock.calls[0]?.[0]).toMatchObject({ code: 'quill-detached' })
    quill.insertText(0, 'x', 'user')
    expect(second.toString()).toBe('x')
  })

  it('throws at once on misuse', () => {
    const quill = createPageQuill()
    expect(() => bind(new Y.Text(), quill.container)).toThrow(/must belong to a Y.Doc/)
    const doc = new Y.Doc()
    expect(() => bind(doc.getText('a'), quill.container, { field: 'b' })).toThrow(/does not name/)
  })

  it('sends attach as a composed event so a shadow root does not hide it', () => {
    const quill = createPageQuill()
    const seen: boolean[] = []
    const listener = (event: Event) => seen.push(event.composed)
    document.addEventListener(ATTACH_EVENT, listener, true)
    bind(new Y.Doc().getText('field:a'), quill.container)
    document.removeEventListener(ATTACH_EVENT, listener, true)
    expect(seen).toEqual([true])
  })
})
