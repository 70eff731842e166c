/**
 * DOM → lines: reads an element's DOM (the live editable element, or pasted HTML parsed into an
 * inert document) through the schema. Known block elements make lines, known inline elements make
 * formats, `<br>` ends a line; unknown elements contribute their text only, and `<script>`,
 * `<style>` and other non-content elements contribute nothing. Reading never changes the DOM.
 */
import { pushRun, type Line, type Run } from './lines.js'
import {
  ALL_FORMATS,
  safeUrl,
  type Allowed,
  type BlockAttributes,
  type InlineAttributes,
} from './schema.js'

/** A DOM position, as in `Selection.anchorNode`/`anchorOffset`. */
export interface DomPoint {
  readonly node: Node
  readonly offset: number
}

export interface ParseOptions {
  /**
   * `'live'`: the bound element, shown with `white-space: pre-wrap`, so text is taken verbatim
   * and a '\n' in text ends a line. `'html'` (default): page or clipboard HTML, whitespace
   * collapses as a browser renders it (except in `<pre>`).
   */
  readonly mode?: 'live' | 'html'
  /** Positions to translate to model indexes (`ParseResult.points`). */
  readonly points?: readonly DomPoint[]
  readonly allowed?: Allowed
}

export interface ParseResult {
  readonly lines: Line[]
  /** The model index of each of `options.points`, or undefined if it was not inside `root`. */
  readonly points: (number | undefined)[]
}

const SKIP = new Set([
  'SCRIPT',
  'STYLE',
  'TEMPLATE',
  'NOSCRIPT',
  'IFRAME',
  'OBJECT',
  'EMBED',
  'SVG',
  'MATH',
  'CANVAS',
  'VIDEO',
  'AUDIO',
  'IMG',
  'HEAD',
  'TITLE',
  'META',
  'LINK',
  'INPUT',
  'TEXTAREA',
  'SELECT',
  'BUTTON',
])
const BLOCKS = new Set([
  'P',
  'DIV',
  'H1',
  'H2',
  'H3',
  'H4',
  'H5',
  'H6',
  'LI',
  'UL',
  'OL',
  'BLOCKQUOTE',
  'PRE',
  'SECTION',
  'ARTICLE',
  'HEADER',
  'FOOTER',
  'MAIN',
  'ASIDE',
  'NAV',
  'TABLE',
  'TBODY',
  'THEAD',
  'TR',
  'TD',
  'TH',
  'DL',
  'DT',
  'DD',
  'FIGURE',
  'FIGCAPTION',
  'ADDRESS',
  'HR',
  'BODY',
  'HTML',
])
const MARK_TAGS: Record<string, keyof InlineAttributes> = {
  B: 'bold',
  STRONG: 'bold',
  I: 'italic',
  EM: 'italic',
  U: 'underline',
  S: 'strike',
  STRIKE: 'strike',
  DEL: 'strike',
  CODE: 'code',
}

const isElement = (node: Node): node is Element => node.nodeType === 1
const isText = (node: Node): node is Text => node.nodeType === 3

/** The block format an element sets for the lines inside it, or undefined if it sets none. */
const blockOf = (element: Element, allowed: Allowed): BlockAttributes | undefined => {
  const tag = element.tagName.toUpperCase()
  if (tag === 'LI') {
    // Quill 2 renders every list as <ol> and names the kind in data-list.
    const kind = element.getAttribute('data-list')
    const list =
      kind === 'bullet' || kind === 'ordered'
        ? kind
        : element.parentElement?.tagName.toUpperCase() === 'OL'
          ? 'ordered'
          : 'bullet'
    return allowed.has('list') ? { list } : {}
  }
  if (tag === 'H1' || tag === 'H2' || tag === 'H3') {
    return allowed.has('header') ? { header: Number(tag[1]) as 1 | 2 | 3 } : {}
  }
  if (/^H[4-6]$/.test(tag)) return {}
  if (tag === 'PRE' || element.classList.contains('ql-code-block')) {
    return allowed.has('code-block') ? { 'code-block': true } : {}
  }
  if (tag === 'BLOCKQUOTE') return allowed.has('blockquote') ? { blockquote: true } : {}
  return undefined
}

/** Parses the children of `root` into lines. */
export const parseDom = (root: Node, options: ParseOptions = {}): ParseResult =>
  parse(options, undefined, root)

/**
 * Parses part of a live element: `segments` are runs of sibling nodes in document order, each
 * read as the rest of the block (or list) that holds it, so a segment boundary ends a line the
 * way leaving or entering that block would in {@link parseDom}. The result is what `parseDom`
 * of the whole element yields for these nodes, given that the nodes before them ended a line.
 * Unlike `parseDom`, no nodes make no lines. Points count from the segments' start.
 */
export const parseSegments = (
  segments: readonly (readonly Node[])[],
  options: ParseOptions = {},
): ParseResult => parse(options, segments)

const parse = (
  options: ParseOptions,
  segments: readonly (readonly Node[])[] | undefined,
  root?: Node,
): ParseResult => {
  const live = options.mode === 'live'
  const allowed = options.allowed ?? ALL_FORMATS
  const wanted = options.points ?? []
  const points: (number | undefined)[] = wanted.map(() => undefined)
  const lines: Line[] = []
  let runs: Run[] = []
  /** Characters in finished lines, '\n's included. */
  let done = 0
  let pending = 0
  let block: BlockAttributes = {}
  let pre = false

  const index = () => done + pending
  const mark = (node: Node, offset: number, at: number) => {
    for (let i = 0; i < wanted.length; i++) {
      const point = wanted[i]
      if (point !== undefined && point.node === node && point.offset === offset) points[i] = at
    }
  }
  const endLine = () => {
    lines.push({ runs, block })
    done += pending + 1
    pending = 0
    runs = []
  }
  const addText = (text: string, attributes: InlineAttributes) => {
    pushRun(runs, text, attributes)
    pending += text.length
  }

  const visitText = (node: Text, attributes: InlineAttributes) => {
    let text = node.data
    if (!live && !pre) {
      text = text.replace(/[\t\n\r ]+/g, ' ')
      if (pending === 0) text = text.replace(/^ /, '')
    }
    // Points inside this text node: offsets count the node's own characters.
    const start = index()
    if (text === node.data) {
      for (let i = 0; i < wanted.length; i++) {
        const point = wanted[i]
        if (point?.node !== node) continue
        // Account for the '\n's before the offset: each ends a line, still one character.
        points[i] = start + Math.min(point.offset, text.length)
      }
    } else {
      for (let i = 0; i < wanted.length; i++) {
        if (wanted[i]?.node === node) points[i] = start + text.length
      }
    }
    const parts = text.split('\n')
    parts.forEach((part, i) => {
      if (i > 0) endLine()
      addText(part, attributes)
    })
  }

  const visit = (node: Node, attributes: InlineAttributes) => {
    if (isText(node)) {
      // Source formatting between blocks (indentation, newlines) is not content.
      if (!live && !pre && /^[\t\n\r ]*$/.test(node.data) && pending === 0) return
      visitText(node, attributes)
      return
    }
    if (!isElement(node)) return
    const tag = node.tagName.toUpperCase()
    if (SKIP.has(tag)) return
    if (tag === 'BR') {
      endLine()
      return
    }
    if (BLOCKS.has(tag)) {
      visitBlock(node, attributes)
      return
    }
    let inner = attributes
    const format = MARK_TAGS[tag]
    if (format !== undefined && allowed.has(format)) inner = { ...inner, [format]: true }
    if (tag === 'A' && allowed.has('link')) {
      const href = safeUrl(node.getAttribute('href'))
      if (href !== undefined) inner = { ...inner, link: href }
    }
    visitChildren(node, inner)
  }

  const visitChildren = (node: Node, attributes: InlineAttributes) => {
    const children = node.childNodes
    for (let i = 0; i < children.length; i++) {
      mark(node, i, index())
      const child = children[i]
      if (child !== undefined) visit(child, attributes)
    }
    mark(node, children.length, index())
  }

  const visitBlock = (element: Element, attributes: InlineAttributes) => {
    if (pending > 0 || runs.length > 0) endLine()
    const outer = block
    const outerPre = pre
    const own = blockOf(element, allowed)
    if (own !== undefined) block = own
    pre = pre || element.tagName.toUpperCase() === 'PRE'
    const before = lines.length
    visitChildren(element, attributes)
    if (pending > 0 || lines.length === before) {
      if (!live && !pre && runs.length > 0) trimEnd()
      endLine()
    }
    block = outer
    pre = outerPre
  }

  const trimEnd = () => {
    const last = runs[runs.length - 1]
    if (last === undefined || !last.text.endsWith(' ')) return
    runs[runs.length - 1] = { text: last.text.slice(0, -1), attributes: last.attributes }
    if (runs[runs.length - 1]?.text === '') runs.pop()
    pending--
  }

  if (root !== undefined) {
    visitChildren(root, {})
    if (pending > 0 || lines.length === 0) endLine()
    return { lines, points }
  }
  for (const segment of segments ?? []) {
    if (pending > 0 || runs.length > 0) endLine()
    for (const node of segment) {
      // A point between two of these nodes is given as (their parent, child index).
      const parent = node.parentNode
      for (let i = 0; i < wanted.length; i++) {
        const point = wanted[i]
        if (point?.node !== parent || parent === null) continue
        if (parent.childNodes[point.offset] === node) points[i] = index()
      }
      visit(node, {})
      for (let i = 0; i < wanted.length; i++) {
        const point = wanted[i]
        if (point?.node !== parent || parent === null || points[i] !== undefined) continue
        if (point.offset > 0 && parent.childNodes[point.offset - 1] === node) points[i] = index()
      }
    }
  }
  if (pending > 0 || runs.length > 0) endLine()
  return { lines, points }
}

/**
 * Parses pasted or dropped HTML in an inert document (`DOMParser` runs no scripts and loads no
 * images), so untrusted markup is only ever read, never inserted.
 */
export const parseHtml = (html: string, allowed?: Allowed): Line[] => {
  const inert = new DOMParser().parseFromString(html, 'text/html')
  return parseDom(inert.body, allowed === undefined ? {} : { allowed }).lines
}

/** Plain text as lines: each '\n' ends a line ('\r\n' counts as one). */
export const parsePlainText = (text: string): Line[] =>
  text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((part) => ({ runs: part.length > 0 ? [{ text: part, attributes: {} }] : [], block: {} }))
