/**
 * One attachment of the bridge to a page's Quill: forwards the editor's changes and selection to
 * the content script and applies the shared text's changes to the editor. Runs in the page's
 * main world; knows nothing of Yjs (the content script owns the `Y.Text`), only Quill deltas.
 *
 * Invariant the content script relies on: every change to the editor's content that Quill
 * reports, other than the bridge's own, is forwarded once, in order, relative to the content the
 * content script last knew. That includes the page's own programmatic edits (source `'api'`:
 * toolbar handlers, emoji pickers, a draft restored late), because dropping them would shift every
 * later index and corrupt the shared text. The bridge's own applies are recognised by the change
 * object Quill returns — not by source — so a page listener that edits in reaction to them is still
 * forwarded. Changes the page makes with source `'silent'` are invisible to everyone (as with
 * y-quill).
 */
import {
  TO_CONTENT_EVENT,
  TO_PAGE_EVENT,
  createDropReporter,
  dispatchBridgeEvent,
  encodeMessage,
  isEmbed,
  readEnvelope,
  readToPage,
  type Delta,
  type DeltaOp,
  type ToContent,
} from './bridge-protocol.js'
import {
  deltaClassOf,
  isKnownBlot,
  type PageDelta,
  type PageDeltaClass,
  type PageQuill,
} from './find-quill.js'
import { measureCursors } from './measure-cursors.js'

/** Stands in for an embed the page's Quill cannot render: same length, so indexes stay aligned. */
const OBJECT_REPLACEMENT = '\uFFFC'

export interface Attachment {
  readonly nonce: string
  /** Tells the content side this binding is gone (another attached), then detaches. */
  replace(): void
  /** Removes every listener; idempotent. */
  destroy(): void
}

interface HistoryOptions {
  userOnly?: unknown
}

/**
 * `ops` without `null` attributes on inserts. The content side sends them, as y-quill does, so that
 * Quill 1 does not extend a neighbour's format over inserted text; a document never contains them,
 * and comparing one that does with the editor's content would report them as a difference.
 */
const withoutRemovals = (ops: readonly unknown[]): unknown[] =>
  ops.map((op) => {
    const { insert, attributes } = op as { insert?: unknown; attributes?: Record<string, unknown> }
    if (insert === undefined || attributes === undefined) return op
    const kept = Object.entries(attributes).filter(([, value]) => value !== null)
    return kept.length > 0 ? { insert, attributes: Object.fromEntries(kept) } : { insert }
  })

/**
 * The page's history module would record the bridge's `'api'` changes as undoable (Quill's default
 * `userOnly: false`), so Ctrl+Z would remove a peer's text. For the span of `run` it is told to
 * treat non-user changes as it does with `userOnly: true`: transform its stacks instead.
 */
const withLocalUndo = <T>(quill: PageQuill, run: () => T): T => {
  const history = quill.getModule('history') as { options?: HistoryOptions } | undefined
  const options = history?.options
  if (typeof options !== 'object' || options === null) return run()
  const previous = options.userOnly
  options.userOnly = true
  try {
    return run()
  } finally {
    options.userOnly = previous
  }
}

/**
 * Attaches to `quill`, answering `nonce` on `element` (the element the content script dispatched
 * `attach` on). Sends `attached` before returning.
 */
export const attachQuill = (
  quill: PageQuill,
  element: Element,
  nonce: string,
  onDestroy: () => void,
): Attachment => {
  const reporter = createDropReporter('coedit quill bridge: dropped a message')
  const DeltaClass = deltaClassOf(quill)
  let destroyed = false
  /** True while the bridge changes the editor: Quill's reports are collected, not forwarded. */
  let applying = false
  const collected: PageDelta[] = []

  const send = (message: ToContent): boolean => {
    const detail = encodeMessage(nonce, message)
    if (detail === undefined) {
      // Too large (or not JSON): the content side must not go on believing it is in sync.
      if (message.type === 'delta') send({ type: 'desync', reason: 'too-large' })
      return false
    }
    dispatchBridgeEvent(element, TO_CONTENT_EVENT, detail)
    return true
  }
  const sendDelta = (delta: PageDelta) => {
    if (delta.ops.length > 0) send({ type: 'delta', delta: delta.ops as Delta })
  }

  const onTextChange = (delta: PageDelta) => {
    if (applying) collected.push(delta)
    else sendDelta(delta)
  }
  const onSelectionChange = (range: { index: number; length: number } | null) => {
    send({
      type: 'selection',
      range: range === null ? null : { index: range.index, length: range.length },
    })
  }

  /** Unknown embeds become a placeholder of the same length (Quill would throw half-way). */
  const renderable = (delta: Delta): DeltaOp[] =>
    delta.map((op) =>
      'insert' in op && typeof op.insert !== 'string' && isEmbed(op.insert)
        ? isKnownBlot(quill, Object.keys(op.insert)[0] ?? '')
          ? op
          : { ...op, insert: OBJECT_REPLACEMENT }
        : op,
    )

  /**
   * Applies `remote` (relative to the content the content side knows). Edits Quill had not yet
   * reported (DOM mutations it observes asynchronously) are flushed first; if there were any, the
   * remote change is rebased over them and they are sent rebased over it — the same order on both
   * sides (`a.transform(b, true)` treats `a` as first). If Quill reports other changes while
   * applying (a page listener reacting, an IME composition ending inside the update), what the
   * editor shows is diffed against what it should show and the difference is sent.
   */
  const apply = (DeltaType: PageDeltaClass, remote: PageDelta) => {
    let pending: PageDelta | undefined
    let correction: PageDelta | undefined
    applying = true
    try {
      withLocalUndo(quill, () => {
        quill.update('user')
        const local = collected.splice(0).reduce((all, d) => all.compose(d), new DeltaType())
        const rebased = local.length() > 0 ? local.transform(remote, true) : remote
        if (local.length() > 0) pending = remote.transform(local, false)
        const base = quill.getContents()
        const change = quill.updateContents(rebased, 'api')
        if (collected.some((delta) => delta !== change)) {
          const expected = base.compose(new DeltaType(withoutRemovals(rebased.ops)))
          correction = expected.diff(quill.getContents())
        }
      })
    } finally {
      applying = false
      collected.length = 0
    }
    if (pending !== undefined) sendDelta(pending)
    if (correction !== undefined) sendDelta(correction)
  }

  /** Replaces the content; the page's undo stack referred to content that is gone. */
  const set = (document: PageDelta) => {
    applying = true
    try {
      withLocalUndo(quill, () => {
        quill.update('user')
        quill.setContents(document, 'api')
      })
    } finally {
      applying = false
      collected.length = 0
    }
    const history = quill.getModule('history') as { clear?: () => void } | undefined
    if (typeof history?.clear === 'function') history.clear()
  }

  const onMessage = (event: Event) => {
    if (event.target !== element) return
    const envelope = readEnvelope((event as CustomEvent<unknown>).detail)
    if (envelope === undefined) return reporter.report('malformed detail')
    // Another binding's traffic (or a stale one's): not ours to judge.
    if (envelope.nonce !== nonce) return
    const message = readToPage(envelope.data)
    if (message === undefined) {
      reporter.report('malformed message')
      send({ type: 'desync', reason: 'malformed' })
      return
    }
    switch (message.type) {
      case 'apply':
      case 'set': {
        if (DeltaClass === undefined) return void send({ type: 'desync', reason: 'no-delta' })
        try {
          const delta = new DeltaClass(renderable(message.delta))
          if (message.type === 'apply') apply(DeltaClass, delta)
          else set(delta)
        } catch (error) {
          console.error('coedit quill bridge: the page’s Quill rejected a change', error)
          send({ type: 'desync', reason: 'apply-failed' })
        }
        return
      }
      case 'bounds-request': {
        let cursors: ReturnType<typeof measureCursors> = []
        try {
          cursors = measureCursors(quill, message.cursors)
        } catch (error) {
          console.warn('coedit quill bridge: measuring cursors failed', error)
        }
        send({ type: 'bounds', id: message.id, cursors })
        return
      }
      case 'detach':
        destroy()
        return
    }
  }

  const destroy = () => {
    if (destroyed) return
    destroyed = true
    quill.off('text-change', onTextChange)
    quill.off('selection-change', onSelectionChange)
    element.removeEventListener(TO_PAGE_EVENT, onMessage)
    onDestroy()
  }

  // Edits Quill has not processed yet belong to the content sent with `attached`.
  quill.update('user')
  element.addEventListener(TO_PAGE_EVENT, onMessage)
  quill.on('text-change', onTextChange)
  quill.on('selection-change', onSelectionChange)
  // Listeners first: the content side answers `attached` synchronously (with `set`, say).
  if (send({ type: 'attached', delta: quill.getContents().ops as Delta })) {
    // Where the user already is, so peers see it before the next move.
    const range = quill.getSelection()
    if (range !== null && !destroyed) onSelectionChange(range)
  } else {
    send({ type: 'error', reason: 'too-large' })
    destroy()
  }

  return {
    nonce,
    replace() {
      if (destroyed) return
      send({ type: 'detached', reason: 'replaced' })
      destroy()
    },
    destroy,
  }
}
