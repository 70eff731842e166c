/**
 * Re-rendering a range of lines in place (issue 4: a keystroke in a long document touches only
 * the blocks it changed). The element holds the canonical rendering (delta-to-dom.ts): one block
 * per line at the top level, except that consecutive list items of one kind share a <ul>/<ol>.
 * Everything strictly between two line elements (the anchors, untouched) is replaced by new line
 * elements, and the lists at the range's edges are split or merged so the grouping stays
 * canonical. Moves and splits cost the size of the list they touch, nothing else.
 */

type ListKind = 'bullet' | 'ordered'

export interface Block {
  /** A line element: rendered for the line, or an existing one kept (already canonical). */
  readonly element: Element
  readonly list: ListKind | undefined
}

export const isList = (node: Node | null | undefined): node is Element =>
  node?.nodeType === 1 && (node.nodeName === 'UL' || node.nodeName === 'OL')

const tagOf = (list: ListKind) => (list === 'ordered' ? 'OL' : 'UL')

/** The top-level node of a line element: itself, or its list. */
const topOf = (root: Node, line: Node): Node | null =>
  line.parentNode === root ? line : (line.parentNode ?? null)

/** Whether `line` sits where a line element of the canonical rendering of `root` can. */
export const isPlaced = (root: Node, line: Node): boolean => {
  const parent = line.parentNode
  if (parent === root) return !isList(line)
  return isList(parent) && parent.parentNode === root
}

/**
 * The nodes strictly between line elements `before` and `after` (undefined: the start / end of
 * `root`), as runs of siblings in document order (see `parseSegments`): the rest of `before`'s
 * list, the top-level nodes in between, the start of `after`'s list. Undefined when `after`
 * does not follow `before`.
 */
export const between = (
  root: Node,
  before: Node | undefined,
  after: Node | undefined,
): Node[][] | undefined => {
  const segments: Node[][] = []
  const topBefore = before === undefined ? undefined : topOf(root, before)
  const topAfter = after === undefined ? undefined : topOf(root, after)
  if (topBefore === null || topAfter === null) return undefined
  if (before !== undefined && before.parentNode !== root) {
    const segment: Node[] = []
    let node = before.nextSibling
    for (; node !== null && node !== after; node = node.nextSibling) segment.push(node)
    segments.push(segment)
    if (topBefore === topAfter) return node === after ? segments : undefined
  } else if (topBefore !== undefined && topBefore === topAfter) {
    return undefined
  }
  const middle: Node[] = []
  let node = topBefore === undefined ? root.firstChild : topBefore.nextSibling
  for (; node !== null && node !== topAfter; node = node.nextSibling) middle.push(node)
  if (topAfter !== undefined && node === null) return undefined
  segments.push(middle)
  if (after !== undefined && after.parentNode !== root) {
    const segment: Node[] = []
    for (let item = topAfter?.firstChild ?? null; item !== null && item !== after;) {
      segment.push(item)
      item = item.nextSibling
    }
    segments.push(segment)
  }
  return segments
}

/**
 * Replaces `segments` (from {@link between} for `before` and `after`) by `blocks`, grouping list
 * items with each other and with the anchors' lists. Blocks that are already in place are not
 * moved (the caret in them survives). Returns whether the DOM changed and the lists it changed.
 */
export const replaceBetween = (
  root: Node,
  before: Element | undefined,
  after: Element | undefined,
  segments: readonly (readonly Node[])[],
  blocks: readonly Block[],
): { mutated: boolean; lists: Set<Element> } => {
  const doc = root.ownerDocument ?? document
  const keep = new Set<Node>(blocks.map((block) => block.element))
  const lists = new Set<Element>()
  let mutated = false
  const detach = (node: Node) => {
    const parent = node.parentNode
    if (parent === null) return
    if (parent !== root && isList(parent)) lists.add(parent)
    parent.removeChild(node)
    mutated = true
  }
  const move = (node: Node, parent: Node, next: Node | null) => {
    if (node.parentNode !== null && node.parentNode !== root && isList(node.parentNode)) {
      lists.add(node.parentNode)
    }
    parent.insertBefore(node, next)
    if (isList(parent)) lists.add(parent)
    mutated = true
  }

  for (const segment of segments) {
    for (const node of segment) {
      if (keep.has(node)) continue
      if (isList(node) && node.parentNode === root) {
        const children = Array.from(node.childNodes)
        if (children.some((child) => keep.has(child))) {
          for (const child of children) if (!keep.has(child)) detach(child)
          continue
        }
      }
      detach(node)
    }
  }

  const placeTop = (element: Element, list: ListKind | undefined, previous: Node | undefined) => {
    const next = previous === undefined ? root.firstChild : previous.nextSibling
    if (list === undefined) {
      if (next !== element) move(element, root, next)
    } else if (isList(next) && next.nodeName === tagOf(list)) {
      if (next.firstChild !== element) move(element, next, next.firstChild)
    } else {
      const container = doc.createElement(tagOf(list).toLowerCase())
      move(element, container, null)
      root.insertBefore(container, next)
      lists.add(container)
    }
  }

  let previous: Element | undefined = before
  for (const { element, list } of blocks) {
    const parent = previous?.parentNode
    if (previous !== undefined && parent !== root && isList(parent)) {
      if (list !== undefined && parent.nodeName === tagOf(list)) {
        if (element.parentNode !== parent || element.previousSibling !== previous) {
          move(element, parent, previous.nextSibling)
        }
      } else {
        // Leaving the list: what follows the previous item goes into a list of its own.
        if (previous.nextSibling !== null) {
          const rest = doc.createElement(parent.nodeName.toLowerCase())
          while (previous.nextSibling !== null) rest.append(previous.nextSibling)
          root.insertBefore(rest, parent.nextSibling)
          lists.add(rest)
          lists.add(parent)
          mutated = true
        }
        placeTop(element, list, parent)
      }
    } else {
      placeTop(element, list, previous)
    }
    previous = element
  }

  // Two lists of one kind that now touch become one (the smaller one moves).
  const left = previous?.parentNode
  const right = after?.parentNode
  if (
    isList(left) &&
    isList(right) &&
    left !== root &&
    right !== root &&
    left !== right &&
    left.nodeName === right.nodeName &&
    left.nextSibling === right
  ) {
    if (left.childNodes.length <= right.childNodes.length) {
      while (left.lastChild !== null) right.insertBefore(left.lastChild, right.firstChild)
      root.removeChild(left)
      lists.delete(left)
      lists.add(right)
    } else {
      while (right.firstChild !== null) left.append(right.firstChild)
      root.removeChild(right)
      lists.delete(right)
      lists.add(left)
    }
    mutated = true
  }
  for (const list of lists) {
    if (list.childNodes.length === 0 && list.parentNode !== null) {
      list.parentNode.removeChild(list)
      lists.delete(list)
      mutated = true
    }
  }
  return { mutated, lists }
}
