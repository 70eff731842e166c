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
 * Remote edits re-render only the lines they changed (render-range.ts; line starts are cached in
 * a LineIndex, the caret is read from its own block), and keep the caret attached to its
 * characters. Their deltas are read from the change itself (event-delta.ts), not by walking the
 * text, and other peers' changes are rendered once per animation frame, so a burst of them (a
 * reconnect, a paste elsewhere) costs one render; the DOM is brought up to date before the
 * browser edits it (`beforeinput`) and before cursors are drawn. This page's own changes (undo,
 * code writing the text) render at once. Local input is read from the blocks the mutation records touched; a change that
 * cannot be localised is read from the whole element and reconciled by top-level node. During IME composition the DOM is left alone: remote
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
import { groupLines, lineElements, renderGroup, renderLine } from './delta-to-dom.js'
import { indexToPoint, pointInLine } from './dom-positions.js'
import { createDeltaReader } from '../event-delta.js'
import { applyDeltaToLinesAt } from './line-delta.js'
import { LineIndex } from './line-index.js'
import {
  parseDom,
  parseHtml,
  parsePlainText,
  parseSegments,
  type DomPoint,
} from './dom-to-delta.js'
import { between, isList, isPlaced, replaceBetween, type Block } from './render-range.js'
import {
  lineKey,
  lineLength,
  linesToDelta,
  readLines,
  type Line,
  type ModelLines,
} from './lines.js'
import { transformThrough, type DeltaChange } from './positions.js'
import { ALL_FORMATS, type Allowed, type Format } from './schema.js'
import { CoeditError } from '../../protocol/errors.js'
import { spliceMany } from './splice.js'

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
  /**
   * Renders now the changes of other peers that are waiting for the next frame (they are drawn
   * once per animation frame, so a burst of remote updates costs one render).
   */
  flush(): void
  /** Removes every listener, observer, timer and the cursor overlay; the DOM stays as it is. */
  destroy(): void
}

const MARK_INPUTS: Record<string, Format> = {
  formatBold: 'bold',
  formatItalic: 'italic',
  formatUnderline: 'underline',
  formatStrikeThrough: 'strike',
}

/** Queued remote deltas rendered one by one; more are rendered by re-reading the text once. */
const MAX_INCREMENTAL_DELTAS = 32
/** When remote changes are rendered if no animation frame comes first (hidden tabs). */
const RENDER_FALLBACK_MS = 100

const hasContent = (lines: readonly Line[]) =>
  lines.length > 1 || lines.some((line) => line.runs.length > 0 || Object.keys(line.block).length)

export const bindContentEditable = (
  ytext: Y.Text,
  element: HTMLElement,
  options: ContentEditableOptions = {},
): ContentEditableBinding => {
  const doc = ytext.doc
  if (doc === null) {
    throw new CoeditError(
      'misuse',
      'bindContentEditable: the Y.Text must belong to a Y.Doc (use doc.getText())',
    )
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
  /** Line start offsets of `model`. */
  const index = new LineIndex([])
  /** The element of each line of `model` (outside an active edit: its canonical rendering). */
  let lineNodes: Element[] = []
  /** Where each line element was last seen in `lineNodes` (checked before use). */
  const lineAt = new WeakMap<Node, number>()
  /** Mutation records not yet read. */
  let pending: MutationRecord[] = []
  /** Deltas of this binding's own transactions, as Yjs reported them. */
  let own: DeltaChange[][] = []
  /** Top-level nodes known to be the canonical rendering of the group with this key. */
  const known = new WeakMap<Node, string>()
  let composing = false
  /**
   * Deltas of other peers not rendered yet, oldest first: they wait for the next frame, or for
   * the end of an IME composition.
   */
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
  // Appends one by one: a spread argument list overflows the stack past ~100k records (loading a
  // 100-page document produces that many).
  const append = (into: MutationRecord[], records: readonly MutationRecord[]) => {
    for (const record of records) into.push(record)
  }
  const observer = new MutationObserver((records) => {
    append(pending, records)
    if (!composing) syncLocal()
  })
  const takeRecords = (): MutationRecord[] => {
    const records = pending
    pending = []
    append(records, observer.takeRecords())
    markDirty(records)
    return records
  }

  /** The line index of line element `node`, if it is one. */
  const lineIndexOf = (node: Node): number | undefined => {
    const guess = lineAt.get(node)
    if (guess !== undefined && lineNodes[guess] === node) return guess
    const found = lineNodes.indexOf(node as Element)
    if (found < 0) return undefined
    lineAt.set(node, found)
    return found
  }
  /** The line-level node holding `node` (a top-level block, or an item of a top-level list). */
  const lineNodeOf = (node: Node): Node | undefined => {
    if (node === element) return undefined
    let inner: Node | undefined
    let current: Node | null = node
    while (current !== null && current.parentNode !== element) {
      inner = current
      current = current.parentNode
    }
    if (current === null) return undefined
    return isList(current) ? inner : current
  }
  /** The index of the line holding `node`, if it is (in) a known line element. */
  const lineOf = (node: Node): number | undefined => {
    const line = lineNodeOf(node)
    return line === undefined ? undefined : lineIndexOf(line)
  }
  /** Takes the lines of the canonical rendering after a full reconcile. */
  const resetLines = () => {
    lineNodes = lineElements(element)
    index.reset(model.lines)
  }

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
    resetLines()
    return mutated
  }

  /**
   * Lines `first`..`first + removed` of the previous model became `lines` (already in `model`):
   * re-renders only them. `reuse(k, line)` may offer an existing element for new line k.
   * Returns whether the DOM changed.
   */
  const renderLines = (
    first: number,
    removed: number,
    lines: readonly Line[],
    reuse: (k: number, rendered: Element) => Element | undefined,
  ): boolean => {
    const before = lineNodes[first - 1]
    const after = lineNodes[first + removed]
    const segments = between(element, before, after)
    if (segments === undefined) return reconcile()
    const blocks: Block[] = lines.map((line, k) => {
      const rendered = renderLine(ownerDocument, line)
      return { element: reuse(k, rendered) ?? rendered, list: line.block.list }
    })
    const { mutated, lists } = replaceBetween(element, before, after, segments, blocks)
    const elements = blocks.map((block) => block.element)
    spliceMany(lineNodes, first, removed, elements)
    index.splice(first, removed, lines)
    for (const [k, block] of elements.entries()) {
      lineAt.set(block, first + k)
      const parent = block.parentNode
      if (parent === element) known.set(block, lineKey(lines[k] as Line))
      else if (parent !== null) known.delete(parent)
    }
    for (const list of lists) known.delete(list)
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
  /**
   * The model index of a DOM point in a canonical line element, read from that line alone (its
   * start is cached): undefined when the point is not in or between known lines.
   */
  const pointIndex = (point: DomPoint): number | undefined => {
    const { node, offset } = point
    if (node === element || (isList(node) && node.parentNode === element)) {
      // Between blocks: the start of the block after the point.
      let next = node.childNodes[offset]
      if (isList(next)) next = next.firstChild ?? undefined
      const line = next === undefined ? undefined : lineIndexOf(next)
      return line === undefined ? undefined : index.start(line)
    }
    const lineNode = lineNodeOf(node)
    const line = lineNode === undefined ? undefined : lineIndexOf(lineNode)
    if (lineNode === undefined || line === undefined) return undefined
    const parsed = parseDom(lineNode, { mode: 'live', points: [point], allowed })
    const within = parsed.points[0]
    if (within === undefined || parsed.lines.length !== 1) return undefined
    return index.start(line) + within
  }
  /** The selection as model indexes [anchor, head] (reads the current DOM). */
  const selectionIndexes = (): [number, number] | undefined => {
    const points = selectionPoints()
    if (points.length === 0) return undefined
    let [anchor, head] = points.map(pointIndex)
    if (anchor === undefined || head === undefined) {
      ;[anchor, head] = parseDom(element, { mode: 'live', points, allowed }).points
    }
    return anchor === undefined || head === undefined ? undefined : [anchor, head]
  }
  /** The DOM position of model index `at`, found through the line it is in. */
  const pointAt = (at: number): DomPoint => {
    const line = index.find(at) ?? model.lines.length - 1
    const node = lineNodes[line]
    if (node === undefined || lineNodes.length !== model.lines.length) {
      return indexToPoint(element, model.lines, at)
    }
    const offset = Math.max(0, Math.min(at - index.start(line), index.length(line)))
    return pointInLine(node, offset)
  }
  const setSelection = (anchor: number, head: number) => {
    const selection = ownerDocument.getSelection()
    if (!selection) return
    const a = pointAt(anchor)
    const h = anchor === head ? a : pointAt(head)
    selection.setBaseAndExtent(a.node, a.offset, h.node, h.offset)
  }
  const rangeAt = (from: number, to: number): Range => {
    const range = ownerDocument.createRange()
    const start = pointAt(from)
    const end = from === to ? start : pointAt(to)
    range.setStart(start.node, start.offset)
    range.setEnd(end.node, end.offset)
    return range
  }
  const modelLength = () => index.total() - (model.openEnd ? 1 : 0)

  /**
   * Local input read from the blocks the mutation records touched, not from the whole element:
   * the lines from the first to the last touched one are parsed between the untouched lines
   * around them, diffed against their model lines, and re-rendered. Returns false (having
   * changed nothing) when the change cannot be localised; the caller then re-reads everything.
   */
  const syncRange = (records: readonly MutationRecord[], points: readonly DomPoint[]): boolean => {
    if (records.length === 0 || lineNodes.length !== model.lines.length) return false
    let lo = Number.POSITIVE_INFINITY
    let hi = Number.NEGATIVE_INFINITY
    const touch = (line: number | undefined) => {
      if (line === undefined) return false
      lo = Math.min(lo, line)
      hi = Math.max(hi, line)
      return true
    }
    /** A sibling at block level: a list stands for its item next to the change. */
    const touchSibling = (node: Node | null, last: boolean) => {
      if (node === null) return false
      const line = isList(node) ? (last ? node.lastChild : node.firstChild) : node
      return line !== null && touch(lineIndexOf(line))
    }
    for (const record of records) {
      const target = record.target
      if (target === element || (isList(target) && target.parentNode === element)) {
        if (record.type !== 'childList') return false
        const previous = touchSibling(record.previousSibling, true)
        const next = touchSibling(record.nextSibling, false)
        if (!previous && !next) return false
        for (const node of [...Array.from(record.removedNodes), ...Array.from(record.addedNodes)]) {
          touch(lineIndexOf(node))
          if (isList(node)) for (const item of Array.from(node.childNodes)) touch(lineIndexOf(item))
        }
      } else if (element.contains(target)) {
        // Inside a block; a block the browser added is covered by the record that added it.
        touch(lineOf(target))
      }
    }
    if (lo > hi) return false
    const count = model.lines.length
    // The text's end may be open (no final '\n'): the whole-text rules decide there.
    if (hi + 1 >= count && model.openEnd) return false
    if (lo === 0 && hi + 1 >= count) return false
    const before = lineNodes[lo - 1]
    const after = lineNodes[hi + 1]
    if (before !== undefined && !isPlaced(element, before)) return false
    if (after !== undefined && !isPlaced(element, after)) return false
    const segments = between(element, before, after)
    if (segments === undefined) return false

    const parsed = parseSegments(segments, { mode: 'live', points, allowed })
    const base = index.start(lo)
    const oldEnd = index.start(hi + 1)
    const newSize = parsed.lines.reduce((sum, line) => sum + lineLength(line) + 1, 0)
    // Points outside the range are in untouched lines: read there, shifted past the range.
    const [anchor, head] = parsed.points.map((at, i) => {
      if (at !== undefined) return base + at
      const point = points[i]
      const old = point === undefined ? undefined : pointIndex(point)
      if (old === undefined) return undefined
      return old < base ? old : old + newSize - (oldEnd - base)
    })
    const cursor =
      anchor !== undefined && anchor === head && parsed.points[0] !== undefined
        ? anchor - base
        : undefined
    const ops = computeChange(
      { lines: model.lines.slice(lo, hi + 1), openEnd: false },
      parsed.lines,
      cursor,
    ).map((op) => ({ ...op, index: op.index + base }))

    own = []
    if (ops.length > 0) doc.transact(() => applyChange(ytext, ops), origin)
    // The re-rendered range: the parsed lines, and whatever lines the model change touched.
    let first = lo
    let removed = hi + 1 - lo
    for (const delta of own) {
      const splice = applyDeltaToLinesAt(model, delta, allowed, index)
      if (splice === undefined) {
        model = readLines(ytext, allowed)
        if (reconcile() && anchor !== undefined && head !== undefined) setSelection(anchor, head)
        return true
      }
      if (splice.removed > 0 || splice.inserted.length > 0) {
        const end = Math.max(first + removed, splice.first + splice.removed)
        first = Math.min(first, splice.first)
        removed = end - first
      }
      model = splice.model
    }
    own = []
    const grown = model.lines.length - count
    const lines = model.lines.slice(first, first + removed + grown)
    // Blocks the browser left in canonical form are kept: the caret stays in them.
    const candidates: Node[] = []
    for (const node of between(element, lineNodes[first - 1], lineNodes[first + removed]) ?? []) {
      for (const item of node) {
        if (isList(item) && item.parentNode === element) {
          for (const child of Array.from(item.childNodes)) candidates.push(child)
        } else candidates.push(item)
      }
    }
    const mutated = renderLines(first, removed, lines, (k, rendered) => {
      const candidate = candidates[k]
      return candidate?.nodeType === 1 && (candidate as Element).outerHTML === rendered.outerHTML
        ? (candidate as Element)
        : undefined
    })
    if (mutated && anchor !== undefined && head !== undefined) setSelection(anchor, head)
    return true
  }

  /** Reads the element, writes the difference to the model, normalises the DOM. */
  const syncLocal = () => {
    if (composing || destroyed) return
    const records = takeRecords()
    if (records.length === 0) {
      renderQueued()
      return
    }
    const points = selectionPoints()
    if (queued.length === 0 && syncRange(records, points)) {
      scheduleCursors()
      return
    }
    const parsed = parseDom(element, { mode: 'live', points, allowed })
    const [anchor, head] = parsed.points
    const cursor = anchor !== undefined && anchor === head ? head : undefined
    const ops = computeChange(model, parsed.lines, cursor)
    const remote = queued
    queued = []
    if (ops.length > 0) doc.transact(() => applyChange(ytext, ops, remote), origin)
    own = []
    if (ops.length > 0 || remote.length > 0) model = readLines(ytext, allowed)
    if (reconcile() && anchor !== undefined && head !== undefined) {
      setSelection(transformThrough(remote, anchor), transformThrough(remote, head))
    }
    scheduleCursors()
  }

  /** Renders a change the model already has (remote, undo, our own formatting). */
  const applyModelChange = (deltas: readonly DeltaChange[][]) => {
    // Unread local mutations: the DOM is not the model's rendering, re-render the touched blocks.
    const dirty = takeRecords().length > 0 || lineNodes.length !== model.lines.length
    const selection = selectionIndexes()
    // Only the lines the change touched are rebuilt and re-rendered (long documents); the text
    // is re-read and the element reconciled when that cannot be done exactly.
    let mutated = false
    // Past a few deltas one re-read of the text is cheaper than rendering each.
    let full = dirty || deltas.length > MAX_INCREMENTAL_DELTAS
    for (const delta of full ? [] : deltas) {
      const splice = applyDeltaToLinesAt(model, delta, allowed, index)
      if (splice === undefined) {
        full = true
        break
      }
      const old = model.lines
      model = splice.model
      if (splice.removed === 0 && splice.inserted.length === 0) continue
      const changed = renderLines(splice.first, splice.removed, splice.inserted, (k) => {
        const previous = old[splice.first + k]
        const line = splice.inserted[k]
        const node = lineNodes[splice.first + k]
        return k < splice.removed && previous !== undefined && line !== undefined
          ? lineKey(previous) === lineKey(line)
            ? node
            : undefined
          : undefined
      })
      mutated = changed || mutated
    }
    if (full) {
      model = readLines(ytext, allowed)
      mutated = reconcile() || mutated
    }
    if (mutated && selection !== undefined) {
      setSelection(transformThrough(deltas, selection[0]), transformThrough(deltas, selection[1]))
    }
    scheduleCursors()
  }

  // Reads each event's delta from the change itself, not by walking the whole text.
  const deltas = createDeltaReader(ytext)
  const onYText = (event: Y.YTextEvent, transaction: Y.Transaction) => {
    // Read now, for every event in order: a delta is only computed correctly during its event.
    const delta = deltas.read(event)
    if (transaction.origin === origin) {
      own.push(delta)
      return
    }
    queued.push(delta)
    if (composing) return
    // This page's own changes (undo, code writing the text) show at once; other peers' wait for
    // the frame, so that a burst of them is rendered once.
    if (transaction.local) renderQueued()
    else scheduleRender()
  }

  let renderFrame: number | undefined
  let renderTimer: ReturnType<typeof setTimeout> | undefined
  const cancelRender = () => {
    if (renderFrame !== undefined) view.cancelAnimationFrame(renderFrame)
    if (renderTimer !== undefined) clearTimeout(renderTimer)
    renderFrame = renderTimer = undefined
  }
  /** Renders the queued remote deltas (not during composition: they land after it). */
  function renderQueued() {
    cancelRender()
    if (composing || destroyed || queued.length === 0) return
    const remote = queued
    queued = []
    applyModelChange(remote)
  }
  function scheduleRender() {
    if (renderFrame !== undefined || destroyed) return
    renderFrame = view.requestAnimationFrame(renderQueued)
    // A hidden tab runs no frames: its DOM still catches up (browsers run its timers ≤ 1/s).
    renderTimer = setTimeout(renderQueued, RENDER_FALLBACK_MS)
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
    own = []
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
    own = []
    model = readLines(ytext, allowed)
    reconcile()
    setSelection(at, at)
    scheduleCursors()
  }

  const onBeforeInput = (event: InputEvent) => {
    // The browser is about to edit the DOM: it must show the current text first, so that the
    // edit is read against it (cheaply, from the blocks it touches).
    if (!composing) renderQueued()
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
    // Cursors are placed in the current text: render what is queued first (while `frame` is
    // still set, so that the render does not schedule another drawing).
    renderQueued()
    frame = undefined
    const awareness = options.awareness
    if (!awareness || !overlay || destroyed) return
    const length = modelLength()
    const boxes: CaretBox[] = readRemoteCursors(awareness, ytext).map((cursor) => {
      const anchor = Math.min(cursor.anchor, length)
      const head = Math.min(cursor.head, length)
      const from = Math.min(anchor, head)
      const to = Math.max(anchor, head)
      const caretRange = rangeAt(head, head)
      let caret: DOMRect | null = caretRange.getClientRects()[0] ?? null
      if (caret === null) {
        // An empty line (`<p><br></p>`) has no text to measure: use its element.
        const node = caretRange.startContainer
        const host = node.nodeType === 1 ? (node as Element) : node.parentElement
        const rect = host?.getBoundingClientRect()
        caret = rect ? new DOMRect(rect.left, rect.top, 0, rect.height) : null
      }
      const selection = from === to ? [] : Array.from(rangeAt(from, to).getClientRects())
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
    // Read in the rendered text; the Y.Text may already have queued remote changes.
    if (selection !== undefined) {
      publisher.publish(
        transformThrough(queued, selection[0]),
        transformThrough(queued, selection[1]),
      )
    }
  }
  const onBlur = () => publisher?.clear()

  // Bind: seed (R9) or adopt the model, then render it.
  const initial = parseDom(element, { allowed })
  if (ytext.length === 0 && hasContent(initial.lines)) {
    // Not the binding's origin: the seed is nobody's edit to undo.
    seedText(ytext, options.field ?? 'text', linesToDelta(initial.lines), { seed: true })
  }
  model = readLines(ytext, allowed)
  index.reset(model.lines)
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
    flush: renderQueued,
    destroy() {
      if (destroyed) return
      renderQueued()
      destroyed = true
      cancelRender()
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
