/**
 * Measures where remote cursors fall in the page's Quill, for the content script's overlay.
 *
 * Why measure here and draw there (rather than register quill-cursors on the page's Quill): most
 * pages have no cursors module, and adding one means registering a module on the page's Quill
 * class and inserting our markup into its container, which the page's code and styles see and may
 * break. The overlay lives in a closed shadow root the content script owns, and peers' names and
 * colours never enter the page's world — only indexes in, rectangles out. Mapping a Quill index to
 * the screen, though, needs Quill's blot model (embeds count 1, a newline per block), which only
 * the main world can use.
 */
import { MAX_RECTS, type CursorBounds, type CursorRequest, type Rect } from './bridge-protocol.js'
import type { PageQuill } from './find-quill.js'

interface LineLike {
  length(): number
}

/** `quill.getBounds` is relative to the container; the overlay is fixed to the viewport. */
const toViewport = (bounds: Rect | null, origin: DOMRect): Rect | null =>
  bounds === null
    ? null
    : {
        left: bounds.left + origin.left,
        top: bounds.top + origin.top,
        width: bounds.width,
        height: bounds.height,
      }

/** `rect` cut to what the editor shows (it may scroll inside its own box), or null. */
const clip = (rect: Rect | null, view: DOMRect): Rect | null => {
  if (rect === null) return null
  const left = Math.max(rect.left, view.left)
  const top = Math.max(rect.top, view.top)
  const right = Math.min(rect.left + rect.width, view.right)
  const bottom = Math.min(rect.top + rect.height, view.bottom)
  // `<=` for the caret's width: it is 0 px and still visible at the very edge.
  return left <= right && top < bottom
    ? { left, top, width: right - left, height: bottom - top }
    : null
}

const boundsOf = (quill: PageQuill, index: number, length: number): Rect | null => {
  const bounds = quill.getBounds(index, length)
  if (bounds === null || typeof bounds !== 'object') return null
  const { left, top, width, height } = bounds
  return [left, top, width, height].every(Number.isFinite) ? { left, top, width, height } : null
}

/** One rectangle per line of the selection [from, to), at most `MAX_RECTS`. */
const selectionRects = (quill: PageQuill, from: number, to: number): Rect[] => {
  const rects: Rect[] = []
  const lines = quill.getLines(from, to - from).slice(0, MAX_RECTS) as LineLike[]
  for (const line of lines) {
    const start = quill.getIndex(line)
    // A line's length counts its newline, which has no width of its own.
    const end = Math.min(to, start + line.length() - 1)
    const begin = Math.max(from, start)
    if (end <= begin) continue
    const rect = boundsOf(quill, begin, end - begin)
    if (rect !== null) rects.push(rect)
  }
  return rects
}

/** Viewport rectangles for each requested cursor, clipped to the editor's visible box. */
export const measureCursors = (
  quill: PageQuill,
  cursors: readonly CursorRequest[],
): CursorBounds[] => {
  const last = Math.max(quill.getLength() - 1, 0)
  const clamp = (index: number) => Math.min(index, last)
  const origin = quill.container.getBoundingClientRect()
  const view = quill.root.getBoundingClientRect()
  return cursors.map(({ anchor, head }) => {
    const from = clamp(Math.min(anchor, head))
    const to = clamp(Math.max(anchor, head))
    const selection = to > from ? selectionRects(quill, from, to) : []
    return {
      caret: clip(toViewport(boundsOf(quill, clamp(head), 0), origin), view),
      selection: selection
        .map((rect) => clip(toViewport(rect, origin), view))
        .filter((rect): rect is Rect => rect !== null),
    }
  })
}
