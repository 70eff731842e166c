/**
 * `bindContentEditable`: any `contenteditable` element on a shared `Y.Text` with Quill-Delta
 * semantics (requirements R2–R4, R7–R9, R31).
 *
 * Local edits: the browser edits natively; on `input` (and a MutationObserver for changes no
 * input event announces) the element is read through the schema, diffed line-wise against the
 * model and applied as a minimal change in one transaction whose origin is the binding; blocks
 * whose DOM is not the canonical rendering are then re-rendered without producing updates.
 * Formatting shortcuts, undo/redo and paste are taken over in `beforeinput`/`paste`.
 *
 * Remote edits re-render only the top-level blocks whose content changed (keys differ), and keep
 * the caret attached to its characters. During IME composition the DOM is left alone: remote
 * changes queue and land after `compositionend`, with the composed text mapped across them.
 *
 * Invariants relied on: the DOM outside an active edit is the canonical rendering of `model`
 * (`known` maps each top-level node to the key of the group it renders); nothing is ever
 * written to the model unless the DOM changed, so an idle document produces no updates (R8).
 */
import type { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { createCursorOverlay, type CaretBox, type CursorOverlay } from '../cursor-overlay.js'
import {
  createCursorPublisher,
  readRemoteCursors,
  type CursorPublisher,
} from '../remote-cursors.js'
import { seedText } from '../seed.js'
import { applyChange, computeChange } from './diff.js'
import { groupLines, renderGroup } from './delta-to-dom.js'
import { indexToPoint, rangeOf } from './dom-positions.js'
import { applyDeltaToLines } from './line-delta.js'
import { parseDom, parseHtml, parsePlainText, type DomPoint } from './dom-to-delta.js'
import { lineLength, linesToDelta, readLines, type Line, type ModelLines } from './lines.js'
import { transformThrough, type DeltaChange } from './positions.js'
import { ALL_FORMATS, type Allowed, type Format } from './schema.js'

export interface ContentEditableOptions {
  /** Publishes this user's selection and draws other users' cursors (y-quill's format). */
  readonly awareness?: Awareness
  /**
   * The per-user undo manager of `ytext` (e.g. `session.undoManager(ytext)`); the binding adds
   * itself to its tracked origins. Default: a new manager tracking only this binding.
   */
  readonly undoManager?: Y.UndoManager
  /** The field name, for deterministic seeding (R9). Default `'text'`. */
  readonly field?: string
  /** Narrows the schema to these formats. Default: all of them. */
  readonly formats?: readonly Format[]
}

export interface ContentEditableBinding {
  readonly ytext: Y.Text
  readonly element: HTMLElement
  readonly undoManager: Y.UndoManager
  /**
   * Other users' cursors as last handed to the overlay, in viewport coordinates (empty without
   * `awareness`, and until the first frame after a change has drawn them).
   */
  remoteCursors(): readonly CaretBox[]
  /** Removes every listener, observer, timer and the cursor overlay; the DOM stays as it is. */
  destroy(): void
}

const MARK_INPUTS: Record<string, Format> = {
  formatBold: 'bold',
  formatItalic: 'italic',
  formatUnderline: 'underline',
  formatStrikeThrough: 'strike',
}

const hasContent = (lines: readonly Line[]) =>
  lines.length > 1 || lines.some((line) => line.runs.length > 0 || Object.keys(line.block).length)

export const bindContentEditable = (
  ytext: Y.Text,
  element: HTMLElement,
  options: ContentEditableOptions = {},
): ContentEditableBinding => {
  const doc = ytext.doc
  if (doc === null) {
    throw new Error('bindContentEditable: the Y.Text must belong to a Y.Doc (use doc.getText())')
  }
  const ownerDocument = element.ownerDocument
  const view = ownerDocument.defaultView ?? globalThis
  const allowed: Allowed = options.formats ? new Set(options.formats) : ALL_FORMATS

  const ownsUndo = options.undoManager === undefined
  // The origin of every local transaction: echo suppression and undo tracking key on it.
  const origin = { binding: 'content-editable' }
  const undoManager =
    options.undoManager ??
    new Y.UndoManager(ytext, { trackedOrigins: new Set([origin]), captureTimeout: 500 })
  if (!ownsUndo) undoManager.addTrackedOrigin(origin)

  /** The model as rendered into the element. */
  let model: ModelLines
  /** Top-level nodes known to be the canonical rendering of the group with this key. */
  const known = new WeakMap<Node, string>()
  let composing = false
  /** Remote deltas that arrived during composition, oldest first. */
  let queued: DeltaChange[][] = []
  let destroyed = false

  const topLevel = (node: Node): Node | undefined => {
    let current: Node | null = node
    while (current !== null && current.parentNode !== element) current = current.parentNode
    return current ?? undefined
  }
  const markDirty = (records: readonly MutationRecord[]) => {
    for (const record of records) {
      const top = record.target === element ? undefined : topLevel(record.target)
      if (top !== undefined) known.delete(top)
    }
  }
  const observer = new MutationObserver((records) => {
    markDirty(records)
    if (!composing) syncLocal()
  })

  /**
   * Makes the element's top-level nodes the canonical rendering of `model`, replacing only the
   * nodes that are not. Returns whether the DOM changed.
   */
  const reconcile = (): boolean => {
    const groups = groupLines(model.lines)
    const children = Array.from(element.childNodes)
    const min = Math.min(groups.length, children.length)
    let prefix = 0
    const same = (child: Node | undefined, group: { key: string } | undefined) =>
      child !== undefined && known.get(child) === group?.key
    while (prefix < min && same(children[prefix], groups[prefix])) prefix++
    if (prefix === groups.length && prefix === children.length) return false
    let suffix = 0
    while (
      suffix < min - prefix &&
      same(children[children.length - 1 - suffix], groups[groups.length - 1 - suffix])
    ) {
      suffix++
    }
    const oldMiddle = children.slice(prefix, children.length - suffix)
    const desired: Node[] = []
    const keep = new Set<Node>()
    for (const [k, group] of groups.slice(prefix, groups.length - suffix).entries()) {
      const rendered = renderGroup(ownerDocument, group)
      const candidate = oldMiddle[k]
      // A block the browser already left in canonical form is kept: the caret stays in it.
      if (candidate?.nodeType === 1 && (candidate as Element).outerHTML === rendered.outerHTML) {
        keep.add(candidate)
        known.set(candidate, group.key)
        desired.push(candidate)
      } else {
        known.set(rendered, group.key)
        desired.push(rendered)
      }
    }
    let mutated = false
    for (const node of oldMiddle) {
      if (keep.has(node)) continue
      node.parentNode?.removeChild(node)
      mutated = true
    }
    let next: Node | null = children[children.length - suffix] ?? null
    for (const node of desired.reverse()) {
      if (node.parentNode !== element || node.nextSibling !== next) {
        element.insertBefore(node, next)
        mutated = true
      }
      next = node
    }
    // Our own rendering is not a local edit.
    observer.takeRecords()
    return mutated
  }

  /** The selection's anchor and focus, if both are inside the element. */
  const selectionPoints = (): DomPoint[] => {
    const selection = ownerDocument.getSelection()
    const { anchorNode, focusNode } = selection ?? {}
    if (!selection || !anchorNode || !focusNode) return []
    if (!element.contains(anchorNode) || !element.contains(focusNode)) return []
    return [
      { node: anchorNode, offset: selection.anchorOffset },
      { node: focusNode, offset: selection.focusOffset },
    ]
  }
  /** The selection as model indexes [anchor, head] (reads the current DOM). */
  const selectionIndexes = (): [number, number] | undefined => {
    const points = selectionPoints()
    if (points.length === 0) return undefined
    const [anchor, head] = parseDom(element, { mode: 'live', points, allowed }).points
    return anchor === undefined || head === undefined ? undefined : [anchor, head]
  }
  const setSelection = (anchor: number, head: number) => {
    const selection = ownerDocument.getSelection()
    if (!selection) return
    const a = indexToPoint(element, model.lines, anchor)
    const h = anchor === head ? a : indexToPoint(element, model.lines, head)
    selection.setBaseAndExtent(a.node, a.offset, h.node, h.offset)
  }
  const modelLength = () =>
    model.lines.reduce((sum, line) => sum + lineLength(line) + 1, 0) - (model.openEnd ? 1 : 0)

  /** Reads the element, writes the difference to the model, normalises the DOM. */
  const syncLocal = (records: readonly MutationRecord[] = []) => {
    if (composing || destroyed) return
    markDirty(records)
    markDirty(observer.takeRecords())
    const points = selectionPoints()
    const parsed = parseDom(element, { mode: 'live', points, allowed })
    const [anchor, head] = parsed.points
    const cursor = anchor !== undefined && anchor === head ? head : undefined
    const ops = computeChange(model, parsed.lines, cursor)
    const remote = queued
    queued = []
    if (ops.length > 0) doc.transact(() => applyChange(ytext, ops, remote), origin)
    if (ops.length > 0 || remote.length > 0) model = readLines(ytext, allowed)
    if (reconcile() && anchor !== undefined && head !== undefined) {
      setSelection(transformThrough(remote, anchor), transformThrough(remote, head))
    }
    scheduleCursors()
  }

  /** Renders a change the model already has (remote, undo, our own formatting). */
  const applyModelChange = (deltas: readonly DeltaChange[][]) => {
    markDirty(observer.takeRecords())
    const selection = selectionIndexes()
    // Only the lines the change touched are rebuilt (long documents); re-read when it cannot be.
    let next: ModelLines | undefined = model
    for (const delta of deltas) next = next && applyDeltaToLines(next, delta, allowed)
    model = next ?? readLines(ytext, allowed)
    if (reconcile() && selection !== undefined) {
      setSelection(transformThrough(deltas, selection[0]), transformThrough(deltas, selection[1]))
    }
    scheduleCursors()
  }

  const onYText = (event: Y.YTextEvent, transaction: Y.Transaction) => {
    if (transaction.origin === origin) return
    // Read now: a Yjs event's delta is only computed correctly during the event.
    const delta = event.delta as DeltaChange[]
    if (composing) queued.push(delta)
    else applyModelChange([delta])
  }

  const toggleMark = (mark: Format) => {
    syncLocal()
    const selection = selectionIndexes()
    if (selection === undefined || selection[0] === selection[1]) return
    const from = Math.min(...selection)
    const to = Math.max(...selection)
    // Inline formats go on text only, never on a line's '\n' (Quill does the same).
    const segments: [number, number, boolean][] = []
    let start = 0
    for (const line of model.lines) {
      let at = start
      for (const run of line.runs) {
        const a = Math.max(from, at)
        const b = Math.min(to, at + run.text.length)
        const attributes = run.attributes as Record<string, unknown>
        if (a < b) segments.push([a, b, attributes[mark] !== undefined])
        at += run.text.length
      }
      start = at + 1
    }
    if (segments.length === 0) return
    const value = segments.every(([, , on]) => on) ? null : mark === 'link' ? null : true
    doc.transact(() => {
      for (const [a, b] of segments) ytext.format(a, b - a, { [mark]: value })
    }, origin)
    model = readLines(ytext, allowed)
    reconcile()
    setSelection(selection[0], selection[1])
  }

  const insertLines = (lines: readonly Line[]) => {
    syncLocal()
    const selection = selectionIndexes() ?? [modelLength(), modelLength()]
    const from = Math.min(...selection)
    const to = Math.max(...selection)
    const inserts = linesToDelta(lines)
    inserts.pop() // the last line continues the line the selection is in
    let at = from
    doc.transact(() => {
      if (to > from) ytext.delete(from, to - from)
      for (const { insert, attributes } of inserts) {
        if (insert.length === 0) continue
        ytext.insert(at, insert, attributes)
        at += insert.length
      }
    }, origin)
    model = readLines(ytext, allowed)
    reconcile()
    setSelection(at, at)
    scheduleCursors()
  }

  const onBeforeInput = (event: InputEvent) => {
    const mark = MARK_INPUTS[event.inputType]
    if (mark !== undefined) {
      event.preventDefault()
      if (allowed.has(mark)) toggleMark(mark)
    } else if (event.inputType === 'historyUndo' || event.inputType === 'historyRedo') {
      event.preventDefault()
      syncLocal()
      if (event.inputType === 'historyUndo') undoManager.undo()
      else undoManager.redo()
    } else if (event.inputType === 'insertFromDrop') {
      // Dropped HTML would be inserted natively before we could read it: not supported.
      event.preventDefault()
    }
  }
  const onInput = (event: Event) => {
    if ((event as InputEvent).isComposing || composing) return
    syncLocal()
  }
  const onPaste = (event: ClipboardEvent) => {
    event.preventDefault()
    const data = event.clipboardData
    if (!data) return
    const html = data.getData('text/html')
    insertLines(html ? parseHtml(html, allowed) : parsePlainText(data.getData('text/plain')))
  }
  const onCompositionStart = () => {
    syncLocal()
    composing = true
  }
  const onCompositionEnd = () => {
    composing = false
    syncLocal()
  }

  // Remote cursors.
  let publisher: CursorPublisher | undefined
  let overlay: CursorOverlay | undefined
  let frame: number | undefined
  let drawn: readonly CaretBox[] = []
  const drawCursors = () => {
    frame = undefined
    const awareness = options.awareness
    if (!awareness || !overlay || destroyed) return
    const length = modelLength()
    const boxes: CaretBox[] = readRemoteCursors(awareness, ytext).map((cursor) => {
      const anchor = Math.min(cursor.anchor, length)
      const head = Math.min(cursor.head, length)
      const from = Math.min(anchor, head)
      const to = Math.max(anchor, head)
      const caretRange = rangeOf(element, model.lines, head, head)
      let caret: DOMRect | null = caretRange.getClientRects()[0] ?? null
      if (caret === null) {
        // An empty line (`<p><br></p>`) has no text to measure: use its element.
        const node = caretRange.startContainer
        const host = node.nodeType === 1 ? (node as Element) : node.parentElement
        const rect = host?.getBoundingClientRect()
        caret = rect ? new DOMRect(rect.left, rect.top, 0, rect.height) : null
      }
      const selection =
        from === to ? [] : Array.from(rangeOf(element, model.lines, from, to).getClientRects())
      return { clientId: cursor.clientId, name: cursor.name, color: cursor.color, caret, selection }
    })
    overlay.render(boxes)
    drawn = boxes
  }
  function scheduleCursors() {
    if (!options.awareness || frame !== undefined || destroyed) return
    frame = view.requestAnimationFrame(drawCursors)
  }
  const onSelectionChange = () => {
    if (!publisher || composing) return
    const selection = selectionIndexes()
    if (selection !== undefined) publisher.publish(selection[0], selection[1])
  }
  const onBlur = () => publisher?.clear()

  // Bind: seed (R9) or adopt the model, then render it.
  const initial = parseDom(element, { allowed })
  if (ytext.length === 0 && hasContent(initial.lines)) {
    // Not the binding's origin: the seed is nobody's edit to undo.
    seedText(ytext, options.field ?? 'text', linesToDelta(initial.lines), { seed: true })
  }
  model = readLines(ytext, allowed)
  const whiteSpace = element.style.getPropertyValue('white-space')
  // Verbatim spaces: Chromium then types plain spaces instead of &nbsp; (no model churn).
  element.style.setProperty('white-space', 'pre-wrap')
  reconcile()

  ytext.observe(onYText)
  observer.observe(element, { childList: true, characterData: true, subtree: true })
  element.addEventListener('beforeinput', onBeforeInput)
  element.addEventListener('input', onInput)
  element.addEventListener('paste', onPaste)
  element.addEventListener('compositionstart', onCompositionStart)
  element.addEventListener('compositionend', onCompositionEnd)
  if (options.awareness) {
    publisher = createCursorPublisher(options.awareness, ytext)
    overlay = createCursorOverlay(ownerDocument)
    options.awareness.on('change', scheduleCursors)
    ownerDocument.addEventListener('selectionchange', onSelectionChange)
    element.addEventListener('blur', onBlur)
    view.addEventListener('scroll', scheduleCursors, true)
    view.addEventListener('resize', scheduleCursors)
    scheduleCursors()
  }

  return {
    ytext,
    element,
    undoManager,
    remoteCursors: () => drawn,
    destroy() {
      if (destroyed) return
      destroyed = true
      ytext.unobserve(onYText)
      observer.disconnect()
      element.removeEventListener('beforeinput', onBeforeInput)
      element.removeEventListener('input', onInput)
      element.removeEventListener('paste', onPaste)
      element.removeEventListener('compositionstart', onCompositionStart)
      element.removeEventListener('compositionend', onCompositionEnd)
      if (options.awareness) {
        options.awareness.off('change', scheduleCursors)
        ownerDocument.removeEventListener('selectionchange', onSelectionChange)
        element.removeEventListener('blur', onBlur)
        view.removeEventListener('scroll', scheduleCursors, true)
        view.removeEventListener('resize', scheduleCursors)
      }
      if (frame !== undefined) view.cancelAnimationFrame(frame)
      publisher?.destroy()
      overlay?.destroy()
      drawn = []
      if (ownsUndo) undoManager.destroy()
      else undoManager.removeTrackedOrigin(origin)
      if (whiteSpace) element.style.setProperty('white-space', whiteSpace)
      else element.style.removeProperty('white-space')
    },
  }
}
