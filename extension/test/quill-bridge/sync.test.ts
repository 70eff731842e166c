// @vitest-environment happy-dom
/**
 * Content both ways between a page's own Quill (reached through the main-world bridge) and a
 * shared `Y.Text`: typing with formats, remote edits without echo, format changes, seeding, the
 * page's own programmatic edits, and an undo stack that stays local.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { bind, cleanUp, createPageQuill, exchange, installPage, recordTraffic } from './helpers.js'

beforeEach(() => {
  installPage()
})
afterEach(cleanUp)

describe('bindPageQuill: content', () => {
  it('attaches synchronously when the bridge is installed, and resolves ready', async () => {
    const quill = createPageQuill()
    const binding = bind(new Y.Doc().getText('field:a'), quill.container)
    await expect(binding.ready).resolves.toBeUndefined()
  })

  it('sends typing with its formats to the Y.Text', async () => {
    const doc = new Y.Doc()
    const ytext = doc.getText('field:a')
    const quill = createPageQuill()
    await bind(ytext, quill.container).ready
    quill.insertText(0, 'Hello', { bold: true }, 'user')
    // Typed after bold text, Quill makes it bold unless told otherwise.
    quill.insertText(5, ' world', { bold: false }, 'user')
    quill.insertText(11, '!', 'user')
    expect(ytext.toDelta()).toEqual([
      { insert: 'Hello', attributes: { bold: true } },
      { insert: ' world!' },
    ])
  })

  it('maps format changes from the page, including removal, to the Y.Text', async () => {
    const ytext = new Y.Doc().getText('field:a')
    const quill = createPageQuill()
    await bind(ytext, quill.container).ready
    quill.insertText(0, 'abcdef', 'user')
    quill.formatText(0, 3, 'bold', true, 'user')
    expect(ytext.toDelta()).toEqual([
      { insert: 'abc', attributes: { bold: true } },
      { insert: 'def' },
    ])
    quill.formatText(1, 1, 'bold', false, 'user')
    expect(ytext.toDelta()).toEqual([
      { insert: 'a', attributes: { bold: true } },
      { insert: 'b' },
      { insert: 'c', attributes: { bold: true } },
      { insert: 'def' },
    ])
    quill.formatLine(0, 1, 'header', 2, 'user')
    expect(ytext.toDelta().at(-1)).toEqual({ insert: '\n', attributes: { header: 2 } })
  })

  it('shows a remote change in the page without sending it back', async () => {
    const [docA, docB] = [new Y.Doc(), new Y.Doc()]
    const ytext = docA.getText('field:a')
    const quill = createPageQuill()
    await bind(ytext, quill.container).ready
    quill.insertText(0, 'world', 'user')
    exchange(docA, docB)
    const traffic = recordTraffic(quill.container)
    const updates: Uint8Array[] = []
    docA.on('update', (update: Uint8Array) => updates.push(update))

    docB.getText('field:a').insert(0, 'Hello ', { italic: true })
    exchange(docA, docB)

    expect(quill.getContents().ops).toEqual([
      { insert: 'Hello ', attributes: { italic: true } },
      { insert: 'world\n' },
    ])
    expect(traffic.map((entry) => entry.type)).toEqual(['apply'])
    // Only the remote update itself: the binding wrote nothing in response.
    expect(updates).toHaveLength(1)
    expect(ytext.toString()).toBe('Hello world')
  })

  it('applies remote format changes, including removal, to the page', async () => {
    const [docA, docB] = [new Y.Doc(), new Y.Doc()]
    const quill = createPageQuill()
    await bind(docA.getText('field:a'), quill.container).ready
    quill.insertText(0, 'abcdef', 'user')
    exchange(docA, docB)
    const remote = docB.getText('field:a')

    remote.format(0, 4, { bold: true })
    exchange(docA, docB)
    expect(quill.getContents().ops).toEqual([
      { insert: 'abcd', attributes: { bold: true } },
      { insert: 'ef\n' },
    ])
    remote.format(2, 2, { bold: null })
    exchange(docA, docB)
    expect(quill.getContents().ops).toEqual([
      { insert: 'ab', attributes: { bold: true } },
      { insert: 'cdef\n' },
    ])
  })

  it('does not let remote text inherit the format around it', async () => {
    const [docA, docB] = [new Y.Doc(), new Y.Doc()]
    const quill = createPageQuill()
    await bind(docA.getText('field:a'), quill.container).ready
    quill.insertText(0, 'bold', { bold: true }, 'user')
    exchange(docA, docB)
    // `{}`: unformatted (without it, Y.Text itself would inherit the preceding format).
    docB.getText('field:a').insert(2, 'XY', {})
    exchange(docA, docB)
    expect(docA.getText('field:a').toDelta()[1]).toEqual({ insert: 'XY' })
    expect(quill.getContents().ops).toEqual([
      { insert: 'bo', attributes: { bold: true } },
      { insert: 'XY' },
      { insert: 'ld', attributes: { bold: true } },
      { insert: '\n' },
    ])
  })

  it('keeps the user’s selection where it was when remote text arrives before it', async () => {
    const [docA, docB] = [new Y.Doc(), new Y.Doc()]
    const quill = createPageQuill()
    await bind(docA.getText('field:a'), quill.container).ready
    quill.insertText(0, 'abc', 'user')
    exchange(docA, docB)
    quill.setSelection(2, 1, 'user')
    docB.getText('field:a').insert(0, '12')
    exchange(docA, docB)
    expect(quill.getSelection()).toEqual({ index: 4, length: 1 })
  })

  it('seeds an empty Y.Text from the page’s content, once for two identical pages', async () => {
    const [docA, docB] = [new Y.Doc(), new Y.Doc()]
    const quillA = createPageQuill('Hello world')
    const quillB = createPageQuill('Hello world')
    await bind(docA.getText('field:a'), quillA.container).ready
    await bind(docB.getText('field:a'), quillB.container).ready
    expect(docA.getText('field:a').toString()).toBe('Hello world')
    exchange(docA, docB)
    expect(docA.getText('field:a').toString()).toBe('Hello world')
    expect(quillA.getText()).toBe('Hello world\n')
    expect(quillB.getText()).toBe('Hello world\n')
  })

  it('shows the shared text instead of seeding when the Y.Text has content', async () => {
    const doc = new Y.Doc()
    const ytext = doc.getText('field:a')
    ytext.insert(0, 'Shared text', { underline: true })
    const quill = createPageQuill('Local draft')
    await bind(ytext, quill.container).ready
    expect(ytext.toString()).toBe('Shared text')
    expect(quill.getContents().ops).toEqual([
      { insert: 'Shared text', attributes: { underline: true } },
      { insert: '\n' },
    ])
    // And it stays bound: typing goes to the shared text.
    quill.insertText(11, '!', 'user')
    expect(ytext.toString()).toBe('Shared text!')
  })

  it('does not seed when seed is false', async () => {
    const ytext = new Y.Doc().getText('field:a')
    const quill = createPageQuill('Local draft')
    await bind(ytext, quill.container, { seed: false }).ready
    expect(ytext.length).toBe(0)
    expect(quill.getText()).toBe('\n')
  })

  it('forwards the page’s own programmatic edits (source api)', async () => {
    const ytext = new Y.Doc().getText('field:a')
    const quill = createPageQuill()
    await bind(ytext, quill.container).ready
    quill.insertText(0, 'typed', 'user')
    quill.insertText(0, '😀 ', 'api')
    expect(ytext.toString()).toBe('😀 typed')
  })

  it('forwards what a page listener changes in reaction to a remote change', async () => {
    const [docA, docB] = [new Y.Doc(), new Y.Doc()]
    const quill = createPageQuill()
    // The page's own auto-replace, registered before the bridge's listener (so it runs first).
    quill.on('text-change', () => {
      const index = quill.getText().indexOf(':)')
      if (index < 0) return
      quill.deleteText(index, 2, 'api')
      quill.insertText(index, '🙂', 'api')
    })
    await bind(docA.getText('field:a'), quill.container).ready
    quill.insertText(0, 'hi ', 'user')
    exchange(docA, docB)
    docB.getText('field:a').insert(3, ':)', {})
    exchange(docA, docB)
    expect(quill.getText()).toBe('hi 🙂\n')
    expect(docA.getText('field:a').toString()).toBe('hi 🙂')
  })

  it('binds when given the .ql-editor instead of the container', async () => {
    const ytext = new Y.Doc().getText('field:a')
    const quill = createPageQuill()
    await bind(ytext, quill.root).ready
    quill.insertText(0, 'x', 'user')
    expect(ytext.toString()).toBe('x')
  })

  it('keeps the page’s undo local: Ctrl+Z never removes a peer’s text', async () => {
    const [docA, docB] = [new Y.Doc(), new Y.Doc()]
    const quill = createPageQuill()
    await bind(docA.getText('field:a'), quill.container).ready
    quill.insertText(0, 'mine', 'user')
    exchange(docA, docB)
    docB.getText('field:a').insert(4, ' theirs')
    exchange(docA, docB)
    quill.history.undo()
    expect(quill.getText()).toBe(' theirs\n')
    expect(docA.getText('field:a').toString()).toBe(' theirs')
  })

  it('keeps a DOM edit Quill had not yet observed, rebased over the remote change', async () => {
    const [docA, docB] = [new Y.Doc(), new Y.Doc()]
    const ytext = docA.getText('field:a')
    const quill = createPageQuill()
    await bind(ytext, quill.container).ready
    quill.insertText(0, 'Hello', 'user')
    exchange(docA, docB)
    // Typing lands in the DOM first; Quill's MutationObserver reports it a microtask later.
    const node = quill.root.querySelector('p')?.firstChild as Text
    node.data = 'He!llo'
    // Meanwhile a peer deletes the "o": it must go, not the "l" now at its old index.
    docB.getText('field:a').delete(4, 1)
    exchange(docA, docB)
    expect(quill.getText()).toBe('He!ll\n')
    expect(ytext.toString()).toBe('He!ll')
    exchange(docA, docB)
    expect(docB.getText('field:a').toString()).toBe('He!ll')
  })
})
