/**
 * Presence for one text field: publishes this user's selection into awareness (y-quill's format,
 * see remote-cursors.ts) and draws other users' cursors over the field in the shadow-DOM overlay.
 * Redraws are batched to one per animation frame; they follow awareness changes, text changes,
 * scrolling (of the field or the page) and resizing.
 */
import type { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { createCursorOverlay, type CaretBox } from '../cursor-overlay.js'
import { createCursorPublisher, readRemoteCursors } from '../remote-cursors.js'
import { createCaretGeometry } from './caret-geometry.js'
import { displayToModel, modelToDisplay, type DisplayText } from './display-text.js'

export interface FieldCursors {
  /** Publishes the field's current selection (if focused). */
  publish(): void
  /** Schedules a redraw on the next animation frame. */
  redraw(): void
  /** The remote cursors as last drawn. */
  drawn(): readonly CaretBox[]
  destroy(): void
}

/**
 * `shown()` is what the field shows and how it maps to the model, or null while the field lags
 * behind the model (during IME composition): then nothing is published or redrawn.
 */
export const createFieldCursors = (
  ytext: Y.Text,
  element: HTMLTextAreaElement | HTMLInputElement,
  awareness: Awareness,
  shown: () => DisplayText | null,
): FieldCursors => {
  const doc = element.ownerDocument
  const view = doc.defaultView ?? window
  const publisher = createCursorPublisher(awareness, ytext)
  const overlay = createCursorOverlay(doc)
  const geometry = createCaretGeometry(element)
  let frame: number | undefined
  let boxes: readonly CaretBox[] = []
  // What was last published, as relative positions: a remote insert before the caret changes its
  // index but not its place, and must not cost an awareness update (our own setSelectionRange
  // after a remote change fires `select` in Chromium).
  let published: readonly [Y.RelativePosition, Y.RelativePosition] | undefined

  const unchanged = (anchor: number, head: number) => {
    const next = [
      Y.createRelativePositionFromTypeIndex(ytext, anchor),
      Y.createRelativePositionFromTypeIndex(ytext, head),
    ] as const
    const same =
      published !== undefined &&
      Y.compareRelativePositions(published[0], next[0]) &&
      Y.compareRelativePositions(published[1], next[1])
    published = next
    return same
  }

  const publish = () => {
    const display = shown()
    const { selectionStart, selectionEnd } = element
    if (display === null || selectionStart === null || selectionEnd === null) return
    if (doc.activeElement !== element) return
    const start = displayToModel(display, selectionStart, 'before')
    const end = displayToModel(display, selectionEnd, 'before')
    const [anchor, head] = element.selectionDirection === 'backward' ? [end, start] : [start, end]
    if (!unchanged(anchor, head)) publisher.publish(anchor, head)
  }

  const draw = () => {
    frame = undefined
    const display = shown()
    if (display === null) return
    boxes = readRemoteCursors(awareness, ytext).map(({ clientId, name, color, anchor, head }) => {
      const from = modelToDisplay(display, Math.min(anchor, head))
      const to = modelToDisplay(display, Math.max(anchor, head))
      return {
        clientId,
        name,
        color,
        caret: geometry.caret(modelToDisplay(display, head)),
        selection: geometry.selection(from, to),
      }
    })
    overlay.render(boxes)
  }
  const redraw = () => {
    frame ??= view.requestAnimationFrame(draw)
  }

  const onSelectionChange = () => {
    if (doc.activeElement === element) publish()
  }
  const onBlur = () => {
    published = undefined
    publisher.clear()
  }
  const onAwareness = () => redraw()
  const resizes = typeof view.ResizeObserver === 'function' ? new view.ResizeObserver(redraw) : null
  resizes?.observe(element)
  awareness.on('change', onAwareness)
  for (const type of ['select', 'keyup', 'mouseup', 'focus'] as const) {
    element.addEventListener(type, publish)
  }
  element.addEventListener('blur', onBlur)
  doc.addEventListener('selectionchange', onSelectionChange)
  // Scroll events do not bubble; capturing at the window sees the field's and the page's.
  view.addEventListener('scroll', redraw, { capture: true, passive: true })
  view.addEventListener('resize', redraw)
  redraw()

  return {
    publish,
    redraw,
    drawn: () => boxes,
    destroy() {
      if (frame !== undefined) view.cancelAnimationFrame(frame)
      frame = undefined
      resizes?.disconnect()
      awareness.off('change', onAwareness)
      for (const type of ['select', 'keyup', 'mouseup', 'focus'] as const) {
        element.removeEventListener(type, publish)
      }
      element.removeEventListener('blur', onBlur)
      doc.removeEventListener('selectionchange', onSelectionChange)
      view.removeEventListener('scroll', redraw, { capture: true })
      view.removeEventListener('resize', redraw)
      publisher.destroy()
      overlay.destroy()
      geometry.destroy()
    },
  }
}
