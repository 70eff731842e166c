/**
 * Applies a Y.Text event delta to the line model without reading the whole text again: only the
 * lines the delta touches are rebuilt, every other `Line` object is kept (so its cached key, and
 * the DOM block rendered from it, stay valid). This is what keeps a remote keystroke in a long
 * document cheap (issue 4: < 1 ms per keystroke in a 100-page document).
 *
 * Event deltas carry the full attributes of inserted text but only the changed keys of a format
 * (`retain` with attributes, `null` for a removal); the model keeps sanitised attributes only.
 * Merging a change into sanitised inline formats is exact; for block formats it is not when a
 * writer stacked several block keys on one '\n' and one is removed (the model no longer knows the
 * others), so such changes return undefined and the caller re-reads the text.
 */
import type { LineIndex } from './line-index.js'
import { EMBED_CHAR, pushRun, type Line, type ModelLines, type Run } from './lines.js'
import {
  sanitizeBlock,
  sanitizeInline,
  type Allowed,
  type BlockAttributes,
  type InlineAttributes,
} from './schema.js'
import type { DeltaChange } from './positions.js'
import { spliceMany } from './splice.js'

type Attributes = Readonly<Record<string, unknown>>
type Change = DeltaChange & { attributes?: unknown }

/** One character of the rebuilt segment: text with inline formats, or a '\n' with its block. */
interface Char {
  readonly char: string
  readonly attributes: InlineAttributes | BlockAttributes
}

const BLOCK_KEYS = new Set(['header', 'list', 'blockquote', 'code-block'])

const merge = (base: object, change: Attributes): Record<string, unknown> =>
  Object.fromEntries(Object.entries({ ...base, ...change }).filter(([, value]) => value !== null))

const isRecord = (value: unknown): value is Attributes =>
  typeof value === 'object' && value !== null

const codeOf = (item: Char | undefined) => item?.char.charCodeAt(0) ?? 0
const isHigh = (item: Char | undefined) => codeOf(item) >= 0xd800 && codeOf(item) <= 0xdbff
const isLow = (item: Char | undefined) => codeOf(item) >= 0xdc00 && codeOf(item) <= 0xdfff

/** What {@link applyDeltaToLinesAt} did: lines `first`..`first + removed` became `inserted`. */
export interface LineSplice {
  readonly model: ModelLines
  readonly first: number
  readonly removed: number
  readonly inserted: readonly Line[]
}

/** The model after `delta`, or undefined when the change cannot be applied exactly. */
export const applyDeltaToLines = (
  model: ModelLines,
  delta: readonly Change[],
  allowed?: Allowed,
): ModelLines | undefined => applyDeltaToLinesAt(model, delta, allowed)?.model

/**
 * {@link applyDeltaToLines}, also saying which lines changed. With `index` (the line starts of
 * `model`) the affected lines are found in O(log n) instead of by summing line lengths.
 */
export const applyDeltaToLinesAt = (
  model: ModelLines,
  delta: readonly Change[],
  allowed?: Allowed,
  index?: LineIndex,
): LineSplice | undefined => {
  // The changed range of the old text: [start, end), insertions at `end` included.
  let start = -1
  let end = 0
  let at = 0
  for (const op of delta) {
    if (op.retain !== undefined) {
      if (op.attributes !== undefined) {
        if (start < 0) start = at
        end = at + op.retain
      }
      at += op.retain
    } else if (op.delete !== undefined) {
      if (start < 0) start = at
      at += op.delete
      end = at
    } else if (op.insert !== undefined) {
      if (start < 0) start = at
      end = at
    }
  }
  if (start < 0) return { model, first: 0, removed: 0, inserted: [] }

  // The lines that hold [start, end]: line i spans its text and its '\n'.
  const lines = model.lines
  let first = -1
  let last = -1
  let firstStart = 0
  let offset = 0
  if (index !== undefined && index.count === lines.length) {
    first = index.find(start) ?? -1
    last = index.find(end) ?? -1
    firstStart = first < 0 ? 0 : index.start(first)
  }
  for (let i = 0; i < lines.length && (first < 0 || last < 0); i++) {
    const line = lines[i] as Line
    let length = 0
    for (const run of line.runs) length += run.text.length
    if (first < 0 && start <= offset + length) {
      first = i
      firstStart = offset
    }
    if (end <= offset + length) {
      last = i
      break
    }
    offset += length + 1
  }
  if (first < 0 || last < 0) return undefined
  const reachesEnd = last === lines.length - 1

  // The old segment as characters.
  const chars: Char[] = []
  for (let i = first; i <= last; i++) {
    const line = lines[i] as Line
    // UTF-16 code units, as Yjs counts: a surrogate pair is two entries, rejoined below.
    for (const run of line.runs) {
      for (let k = 0; k < run.text.length; k++) {
        chars.push({ char: run.text.charAt(k), attributes: run.attributes })
      }
    }
    if (!(reachesEnd && i === last && model.openEnd))
      chars.push({ char: '\n', attributes: line.block })
  }

  // Apply the delta inside the segment (positions relative to its start).
  let position = -firstStart
  // An edit boundary inside a surrogate pair makes Yjs break the pair into U+FFFDs. Edits next to
  // one are re-read rather than guessed (emoji are rare enough for that to cost nothing).
  const splitsPair = (k: number) =>
    isHigh(chars[k - 1]) || isLow(chars[k - 1]) || isHigh(chars[k]) || isLow(chars[k])
  for (const op of delta) {
    if (position >= 0 && splitsPair(position)) return undefined
    if (op.retain !== undefined) {
      if (op.attributes !== undefined && isRecord(op.attributes)) {
        if (splitsPair(position + op.retain)) return undefined
        const change = op.attributes
        for (let k = Math.max(0, position); k < position + op.retain; k++) {
          const item = chars[k]
          // An embed keeps no formats, a typed U+FFFC does: the model cannot tell them apart.
          if (item === undefined || item.char === EMBED_CHAR) return undefined
          if (item.char === '\n') {
            const removesBlock = Object.entries(change).some(
              ([key, value]) => value === null && BLOCK_KEYS.has(key),
            )
            if (removesBlock) return undefined
            chars[k] = {
              char: '\n',
              attributes: sanitizeBlock(merge(item.attributes, change), allowed),
            }
          } else {
            chars[k] = {
              char: item.char,
              attributes: sanitizeInline(merge(item.attributes, change), allowed),
            }
          }
        }
      }
      position += op.retain
    } else if (op.delete !== undefined) {
      if (position < 0 || position + op.delete > chars.length) return undefined
      if (splitsPair(position + op.delete)) return undefined
      chars.splice(position, op.delete)
    } else if (op.insert !== undefined) {
      if (position < 0 || position > chars.length) return undefined
      const inserted: Char[] = []
      if (typeof op.insert === 'string') {
        const inline = sanitizeInline(op.attributes, allowed)
        let block: BlockAttributes | undefined
        for (let k = 0; k < op.insert.length; k++) {
          const char = op.insert.charAt(k)
          if (char === '\n') {
            block ??= sanitizeBlock(op.attributes, allowed)
            inserted.push({ char, attributes: block })
          } else inserted.push({ char, attributes: inline })
        }
      } else {
        inserted.push({ char: EMBED_CHAR, attributes: {} })
      }
      spliceMany(chars, position, 0, inserted)
      position += inserted.length
    }
  }

  // Yjs replaces a surrogate half left alone by an edit with U+FFFD: re-read the text then.
  for (let k = 0; k < chars.length; k++) {
    if (isHigh(chars[k]) && !isLow(chars[k + 1])) return undefined
    if (isLow(chars[k]) && !isHigh(chars[k - 1])) return undefined
  }

  // The segment back into lines.
  const rebuilt: Line[] = []
  let runs: Run[] = []
  let text = ''
  let attributes: InlineAttributes | undefined
  const flush = () => {
    if (attributes !== undefined) pushRun(runs, text, attributes)
    text = ''
    attributes = undefined
  }
  for (const item of chars) {
    if (item.char === '\n') {
      flush()
      rebuilt.push({ runs, block: item.attributes as BlockAttributes })
      runs = []
    } else if (attributes === item.attributes) {
      text += item.char
    } else {
      flush()
      attributes = item.attributes as InlineAttributes
      text = item.char
    }
  }
  flush()
  const endsOpen = chars.length > 0 ? chars[chars.length - 1]?.char !== '\n' : first === 0
  if (!reachesEnd && (endsOpen || runs.length > 0)) return undefined
  let openEnd = false
  if (reachesEnd && (runs.length > 0 || (endsOpen && rebuilt.length === 0 && first === 0))) {
    rebuilt.push({ runs, block: {} })
    openEnd = true
  }
  return {
    model: {
      lines: [...lines.slice(0, first), ...rebuilt, ...lines.slice(last + 1)],
      openEnd: reachesEnd ? openEnd : model.openEnd,
    },
    first,
    removed: last - first + 1,
    inserted: rebuilt,
  }
}
