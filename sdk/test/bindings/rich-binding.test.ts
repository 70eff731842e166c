// @vitest-environment happy-dom
/**
 * The contenteditable binding in happy-dom: seeding, rendering from the model, local DOM edits
 * becoming minimal model changes, remote edits patching only changed blocks, idleness and
 * destroy(). Keyboard, IME and caret behaviour are covered in Chromium (test/browser).
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { bindContentEditable } from '../../src/bindings/content-editable.js'
import { renderLines } from '../../src/bindings/rich/delta-to-dom.js'
import { parseDom } from '../../src/bindings/rich/dom-to-delta.js'
import { linesToDelta, readLines } from '../../src/bindings/rich/lines.js'

const editors: HTMLElement[] = []
afterEach(() => {
  for (const editor of editors.splice(0)) editor.remove()
})

const editor = (markup: string[] = []) => {
  const element = document.createElement('div')
  element.contentEditable = 'true'
  for (const text of markup) {
    const p = document.createElement('p')
    p.textContent = text
    element.append(p)
  }
  document.body.append(element)
  editors.push(element)
  return element
}
const markup = (element: Element) => Array.from(element.children, (c) => c.outerHTML).join('')
const flush = () => new Promise((resolve) => setTimeout(resolve, 0))

describe('bindContentEditable (happy-dom)', () => {
  it('renders an empty model as one empty paragraph and writes nothing', () => {
    const doc = new Y.Doc()
    let updates = 0
    doc.on('update', () => updates++)
    const element = editor()
    const binding = bindContentEditable(doc.getText('t'), element)
    expect(markup(element)).toBe('<p><br></p>')
    expect(updates).toBe(0)
    binding.destroy()
  })

  it('seeds an empty model from the page content identically on two peers', () => {
    const a = new Y.Doc()
    const b = new Y.Doc()
    bindContentEditable(a.getText('t'), editor(['first', 'second']), { field: 't' })
    bindContentEditable(b.getText('t'), editor(['first', 'second']), { field: 't' })
    Y.applyUpdate(a, Y.encodeStateAsUpdate(b))
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
    expect(a.getText('t').toString()).toBe('first\nsecond\n')
    expect(b.getText('t').toString()).toBe('first\nsecond\n')
  })

  it('turns a local DOM edit into a minimal model change', async () => {
    const doc = new Y.Doc()
    const ytext = doc.getText('t')
    ytext.insert(0, 'one\ntwo\n')
    const element = editor()
    bindContentEditable(ytext, element)
    const changes: unknown[] = []
    ytext.observe((event) => changes.push(event.delta))
    const second = element.children[1]?.firstChild as Text
    second.data = 'two!'
    await flush()
    expect(ytext.toString()).toBe('one\ntwo!\n')
    expect(changes).toEqual([[{ retain: 7 }, { insert: '!' }]])
  })

  it('patches only the changed block on a remote edit', () => {
    const doc = new Y.Doc()
    const ytext = doc.getText('t')
    ytext.insert(0, 'one\ntwo\nthree\n')
    const element = editor()
    bindContentEditable(ytext, element)
    const [first, second, third] = Array.from(element.children)
    ytext.insert(5, 'X', { bold: true })
    expect(markup(element)).toBe('<p>one</p><p>t<strong>X</strong>wo</p><p>three</p>')
    expect(element.children[0]).toBe(first)
    expect(element.children[1]).not.toBe(second)
    expect(element.children[2]).toBe(third)
  })

  it("renders other peers' changes once per frame, and this page's own at once", async () => {
    const doc = new Y.Doc()
    const ytext = doc.getText('t')
    ytext.insert(0, 'one\ntwo\nthree\n')
    const peer = new Y.Doc()
    Y.applyUpdate(peer, Y.encodeStateAsUpdate(doc))
    peer.on('update', (update: Uint8Array) => Y.applyUpdate(doc, update, 'remote'))
    const element = editor()
    const binding = bindContentEditable(ytext, element)
    const [first, second, third] = Array.from(element.children)
    const records: MutationRecord[] = []
    const watcher = new MutationObserver((list) => records.push(...list))
    watcher.observe(element, { childList: true, subtree: true, characterData: true })
    // A burst of 100 remote keystrokes: nothing is rendered until the frame…
    for (let k = 0; k < 100; k++) peer.getText('t').insert(5 + k, 'x')
    expect(markup(element)).toBe('<p>one</p><p>two</p><p>three</p>')
    await new Promise((resolve) => requestAnimationFrame(resolve))
    // …which renders the changed block once, and only it.
    expect(markup(element)).toBe(`<p>one</p><p>t${'x'.repeat(100)}wo</p><p>three</p>`)
    expect(element.children[0]).toBe(first)
    expect(element.children[1]).not.toBe(second)
    expect(element.children[2]).toBe(third)
    watcher.disconnect()
    records.push(...watcher.takeRecords())
    const replaced = records.flatMap((record) => Array.from(record.removedNodes))
    expect(replaced).toEqual([second])
    // A local change (here: code in this page) is rendered synchronously.
    ytext.insert(0, 'L')
    expect(element.children[0]?.textContent).toBe('Lone')
    // flush() renders what is queued without waiting for the frame.
    peer.getText('t').insert(0, 'R')
    expect(element.children[0]?.textContent).toBe('Lone')
    binding.flush()
    expect(element.children[0]?.textContent).toBe(ytext.toString().split('\n')[0])
    expect(element.children[0]?.textContent).toMatch(/^(RL|LR)one$/)
    binding.destroy()
  })

  it('renders queued remote changes before the browser edits (beforeinput)', () => {
    const doc = new Y.Doc()
    const ytext = doc.getText('t')
    ytext.insert(0, 'one\n')
    const peer = new Y.Doc()
    Y.applyUpdate(peer, Y.encodeStateAsUpdate(doc))
    peer.on('update', (update: Uint8Array) => Y.applyUpdate(doc, update, 'remote'))
    const element = editor()
    const binding = bindContentEditable(ytext, element)
    peer.getText('t').insert(3, '!')
    expect(element.textContent).toBe('one')
    element.dispatchEvent(new InputEvent('beforeinput', { inputType: 'insertText', data: 'a' }))
    expect(element.textContent).toBe('one!')
    binding.destroy()
  })

  it('splits and merges lists at the edges of a re-rendered range', () => {
    const doc = new Y.Doc()
    const ytext = doc.getText('t')
    ytext.insert(0, 'a\nb\nc\nd\ne\n')
    for (const at of [1, 3, 7, 9]) ytext.format(at, 1, { list: 'bullet' })
    const element = editor()
    bindContentEditable(ytext, element)
    const lists = '<ul><li>a</li><li>b</li></ul><p>c</p><ul><li>d</li><li>e</li></ul>'
    expect(markup(element)).toBe(lists)
    ytext.format(5, 1, { list: 'bullet' })
    expect(markup(element)).toBe('<ul><li>a</li><li>b</li><li>c</li><li>d</li><li>e</li></ul>')
    ytext.format(5, 1, { list: 'ordered' })
    expect(markup(element)).toBe(
      '<ul><li>a</li><li>b</li></ul><ol><li>c</li></ol><ul><li>d</li><li>e</li></ul>',
    )
    ytext.delete(4, 2)
    expect(markup(element)).toBe('<ul><li>a</li><li>b</li><li>d</li><li>e</li></ul>')
    ytext.insert(4, 'c\n', {})
    expect(markup(element)).toBe(lists)
  })

  it('renders remote and local edits by range exactly as a full render would (seeded)', () => {
    const seed = Number(process.env['SEED'] ?? 20240612)
    let state = seed
    const random = () => (state = (state * 16807) % 2147483647) / 2147483647
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T
    const canonical = (ytext: Y.Text) => {
      const container = document.createElement('div')
      container.append(...renderLines(document, readLines(ytext).lines))
      return markup(container)
    }
    const blocks = [
      {},
      { header: 1 },
      { list: 'bullet' },
      { list: 'ordered' },
      { blockquote: true },
    ]
    let checks = 0
    for (let round = 0; round < 30; round++) {
      const doc = new Y.Doc()
      const ytext = doc.getText('t')
      for (let i = 0; i < 12; i++) ytext.insert(ytext.length, `line ${i}\n`, pick(blocks))
      const element = editor()
      const binding = bindContentEditable(ytext, element)
      for (let step = 0; step < 40; step++) {
        const length = ytext.length
        const at = Math.floor(random() * (length + 1))
        const roll = random()
        if (roll < 0.3) {
          ytext.insert(at, pick(['a', 'bc', '\n', 'x\ny', '\n\n']), pick([{}, { bold: true }]))
        } else if (roll < 0.45 && length > 1) {
          const from = Math.min(at, length - 2)
          ytext.delete(from, Math.min(1 + Math.floor(random() * 6), length - 1 - from))
        } else if (roll < 0.6 && length > 0) {
          ytext.format(Math.min(at, length - 1), 1 + Math.floor(random() * 8), pick(blocks))
        } else {
          // A local edit: text typed into (or removed from) one block, or a block split in two.
          const items = Array.from(element.querySelectorAll('p, h1, li, blockquote'))
          const block = pick(items)
          const text = block.firstChild
          if (roll < 0.85 && text?.nodeType === 3) {
            const data = (text as Text).data
            const cut = Math.floor(random() * (data.length + 1))
            ;(text as Text).data = data.slice(0, cut) + pick(['', 'q', 'zz']) + data.slice(cut + 1)
          } else {
            const copy = document.createElement(block.tagName)
            copy.textContent = 'new'
            block.after(copy)
          }
          element.dispatchEvent(new Event('input'))
          const read = parseDom(element, { mode: 'live' }).lines
          expect(JSON.stringify(linesToDelta(read)), `seed ${seed}`).toBe(
            JSON.stringify(linesToDelta(readLines(ytext).lines)),
          )
        }
        expect(markup(element), `seed ${seed} round ${round} step ${step}`).toBe(canonical(ytext))
        checks++
      }
      binding.destroy()
    }
    expect(checks).toBe(1200)
  })

  it('stops listening after destroy()', async () => {
    const doc = new Y.Doc()
    const ytext = doc.getText('t')
    const element = editor()
    const binding = bindContentEditable(ytext, element)
    binding.destroy()
    ytext.insert(0, 'remote\n')
    expect(markup(element)).toBe('<p><br></p>')
    element.append(document.createElement('p'))
    element.dispatchEvent(new Event('input'))
    await flush()
    expect(ytext.toString()).toBe('remote\n')
    expect(element.style.getPropertyValue('white-space')).toBe('')
  })
})
