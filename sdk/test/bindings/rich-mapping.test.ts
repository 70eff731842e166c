// @vitest-environment happy-dom
/**
 * DOM ↔ model mapping of the contenteditable binding: every allowlisted format round-trips,
 * disallowed markup is dropped, and rendering is a fixed point of parse∘render (R8, R31).
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { renderLines } from '../../src/bindings/rich/delta-to-dom.js'
import { computeChange } from '../../src/bindings/rich/diff.js'
import { applyDeltaToLines } from '../../src/bindings/rich/line-delta.js'
import { parseDom, parseHtml } from '../../src/bindings/rich/dom-to-delta.js'
import {
  linesFromDelta,
  linesToDelta,
  readLines,
  type Line,
  type ModelLines,
} from '../../src/bindings/rich/lines.js'
import { safeUrl, sanitizeAttributes } from '../../src/bindings/rich/schema.js'

const render = (lines: readonly Line[]): HTMLDivElement => {
  const div = document.createElement('div')
  div.append(...renderLines(document, lines))
  return div
}
const html = (lines: readonly Line[]) => render(lines).outerHTML
const fromHtml = (source: string) => {
  const div = document.createElement('div')
  div.append(...Array.from(new DOMParser().parseFromString(source, 'text/html').body.childNodes))
  return div
}
const delta = (ops: { insert: string; attributes?: Record<string, unknown> }[]) =>
  linesFromDelta(ops).lines

const ALLOWED: { name: string; ops: { insert: string; attributes?: Record<string, unknown> }[] }[] =
  [
    {
      name: 'bold',
      ops: [{ insert: 'a' }, { insert: 'b', attributes: { bold: true } }, { insert: '\n' }],
    },
    { name: 'italic', ops: [{ insert: 'i', attributes: { italic: true } }, { insert: '\n' }] },
    {
      name: 'underline',
      ops: [{ insert: 'u', attributes: { underline: true } }, { insert: '\n' }],
    },
    { name: 'strike', ops: [{ insert: 's', attributes: { strike: true } }, { insert: '\n' }] },
    { name: 'code', ops: [{ insert: 'c', attributes: { code: true } }, { insert: '\n' }] },
    {
      name: 'link',
      ops: [{ insert: 'l', attributes: { link: 'https://example.com/' } }, { insert: '\n' }],
    },
    {
      name: 'mailto link with nested marks',
      ops: [
        { insert: 'm', attributes: { link: 'mailto:a@example.com', bold: true, italic: true } },
        { insert: '\n' },
      ],
    },
    { name: 'header 1', ops: [{ insert: 'h' }, { insert: '\n', attributes: { header: 1 } }] },
    { name: 'header 2', ops: [{ insert: 'h' }, { insert: '\n', attributes: { header: 2 } }] },
    { name: 'header 3', ops: [{ insert: 'h' }, { insert: '\n', attributes: { header: 3 } }] },
    {
      name: 'bullet list',
      ops: [
        { insert: 'a' },
        { insert: '\n', attributes: { list: 'bullet' } },
        { insert: 'b' },
        { insert: '\n', attributes: { list: 'bullet' } },
      ],
    },
    {
      name: 'ordered list after a bullet list',
      ops: [
        { insert: 'a' },
        { insert: '\n', attributes: { list: 'bullet' } },
        { insert: 'b' },
        { insert: '\n', attributes: { list: 'ordered' } },
      ],
    },
    {
      name: 'blockquote',
      ops: [{ insert: 'q' }, { insert: '\n', attributes: { blockquote: true } }],
    },
    {
      name: 'code block',
      ops: [{ insert: 'x = 1' }, { insert: '\n', attributes: { 'code-block': true } }],
    },
    { name: 'empty lines', ops: [{ insert: 'a\n\n\nb\n' }] },
  ]

describe('contenteditable mapping', () => {
  for (const { name, ops } of ALLOWED) {
    it(`round-trips ${name} through DOM and back`, () => {
      const lines = delta(ops)
      const parsed = parseDom(render(lines), { mode: 'live' }).lines
      expect(parsed).toEqual(lines)
      expect(html(parsed)).toBe(html(lines))
    })
  }

  it('renders the canonical markup', () => {
    expect(
      html(
        delta([
          { insert: 'T' },
          { insert: '\n', attributes: { header: 1 } },
          { insert: 'b', attributes: { bold: true, link: 'https://x.test/' } },
          { insert: '\n\n' },
          { insert: 'i' },
          { insert: '\n', attributes: { list: 'ordered' } },
        ]),
      ),
    ).toBe(
      '<div><h1>T</h1><p><a href="https://x.test/"><strong>b</strong></a></p><p><br></p>' +
        '<ol><li>i</li></ol></div>',
    )
  })

  it('reads the usual HTML spellings of each format', () => {
    const lines = parseDom(
      fromHtml(
        '<div><b>b</b><strong>B</strong><i>i</i><em>I</em><u>u</u><s>s</s><strike>S</strike>' +
          '<del>d</del><code>c</code></div><ul><li>x</li></ul><ol><li data-list="bullet">y</li></ol>' +
          '<pre>p1\np2</pre><blockquote><p>q</p></blockquote><h3>h</h3><h5>five</h5>',
      ),
    ).lines
    expect(linesToDelta(lines)).toEqual([
      { insert: 'bB', attributes: { bold: true } },
      { insert: 'iI', attributes: { italic: true } },
      { insert: 'u', attributes: { underline: true } },
      { insert: 'sSd', attributes: { strike: true } },
      { insert: 'c', attributes: { code: true } },
      { insert: '\n', attributes: {} },
      { insert: 'x', attributes: {} },
      { insert: '\n', attributes: { list: 'bullet' } },
      { insert: 'y', attributes: {} },
      { insert: '\n', attributes: { list: 'bullet' } },
      { insert: 'p1', attributes: {} },
      { insert: '\n', attributes: { 'code-block': true } },
      { insert: 'p2', attributes: {} },
      { insert: '\n', attributes: { 'code-block': true } },
      { insert: 'q', attributes: {} },
      { insert: '\n', attributes: { blockquote: true } },
      { insert: 'h', attributes: {} },
      { insert: '\n', attributes: { header: 3 } },
      { insert: 'five', attributes: {} },
      { insert: '\n', attributes: {} },
    ])
  })

  it('drops disallowed markup from pasted HTML and keeps its text', () => {
    const lines = parseHtml(
      '<p style="color:red" onclick="x()">a<script>window.__pwned=1</script>' +
        '<img src=x onerror="window.__pwned=1">' +
        '<a href="javascript:alert(1)">js</a><a href="data:text/html,x">data</a>' +
        '<a href=" JaVaScRiPt:alert(1)">js2</a><span style="font-weight:bold">s</span>' +
        '<style>p{}</style><font color=red>f</font></p>',
    )
    expect(linesToDelta(lines)).toEqual([
      { insert: 'ajsdatajs2sf', attributes: {} },
      { insert: '\n', attributes: {} },
    ])
    const out = html(lines)
    expect(out).toBe('<div><p>ajsdatajs2sf</p></div>')
  })

  it('drops iframes, embeds and their content', () => {
    // Built detached: happy-dom would try to load an iframe connected to a document.
    const div = document.createElement('div')
    const frame = document.createElement('iframe')
    frame.setAttribute('srcdoc', '<script>window.__pwned=1</script>')
    frame.append('fallback')
    div.append('a', frame, document.createElement('embed'), 'b')
    expect(parseDom(div).lines).toEqual([{ runs: [{ text: 'ab', attributes: {} }], block: {} }])
  })

  it('sanitises remote attributes to the allowlist', () => {
    expect(sanitizeAttributes('x', { bold: true, script: 'x', style: 'a', onerror: 'b' })).toEqual({
      bold: true,
    })
    expect(sanitizeAttributes('x', { link: 'javascript:window.__pwned=1' })).toEqual({})
    expect(sanitizeAttributes('x', { link: 'data:text/html,<script>' })).toEqual({})
    expect(sanitizeAttributes('x', { bold: 'yes', italic: 1 })).toEqual({})
    expect(sanitizeAttributes('\n', { header: 7, list: 'checked' })).toEqual({})
    expect(sanitizeAttributes('\n', { header: 2, bold: true })).toEqual({ header: 2 })
    expect(safeUrl('https://a.test/x?y')).toBe('https://a.test/x?y')
    expect(safeUrl('java\nscript:alert(1)')).toBeUndefined()
    expect(safeUrl('/relative')).toBeUndefined()
  })

  it('renders hostile remote text and attributes as inert text', () => {
    const doc = new Y.Doc()
    const text = doc.getText('t')
    text.insert(0, '<img src=x onerror="window.__pwned=1">', { script: 'x', style: 'color:red' })
    text.insert(text.length, 'l', { link: 'javascript:window.__pwned=1', onclick: 'x' })
    text.insert(text.length, '\n', { header: '<h1>', blockquote: 'yes' })
    const div = render(linesFromDelta(text.toDelta()).lines)
    expect(div.outerHTML).toBe('<div><p>&lt;img src=x onerror="window.__pwned=1"&gt;l</p></div>')
    expect(div.querySelectorAll('img, script, [style], [onerror], [onclick]')).toHaveLength(0)
  })

  it('is a fixed point: render(parse(render(d))) equals render(d)', () => {
    const lines = delta([
      { insert: 'Title' },
      { insert: '\n', attributes: { header: 2 } },
      { insert: 'plain ' },
      { insert: 'bold', attributes: { bold: true } },
      { insert: ' both', attributes: { bold: true, italic: true } },
      { insert: ' link', attributes: { link: 'http://a.test/', underline: true } },
      { insert: '\n' },
      { insert: 'one' },
      { insert: '\n', attributes: { list: 'ordered' } },
      { insert: 'two', attributes: { strike: true } },
      { insert: '\n', attributes: { list: 'ordered' } },
      { insert: '\n' },
      { insert: '  spaced  code', attributes: { code: true } },
      { insert: '\n', attributes: { 'code-block': true } },
      { insert: 'quoted' },
      { insert: '\n', attributes: { blockquote: true } },
    ])
    const first = html(lines)
    const again = parseDom(fromHtml(first).firstElementChild as Element, { mode: 'live' }).lines
    expect(again).toEqual(lines)
    expect(html(again)).toBe(first)
  })

  it('treats a text without a final newline as ending in an implicit line end', () => {
    const open = linesFromDelta([{ insert: 'a\nb' }])
    expect(open.openEnd).toBe(true)
    expect(open.lines).toHaveLength(2)
    const closed = linesFromDelta([{ insert: 'a\nb\n' }])
    expect(closed.openEnd).toBe(false)
    expect(closed.lines).toEqual(open.lines)
    expect(linesFromDelta([]).lines).toEqual([{ runs: [], block: {} }])
  })

  it('writes Enter at the end of an open last line as a new line, not a lost one', () => {
    const empty: Line = { runs: [], block: {} }
    /** The inserted text of a change, whatever its runs. */
    const inserts = (ops: ReturnType<typeof computeChange>) =>
      ops.map((op) =>
        op.kind === 'insert' ? [op.index, op.runs.map((run) => run.text).join('')] : op.kind,
      )
    const model = linesFromDelta([{ insert: 'one' }])
    expect(inserts(computeChange(model, [...model.lines, empty], 4))).toEqual([[3, '\n\n']])
    expect(inserts(computeChange(linesFromDelta([]), [empty, empty], 1))).toEqual([[0, '\n\n']])
    const closed = linesFromDelta([{ insert: 'one\n\n' }])
    const two: Line = { runs: [{ text: 'two', attributes: {} }], block: {} }
    expect(inserts(computeChange(closed, [closed.lines[0] as Line, two], 7))).toEqual([[4, 'two']])
  })

  it('applies remote deltas to the lines exactly as a full re-read would (seeded)', () => {
    const seed = Number(process.env['SEED'] ?? 20240611)
    let state = seed
    const random = () => (state = (state * 16807) % 2147483647) / 2147483647
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T
    const comparable = (lines: ModelLines) => JSON.stringify(lines)
    let exact = 0
    for (let round = 0; round < 60; round++) {
      const doc = new Y.Doc()
      const ytext = doc.getText('t')
      let model = readLines(ytext)
      ytext.observe((event) => {
        const next = applyDeltaToLines(model, event.delta)
        model = readLines(ytext)
        if (next === undefined) return
        exact++
        expect(comparable(next), `seed ${seed}`).toBe(comparable(model))
      })
      for (let i = 0; i < 30; i++) {
        const length = ytext.length
        const at = Math.floor(random() * (length + 1))
        const roll = random()
        if (roll < 0.5) {
          const attributes = pick([{}, { bold: true }, { header: 1 }, { list: 'bullet' }])
          ytext.insert(at, pick(['a', 'bc', '\n', 'x\ny', '\n\n']), attributes)
        } else if (roll < 0.75 && length > 0) {
          const from = Math.min(at, length - 1)
          ytext.delete(from, Math.min(1 + Math.floor(random() * 4), length - from))
        } else if (length > 0) {
          const attributes = pick([{ bold: true }, { bold: null }, { header: 2 }, { italic: true }])
          ytext.format(Math.min(at, length - 1), 1 + Math.floor(random() * 5), attributes)
        }
      }
    }
    expect(exact).toBeGreaterThan(1000)
  })
})
