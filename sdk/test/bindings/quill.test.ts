// @vitest-environment happy-dom
/**
 * `bindQuill` against Quill 2 in happy-dom with two in-memory documents: seeding, undo scope and
 * teardown. Keyboard input, cursors and the network are covered in `test/browser/quill.test.ts`.
 */
import Quill from 'quill'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { bindQuill } from '../../src/bindings/quill.js'

const editors: HTMLElement[] = []
afterEach(() => {
  for (const element of editors.splice(0)) element.remove()
})

/** A Quill editor whose container starts with `html` (parsed by the page, as on a real site). */
const createQuill = (html = ''): Quill => {
  const container = document.createElement('div')
  if (html !== '') {
    const paragraph = document.createElement('p')
    paragraph.append(html)
    container.append(paragraph)
  }
  document.body.append(container)
  editors.push(container)
  return new Quill(container, { modules: { toolbar: false } })
}

/** Exchanges both documents' missing updates (one sync round). */
const exchange = (a: Y.Doc, b: Y.Doc) => {
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)), 'remote')
  Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)), 'remote')
}

describe('bindQuill (happy-dom)', () => {
  it('seeds identical page text once when two editors bind before syncing', () => {
    const [docA, docB] = [new Y.Doc(), new Y.Doc()]
    bindQuill(docA.getText('doc'), createQuill('Hello world'))
    bindQuill(docB.getText('doc'), createQuill('Hello world'))
    exchange(docA, docB)
    expect(docA.getText('doc').toString()).toBe('Hello world')
    expect(docB.getText('doc').toString()).toBe('Hello world')
  })

  it('undoes only its own edits through quill.history', () => {
    const [docA, docB] = [new Y.Doc(), new Y.Doc()]
    const quillA = createQuill()
    bindQuill(docA.getText('doc'), quillA)
    quillA.insertText(0, 'mine', 'user')
    exchange(docA, docB)
    docB.getText('doc').insert(4, ' theirs')
    exchange(docA, docB)
    expect(quillA.getText()).toBe('mine theirs\n')
    quillA.history.undo()
    expect(docA.getText('doc').toString()).toBe(' theirs')
    quillA.history.redo()
    expect(quillA.getText()).toBe('mine theirs\n')
  })

  it('throws at once when the text is not in a document', () => {
    expect(() => bindQuill(new Y.Text(), createQuill())).toThrow(/must belong to a Y.Doc/)
  })

  it('stops syncing both ways after destroy()', () => {
    const doc = new Y.Doc()
    const quill = createQuill()
    const binding = bindQuill(doc.getText('doc'), quill)
    quill.insertText(0, 'a', 'user')
    binding.destroy()
    quill.insertText(1, 'b', 'user')
    doc.getText('doc').insert(0, 'z')
    expect(doc.getText('doc').toString()).toBe('za')
    expect(quill.getText()).toBe('ab\n')
    expect(Object.hasOwn(quill.history, 'undo')).toBe(false)
  })
})
