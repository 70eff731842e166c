/**
 * The line view of the model that rendering, parsing and diffing share: a document is a list of
 * lines, each a list of inline runs plus the block attributes of the '\n' that ends it. Built
 * from a Y.Text delta through the schema, so it holds only allowlisted formats; equal lines have
 * equal keys, which is how unchanged blocks are recognised cheaply.
 */
import type * as Y from 'yjs'
import {
  sameAttributes,
  sanitizeBlock,
  sanitizeInline,
  type Allowed,
  type BlockAttributes,
  type InlineAttributes,
} from './schema.js'

export interface Run {
  readonly text: string
  readonly attributes: InlineAttributes
}

export interface Line {
  readonly runs: readonly Run[]
  readonly block: BlockAttributes
}

/** Embeds (Quill images, formulas) stand for one character the binding shows but never edits. */
export const EMBED_CHAR = '\uFFFC'

/** Appends `text` to `runs`, merging it into the last run when the formats are equal. */
export const pushRun = (runs: Run[], text: string, attributes: InlineAttributes): void => {
  if (text.length === 0) return
  const last = runs[runs.length - 1]
  if (last !== undefined && sameAttributes(last.attributes, attributes)) {
    runs[runs.length - 1] = { text: last.text + text, attributes }
  } else {
    runs.push({ text, attributes })
  }
}

export const lineText = (line: Line): string => line.runs.map((run) => run.text).join('')

/** The length of a line's text, without its '\n'. */
export const lineLength = (line: Line): number => {
  let length = 0
  for (const run of line.runs) length += run.text.length
  return length
}

const keys = new WeakMap<Line, string>()
/** A string that is equal for two lines exactly when they render the same. */
export const lineKey = (line: Line): string => {
  let key = keys.get(line)
  if (key === undefined) {
    key = JSON.stringify([line.block, line.runs])
    keys.set(line, key)
  }
  return key
}

export interface ModelLines {
  readonly lines: readonly Line[]
  /**
   * True when the text does not end with '\n': its last line ends implicitly (Quill always keeps
   * a final '\n'; other writers may not, and the binding never adds one just to normalise).
   */
  readonly openEnd: boolean
}

type DeltaOp = { insert?: unknown; attributes?: unknown }

/** The lines of a delta (`ytext.toDelta()`), sanitised. There is always at least one line. */
export const linesFromDelta = (delta: readonly DeltaOp[], allowed?: Allowed): ModelLines => {
  const lines: Line[] = []
  let runs: Run[] = []
  let openEnd = true
  for (const op of delta) {
    if (typeof op.insert !== 'string') {
      pushRun(runs, EMBED_CHAR, {})
      openEnd = true
      continue
    }
    const parts = op.insert.split('\n')
    const attributes = sanitizeInline(op.attributes, allowed)
    for (let i = 0; i < parts.length; i++) {
      if (i > 0) {
        lines.push({ runs, block: sanitizeBlock(op.attributes, allowed) })
        runs = []
      }
      pushRun(runs, parts[i] ?? '', attributes)
    }
    if (op.insert.length > 0) openEnd = !op.insert.endsWith('\n')
  }
  if (openEnd || lines.length === 0) {
    lines.push({ runs, block: {} })
    openEnd = true
  }
  return { lines, openEnd }
}

/** The model lines of `ytext`. */
export const readLines = (ytext: Y.Text, allowed?: Allowed): ModelLines =>
  linesFromDelta(ytext.toDelta() as DeltaOp[], allowed)

/** Lines as delta inserts (each line ends with '\n'), for seeding and pasting. */
export const linesToDelta = (lines: readonly Line[]) =>
  lines.flatMap((line) => [
    ...line.runs.map((run) => ({ insert: run.text, attributes: { ...run.attributes } })),
    { insert: '\n', attributes: { ...line.block } },
  ])
