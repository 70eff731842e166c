/**
 * `bindTextField`: a `<textarea>` or `<input>` bound to a shared `Y.Text`, as plain text.
 *
 * Local edits are read on `input` and written as one minimal change (diffText). Remote changes
 * are written with the element's native value setter plus a bubbling `input` event, so
 * framework-controlled fields (React tracks `value` on the instance) see them, and the local
 * selection is moved through the remote delta. The binding is the origin of its own
 * transactions and ignores them (echo suppression); the synthetic `input` it dispatches is
 * ignored too.
 *
 * Invariant: `shown` is what the element showed when it was last in sync with the model, and
 * `pending` holds the remote deltas since then. Outside IME composition `pending` is empty; during
 * composition the element is left alone (rewriting it would cancel the composition in every
 * browser) and remote deltas queue up until `compositionend`, when the composed text is committed
 * through them.
 */
import type { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import type { CaretBox } from './cursor-overlay.js'
import { createDeltaReader } from './event-delta.js'
import { seedText } from './seed.js'
import { diffText } from './text-diff.js'
import { createFieldCursors, type FieldCursors } from './text-field/field-cursors.js'
import {
  displayToModel,
  modelToDisplay,
  toDisplayText,
  transformPosition,
  type DisplayText,
  type TextDelta,
} from './text-field/display-text.js'
import { CoeditError } from '../protocol/errors.js'

export interface TextFieldOptions {
  /** Publishes this user's selection and draws other users' cursors over the field. */
  awareness?: Awareness
  /**
   * The undo manager for Ctrl/Cmd+Z and Ctrl/Cmd+Shift+Z / Ctrl+Y (e.g. `session.undoManager`);
   * the binding adds itself as a tracked origin. Default: one of its own, tracking only this
   * binding's edits, destroyed with it.
   */
  undoManager?: Y.UndoManager
  /** Seed an empty shared text from the element's value (requirements R9). Default true. */
  seed?: boolean
  /** The field name the deterministic seed is written under (seed.ts). Default `'text'`. */
  field?: string
}

export interface TextFieldBinding {
  /** The undo manager the shortcuts use. */
  readonly undoManager: Y.UndoManager
  /** Other users' cursors as last drawn in the overlay (empty without `awareness`). */
  remoteCursors(): readonly CaretBox[]
  /** Removes every listener, observer, pending frame and the overlay. Idempotent. */
  destroy(): void
}

/** The `value` setter of the element's class, below any instance-level override (React's). */
const nativeValueSetter = (element: HTMLElement): ((value: string) => void) => {
  for (let proto = Object.getPrototypeOf(element) as object | null; proto !== null;) {
    const setter = Object.getOwnPropertyDescriptor(proto, 'value')?.set
    if (setter !== undefined) return (value) => setter.call(element, value)
    proto = Object.getPrototypeOf(proto) as object | null
  }
  throw new CoeditError(
    'misuse',
    'bindTextField: the element has no value setter; pass a textarea or input',
  )
}

/**
 * Binds `element` to `ytext`. <input> fields hold single-line text: line breaks in the model
 * (from a textarea or rich-text peer) are not shown there but stay in the model.
 */
export const bindTextField = (
  ytext: Y.Text,
  element: HTMLTextAreaElement | HTMLInputElement,
  options: TextFieldOptions = {},
): TextFieldBinding => {
  const doc = ytext.doc
  if (doc === null) {
    throw new CoeditError(
      'misuse',
      'bindTextField: the Y.Text is not in a document; use doc.getText(field)',
    )
  }
  const view = element.ownerDocument.defaultView ?? window
  const singleLine = element instanceof view.HTMLInputElement
  const setValue = nativeValueSetter(element)
  const target: HTMLElement = element // one addEventListener signature for both element types
  const binding = {} as TextFieldBinding // the transaction origin, returned below

  if (options.seed !== false && element.value !== '' && ytext.length === 0) {
    seedText(ytext, options.field ?? 'text', element.value, binding)
  }
  // Tracked only from here on: the seed is the page's text, not this user's edit to undo.
  const ownsUndoManager = options.undoManager === undefined
  const undoManager =
    options.undoManager ?? new Y.UndoManager(ytext, { trackedOrigins: new Set([binding]) })
  undoManager.addTrackedOrigin(binding)

  let shown: DisplayText = toDisplayText(ytext, singleLine)
  let pending: TextDelta[] = []
  let composing = false
  let applying = false // while dispatching our own synthetic `input`
  let destroyed = false
  let cursors: FieldCursors | undefined

  const render = (value: string) => {
    if (element.value === value) return
    setValue(value)
    applying = true
    try {
      element.dispatchEvent(new view.Event('input', { bubbles: true }))
    } finally {
      applying = false
    }
  }

  /** Commits local edits since `shown` (through `pending`) and shows the model. */
  const sync = () => {
    if (composing || destroyed) return
    const remote = pending
    pending = []
    const value = element.value
    const { selectionStart, selectionEnd, selectionDirection } = element
    const change = diffText(shown.value, value, selectionEnd ?? undefined)
    if (change === undefined && remote.length === 0) return
    const throughRemote = (position: number) =>
      remote.reduce((at, delta) => transformPosition(delta, at), position)
    let start = 0
    let removed = 0
    if (change !== undefined) {
      const deletes = change.deleteCount > 0
      const from = displayToModel(shown, change.index, deletes ? 'after' : 'before')
      const to = deletes ? displayToModel(shown, change.index + change.deleteCount, 'before') : from
      start = throughRemote(from)
      removed = Math.max(0, throughRemote(to) - start)
      doc.transact(() => {
        if (removed > 0) ytext.delete(start, removed)
        if (change.insert !== '') ytext.insert(start, change.insert)
      }, binding)
    }
    const before = shown
    shown = toDisplayText(ytext, singleLine)
    if (remote.length === 0 && shown.value === value) return // the usual local keystroke
    // Where a selection end in `value` (= `before` plus the local change) is in the new model.
    const locate = (position: number): number => {
      if (change === undefined || position <= change.index) {
        return throughRemote(displayToModel(before, position, 'before'))
      }
      const inserted = change.insert.length
      if (position < change.index + inserted) return start + position - change.index
      const old = position - inserted + change.deleteCount
      return throughRemote(displayToModel(before, old, 'before')) - removed + inserted
    }
    const selection =
      selectionStart === null || selectionEnd === null
        ? undefined
        : [selectionStart, selectionEnd].map((p) => modelToDisplay(shown, locate(p)))
    render(shown.value)
    if (selection !== undefined && element.value === shown.value) {
      const [from = 0, to = 0] = selection
      if (element.selectionStart !== from || element.selectionEnd !== to) {
        element.setSelectionRange(from, to, selectionDirection ?? undefined)
      }
    }
  }

  const onInput = () => {
    if (applying || composing) return
    sync()
    cursors?.publish()
  }
  const onCompositionStart = () => {
    composing = true
  }
  const onCompositionEnd = () => {
    composing = false
    sync()
    cursors?.publish()
    cursors?.redraw()
  }
  // Reads each event's delta from the change itself, not by walking the whole text (every event
  // goes through it, in order, ours included).
  const deltas = createDeltaReader(ytext)
  const onRemote = (event: Y.YTextEvent, transaction: Y.Transaction) => {
    const delta = deltas.read(event)
    cursors?.redraw()
    if (transaction.origin === binding) return
    pending.push(delta)
    sync()
  }
  const history = (redo: boolean) => {
    sync()
    if (redo) undoManager.redo()
    else undoManager.undo()
  }
  const onKeyDown = (event: KeyboardEvent) => {
    if (composing || event.isComposing || event.altKey || !(event.ctrlKey || event.metaKey)) return
    const key = event.key.toLowerCase()
    const redo =
      (key === 'z' && event.shiftKey) || (key === 'y' && event.ctrlKey && !event.shiftKey)
    if (key !== 'z' && !redo) return
    event.preventDefault()
    history(redo)
  }
  const onBeforeInput = (event: InputEvent) => {
    if (event.inputType !== 'historyUndo' && event.inputType !== 'historyRedo') return
    event.preventDefault()
    history(event.inputType === 'historyRedo')
  }

  // The model wins over whatever the element had (unless the element just seeded it).
  render(shown.value)
  ytext.observe(onRemote)
  target.addEventListener('input', onInput)
  target.addEventListener('compositionstart', onCompositionStart)
  target.addEventListener('compositionend', onCompositionEnd)
  target.addEventListener('keydown', onKeyDown)
  target.addEventListener('beforeinput', onBeforeInput)
  if (options.awareness !== undefined) {
    cursors = createFieldCursors(ytext, element, options.awareness, () =>
      composing || pending.length > 0 ? null : shown,
    )
  }

  return Object.assign(binding, {
    undoManager,
    remoteCursors: () => cursors?.drawn() ?? [],
    destroy() {
      if (destroyed) return
      destroyed = true
      ytext.unobserve(onRemote)
      target.removeEventListener('input', onInput)
      target.removeEventListener('compositionstart', onCompositionStart)
      target.removeEventListener('compositionend', onCompositionEnd)
      target.removeEventListener('keydown', onKeyDown)
      target.removeEventListener('beforeinput', onBeforeInput)
      cursors?.destroy()
      if (ownsUndoManager) undoManager.destroy()
      else undoManager.removeTrackedOrigin(binding)
    },
  })
}
