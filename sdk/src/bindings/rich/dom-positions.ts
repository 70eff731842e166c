/**
 * Model index ↔ DOM position on the canonical rendering (one line element per line, see
 * delta-to-dom.ts). The reverse direction for arbitrary DOM goes through `parseDom`'s points.
 */
import { lineElements } from './delta-to-dom.js'
import { lineLength, type Line } from './lines.js'
import type { DomPoint } from './dom-to-delta.js'

/**
 * The DOM position of model index `index` in `root`, rendered from `lines`. At a boundary between
 * two text nodes the earlier one wins, so typing continues the format on the left (as Quill does).
 */
export const indexToPoint = (root: Element, lines: readonly Line[], index: number): DomPoint => {
  const elements = lineElements(root)
  let start = 0
  for (const [i, line] of lines.entries()) {
    const length = lineLength(line)
    const element = elements[i]
    if (element === undefined) break
    if (index <= start + length || i === lines.length - 1) {
      return pointInLine(element, Math.max(0, Math.min(index - start, length)))
    }
    start += length + 1
  }
  return { node: root, offset: root.childNodes.length }
}

/**
 * The DOM position `offset` characters into the canonical rendering of one line (`element`, its
 * <p>, <li>, …). At a boundary between two text nodes the earlier one wins.
 */
export const pointInLine = (element: Element, offset: number): DomPoint => {
  let rest = offset
  const walker = element.ownerDocument.createTreeWalker(element, 4 /* NodeFilter.SHOW_TEXT */)
  let last: Text | undefined
  for (let node = walker.nextNode(); node !== null; node = walker.nextNode()) {
    const text = node as Text
    if (rest <= text.length) return { node: text, offset: rest }
    rest -= text.length
    last = text
  }
  return last === undefined ? { node: element, offset: 0 } : { node: last, offset: last.length }
}

/** A DOM range covering model indexes `from`..`to` (from ≤ to). */
export const rangeOf = (root: Element, lines: readonly Line[], from: number, to: number): Range => {
  const range = root.ownerDocument.createRange()
  const start = indexToPoint(root, lines, from)
  const end = from === to ? start : indexToPoint(root, lines, to)
  range.setStart(start.node, start.offset)
  range.setEnd(end.node, end.offset)
  return range
}
