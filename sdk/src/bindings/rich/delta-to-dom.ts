/**
 * Lines → DOM: the canonical rendering. One block element per line (<p>, <h1>–<h3>, <li> grouped
 * into <ul>/<ol>, <blockquote>, <pre>); an empty line is `<p><br></p>`. Built only with
 * `createElement` and `textContent`; the only attribute ever set is a link's `href`, and only
 * after {@link safeUrl} accepted it. Never `innerHTML`: remote text stays text (R31).
 */
import { lineKey, type Line, type Run } from './lines.js'
import { MARKS, safeUrl, type BlockAttributes } from './schema.js'

/** Consecutive lines that render as one top-level node: one line, or one list. */
export interface Group {
  readonly lines: readonly Line[]
  readonly key: string
}

const MARK_TAG = {
  bold: 'strong',
  italic: 'em',
  underline: 'u',
  strike: 's',
  code: 'code',
} as const

const listOf = (block: BlockAttributes) => block.list

/** Groups lines into top-level nodes. */
export const groupLines = (lines: readonly Line[]): Group[] => {
  const groups: Group[] = []
  let i = 0
  while (i < lines.length) {
    const first = lines[i] as Line
    const list = listOf(first.block)
    let j = i + 1
    if (list !== undefined) while (j < lines.length && lines[j]?.block.list === list) j++
    const members = lines.slice(i, j)
    const key = j === i + 1 ? lineKey(first) : members.map(lineKey).join('\u0000')
    groups.push({ lines: members, key })
    i = j
  }
  return groups
}

const renderRun = (doc: Document, run: Run): Node => {
  let node: Node = doc.createTextNode(run.text)
  // Innermost first, so the nesting order is fixed: <a><strong><em><u><s><code>text.
  for (const mark of [...MARKS].reverse()) {
    if (run.attributes[mark] !== true) continue
    const element = doc.createElement(MARK_TAG[mark])
    element.append(node)
    node = element
  }
  const href = safeUrl(run.attributes.link)
  if (href !== undefined) {
    const anchor = doc.createElement('a')
    anchor.setAttribute('href', href)
    anchor.append(node)
    node = anchor
  }
  return node
}

const blockTag = (block: BlockAttributes): string => {
  if (block.list !== undefined) return 'li'
  if (block.header !== undefined) return `h${block.header}`
  if (block['code-block'] === true) return 'pre'
  if (block.blockquote === true) return 'blockquote'
  return 'p'
}

/** The element of one line. */
export const renderLine = (doc: Document, line: Line): HTMLElement => {
  const element = doc.createElement(blockTag(line.block))
  if (line.runs.length === 0) element.append(doc.createElement('br'))
  else for (const run of line.runs) element.append(renderRun(doc, run))
  return element
}

/** The top-level node of one group. */
export const renderGroup = (doc: Document, group: Group): HTMLElement => {
  const first = group.lines[0]
  const list = first === undefined ? undefined : listOf(first.block)
  if (list === undefined) return renderLine(doc, first ?? { runs: [], block: {} })
  const container = doc.createElement(list === 'ordered' ? 'ol' : 'ul')
  for (const line of group.lines) container.append(renderLine(doc, line))
  return container
}

/** Renders whole documents (tests, previews): the nodes to append to an empty container. */
export const renderLines = (doc: Document, lines: readonly Line[]): HTMLElement[] =>
  groupLines(lines).map((group) => renderGroup(doc, group))

/** The line elements of a canonical rendering of `root`, in document order. */
export const lineElements = (root: Element): HTMLElement[] => {
  const elements: HTMLElement[] = []
  for (const child of Array.from(root.children)) {
    const tag = child.tagName.toUpperCase()
    if (tag === 'UL' || tag === 'OL') {
      for (const item of Array.from(child.children)) elements.push(item as HTMLElement)
    } else {
      elements.push(child as HTMLElement)
    }
  }
  return elements
}
