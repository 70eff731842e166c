// @vitest-environment happy-dom
/**
 * The contenteditable binding in happy-dom: seeding, rendering from the model, local DOM edits
 * becoming minimal model changes, remote edits patching only changed blocks, idleness and
 * destroy(). Keyboard, IME and caret behaviour are covered in Chromium (test/browser).
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { bindContentEditable } from '../../src/bindings/content-editable.js'

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
