// @vitest-environment happy-dom
/**
 * bindTextField in happy-dom (no layout: cursor geometry is covered by the Chromium tests).
 * Keystrokes are emulated as a browser applies them: change `value`, move the caret, fire `input`.
 */
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest'
import { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { bindTextField, type TextFieldBinding } from '../../src/bindings/text-field.js'

const REMOTE = 'remote'
const bindings: TextFieldBinding[] = []

afterEach(() => {
  for (const binding of bindings.splice(0)) binding.destroy()
  document.body.replaceChildren()
})

const field = <K extends 'textarea' | 'input'>(tag: K, value = '') => {
  const element = document.createElement(tag)
  element.value = value
  document.body.append(element)
  return element
}

const bind = (...args: Parameters<typeof bindTextField>) => {
  const binding = bindTextField(...args)
  bindings.push(binding)
  return binding
}

/** Sets `value` as the browser's own editing does: bypassing instance-level setters. */
const setValue = (element: HTMLTextAreaElement | HTMLInputElement, value: string) => {
  const proto =
    element instanceof HTMLInputElement ? HTMLInputElement.prototype : HTMLTextAreaElement.prototype
  Object.getOwnPropertyDescriptor(proto, 'value')?.set?.call(element, value)
}

/** What a browser does for a keystroke: replace the selection with `text`, caret after it. */
const type = (element: HTMLTextAreaElement | HTMLInputElement, text: string) => {
  const start = element.selectionStart ?? element.value.length
  const end = element.selectionEnd ?? start
  setValue(element, element.value.slice(0, start) + text + element.value.slice(end))
  element.setSelectionRange(start + text.length, start + text.length)
  element.dispatchEvent(new InputEvent('input', { bubbles: true, data: text }))
}

const backspace = (element: HTMLTextAreaElement | HTMLInputElement) => {
  const at = element.selectionStart ?? 0
  setValue(element, element.value.slice(0, at - 1) + element.value.slice(at))
  element.setSelectionRange(at - 1, at - 1)
  element.dispatchEvent(new InputEvent('input', { bubbles: true }))
}

/** Two replicas exchanging updates synchronously. */
const pair = () => {
  const a = new Y.Doc()
  const b = new Y.Doc()
  a.on('update', (update: Uint8Array, origin: unknown) => {
    if (origin !== REMOTE) Y.applyUpdate(b, update, REMOTE)
  })
  b.on('update', (update: Uint8Array, origin: unknown) => {
    if (origin !== REMOTE) Y.applyUpdate(a, update, REMOTE)
  })
  return [a, b] as const
}

const countUpdates = (doc: Y.Doc) => {
  const origins: unknown[] = []
  doc.on('update', (_update: Uint8Array, origin: unknown) => origins.push(origin))
  return origins
}

describe('bindTextField', () => {
  it('writes local typing to the Y.Text as minimal changes', () => {
    const doc = new Y.Doc()
    const ytext = doc.getText('notes')
    const element = field('textarea')
    bind(ytext, element)
    const deltas: unknown[] = []
    ytext.observe((event) => deltas.push(event.delta))
    type(element, 'hello')
    element.setSelectionRange(0, 0)
    type(element, '> ')
    element.setSelectionRange(4, 4)
    backspace(element)
    expect(ytext.toString()).toBe('> hllo')
    expect(deltas).toEqual([
      [{ insert: 'hello' }],
      [{ insert: '> ' }],
      [{ retain: 3 }, { delete: 1 }],
    ])
  })

  it('shows remote changes and moves the caret only for changes before it', () => {
    const doc = new Y.Doc()
    const ytext = doc.getText('notes')
    ytext.insert(0, 'hello world')
    const element = field('textarea')
    bind(ytext, element)
    expect(element.value).toBe('hello world')
    element.setSelectionRange(6, 6) // before "world"

    doc.transact(() => ytext.insert(0, '>> '), REMOTE)
    expect(element.value).toBe('>> hello world')
    expect([element.selectionStart, element.selectionEnd]).toEqual([9, 9])

    doc.transact(() => ytext.insert(ytext.length, '!'), REMOTE)
    expect(element.value).toBe('>> hello world!')
    expect([element.selectionStart, element.selectionEnd]).toEqual([9, 9])

    element.setSelectionRange(3, 14) // "hello world" selected
    doc.transact(() => ytext.delete(0, 5), REMOTE) // ">> he"
    expect(element.value).toBe('llo world!')
    expect([element.selectionStart, element.selectionEnd]).toEqual([0, 9])
  })

  it('does not write remote changes back (origin and synthetic input are ignored)', () => {
    const doc = new Y.Doc()
    const ytext = doc.getText('notes')
    const element = field('textarea')
    const binding = bind(ytext, element)
    const origins = countUpdates(doc)
    const seen: string[] = []
    element.addEventListener('input', () => seen.push(element.value))

    Y.applyUpdate(doc, remoteUpdate('from a peer'), REMOTE)
    expect(seen).toEqual(['from a peer']) // frameworks get their `input` event...
    expect(origins).toEqual([REMOTE]) // ...and the binding wrote nothing back
    element.setSelectionRange(11, 11)
    type(element, '!')
    expect(origins).toEqual([REMOTE, binding])
    expect(ytext.toString()).toBe('from a peer!')
  })

  it('does not touch the element when a change leaves its text as it was', () => {
    const doc = new Y.Doc()
    const ytext = doc.getText('notes')
    ytext.insert(0, 'same')
    const element = field('textarea')
    bind(ytext, element)
    const seen = vi.fn()
    element.addEventListener('input', seen)
    doc.transact(() => ytext.format(0, 4, { bold: true }), REMOTE) // formats: not shown
    expect(seen).not.toHaveBeenCalled()
    expect(element.value).toBe('same')
  })

  it('stops listening after destroy', () => {
    const doc = new Y.Doc()
    const ytext = doc.getText('notes')
    const element = field('textarea')
    const awareness = new Awareness(doc)
    const binding = bindTextField(ytext, element, { awareness })
    type(element, 'a')
    expect(document.querySelector('coedit-cursors')).not.toBeNull()
    binding.destroy()
    type(element, 'b')
    element.dispatchEvent(new KeyboardEvent('keydown', { key: 'z', ctrlKey: true }))
    expect(ytext.toString()).toBe('a')
    doc.transact(() => ytext.insert(0, 'remote '), REMOTE)
    expect(element.value).toBe('ab')
    expect(document.querySelector('coedit-cursors')).toBeNull()
    expect(document.querySelector('coedit-measure')).toBeNull()
    awareness.destroy()
  })

  it('publishes the local selection on focus, not again when only its index moves, and clears it on blur', async () => {
    vi.useFakeTimers() // the publisher's throttle
    onTestFinished(() => void vi.useRealTimers())
    const doc = new Y.Doc()
    const ytext = doc.getText('notes')
    ytext.insert(0, 'hello')
    const awareness = new Awareness(doc)
    const element = field('textarea')
    bind(ytext, element, { awareness })
    const cursor = () => {
      const state = awareness.getLocalState()?.['cursor'] as { head: unknown } | null | undefined
      if (state == null) return state
      const head = Y.createAbsolutePositionFromRelativePosition(
        Y.createRelativePositionFromJSON(state.head),
        doc,
      )
      return head?.index
    }
    element.focus()
    element.setSelectionRange(2, 2)
    element.dispatchEvent(new Event('select'))
    await vi.waitFor(() => expect(cursor()).toBe(2))
    const updates = vi.fn()
    awareness.on('update', updates)
    doc.transact(() => ytext.insert(0, '>> '), REMOTE)
    element.dispatchEvent(new Event('select')) // as Chromium fires after setSelectionRange
    expect(cursor()).toBe(5) // the same place, by relative position
    vi.advanceTimersByTime(1_000) // past the publisher's throttle
    expect(updates).not.toHaveBeenCalled()
    element.blur()
    await vi.waitFor(() => expect(cursor()).toBeNull())
    awareness.destroy()
  })

  it('seeds page text once when two users bind the same initial text', () => {
    const [docA, docB] = pair()
    // Each binds before seeing the other's seed: the two seeds are identical updates.
    const a = new Y.Doc()
    const b = new Y.Doc()
    bind(a.getText('notes'), field('textarea', 'Page text'), { field: 'notes' })
    bind(b.getText('notes'), field('textarea', 'Page text'), { field: 'notes' })
    Y.applyUpdate(docA, Y.encodeStateAsUpdate(a))
    Y.applyUpdate(docB, Y.encodeStateAsUpdate(b))
    Y.applyUpdate(a, Y.encodeStateAsUpdate(b))
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
    expect(a.getText('notes').toString()).toBe('Page text')
    expect(b.getText('notes').toString()).toBe('Page text')
    expect(docA.getText('notes').toString()).toBe('Page text')
  })

  it('shows the shared text, not the page text, when the shared text is not empty', () => {
    const doc = new Y.Doc()
    doc.getText('notes').insert(0, 'shared')
    const element = field('input', 'page')
    bind(doc.getText('notes'), element)
    expect(element.value).toBe('shared')
    expect(doc.getText('notes').toString()).toBe('shared')
  })

  it('does not let undo remove the seed', () => {
    const doc = new Y.Doc()
    const element = field('textarea', 'seeded')
    const binding = bind(doc.getText('notes'), element)
    expect(binding.undoManager.canUndo()).toBe(false)
  })

  it('keeps line breaks an <input> cannot show, and typing there does not delete them', () => {
    const doc = new Y.Doc()
    const ytext = doc.getText('notes')
    const element = field('input')
    bind(ytext, element)
    const origins = countUpdates(doc)
    doc.transact(() => ytext.insert(0, 'one\ntwo'), REMOTE)
    expect(element.value).toBe('onetwo')
    expect(origins).toHaveLength(1) // no strip → delete → render loop
    element.setSelectionRange(6, 6)
    type(element, '!')
    element.setSelectionRange(3, 3)
    backspace(element) // the "e" of "one"
    expect(ytext.toString()).toBe('on\ntwo!')
    element.setSelectionRange(3, 3) // after "t": delete it, not the hidden line break
    backspace(element)
    expect(ytext.toString()).toBe('on\nwo!')
    expect(element.value).toBe('onwo!')
  })

  it('holds remote changes during IME composition and commits the composed text after', () => {
    const doc = new Y.Doc()
    const ytext = doc.getText('notes')
    ytext.insert(0, 'ab')
    const element = field('textarea')
    bind(ytext, element)
    element.setSelectionRange(2, 2)
    element.dispatchEvent(new CompositionEvent('compositionstart'))
    type(element, 'に')
    doc.transact(() => ytext.insert(0, 'XY'), REMOTE)
    expect(element.value).toBe('abに') // untouched while composing
    expect(ytext.toString()).toBe('XYab')
    element.dispatchEvent(new CompositionEvent('compositionend', { data: 'に' }))
    expect(ytext.toString()).toBe('XYabに')
    expect(element.value).toBe('XYabに')
    expect([element.selectionStart, element.selectionEnd]).toEqual([5, 5])
  })

  it('undoes and redoes only this user’s edits with Ctrl+Z and Ctrl+Shift+Z', () => {
    const [docA, docB] = pair()
    const element = field('textarea')
    bind(docA.getText('notes'), element)
    type(element, 'mine ')
    docB.getText('notes').insert(5, 'theirs')
    expect(element.value).toBe('mine theirs')
    const undo = new KeyboardEvent('keydown', { key: 'z', ctrlKey: true, cancelable: true })
    element.dispatchEvent(undo)
    expect(undo.defaultPrevented).toBe(true)
    expect(element.value).toBe('theirs')
    expect(docB.getText('notes').toString()).toBe('theirs')
    element.dispatchEvent(new KeyboardEvent('keydown', { key: 'Z', ctrlKey: true, shiftKey: true }))
    expect(docB.getText('notes').toString()).toBe('mine theirs')
  })

  it('tracks its edits in a given undo manager and stops on destroy', () => {
    const doc = new Y.Doc()
    const ytext = doc.getText('notes')
    const undoManager = new Y.UndoManager(ytext, { trackedOrigins: new Set() })
    const element = field('textarea')
    const binding = bindTextField(ytext, element, { undoManager })
    expect(binding.undoManager).toBe(undoManager)
    type(element, 'x')
    expect(undoManager.canUndo()).toBe(true)
    binding.destroy()
    expect(undoManager.trackedOrigins.has(binding)).toBe(false)
  })

  it('keeps a React-style controlled field in sync (value tracked on the instance)', () => {
    const doc = new Y.Doc()
    const ytext = doc.getText('notes')
    const element = field('input')
    // React records what it last set through an instance-level `value` property and only
    // reports an `input` whose value differs from that; on re-render it writes its state back.
    const proto = HTMLInputElement.prototype
    const native = Object.getOwnPropertyDescriptor(proto, 'value')
    if (native?.get === undefined || native.set === undefined) throw new Error('no value property')
    let tracked = ''
    let state = ''
    Object.defineProperty(element, 'value', {
      configurable: true,
      get: () => native.get?.call(element) as string,
      set: (value: string) => {
        tracked = value
        native.set?.call(element, value)
      },
    })
    element.addEventListener('input', () => {
      if (element.value !== tracked) state = tracked = element.value // onChange → setState
      if (element.value !== state) element.value = state // re-render
    })
    bind(ytext, element)
    doc.transact(() => ytext.insert(0, 'remote'), REMOTE)
    expect(state).toBe('remote')
    expect(element.value).toBe('remote')
    element.setSelectionRange(6, 6)
    type(element, '!')
    expect(state).toBe('remote!')
    expect(ytext.toString()).toBe('remote!')
  })
})

/** An update from another client inserting `text` into `notes`. */
const remoteUpdate = (text: string) => {
  const peer = new Y.Doc()
  peer.getText('notes').insert(0, text)
  return Y.encodeStateAsUpdate(peer)
}
