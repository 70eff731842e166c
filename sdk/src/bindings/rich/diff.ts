/**
 * The minimal model change that turns the model's lines into the lines read from the DOM:
 * unchanged lines are skipped by key, the changed middle becomes at most one delete and one
 * insert (diffText, so concurrent edits elsewhere are never touched: R2, R3), plus `format`
 * calls for retained characters whose formats changed. Operations are expressed in the model's
 * coordinates before the change; {@link applyChange} maps them across any remote changes that
 * arrived meanwhile (IME composition) and applies them.
 */
import type * as Y from 'yjs'
import { diffText } from '../text-diff.js'
import { lineKey, type Line, type ModelLines } from './lines.js'
import { transformThrough, type DeltaChange } from './positions.js'

type Attributes = Readonly<Record<string, unknown>>

export type LocalOp =
  | {
      readonly kind: 'format'
      readonly index: number
      readonly length: number
      readonly attributes: Attributes
    }
  | { readonly kind: 'delete'; readonly index: number; readonly length: number }
  | {
      readonly kind: 'insert'
      readonly index: number
      readonly runs: readonly { readonly text: string; readonly attributes: Attributes }[]
    }

interface Flat {
  text: string
  attributes: Attributes[]
}

const flatten = (lines: readonly Line[], lastHasNewline: boolean): Flat => {
  let text = ''
  const attributes: Attributes[] = []
  lines.forEach((line, i) => {
    for (const run of line.runs) {
      text += run.text
      for (let k = 0; k < run.text.length; k++) attributes.push(run.attributes as Attributes)
    }
    if (i < lines.length - 1 || lastHasNewline) {
      text += '\n'
      attributes.push(line.block as Attributes)
    }
  })
  return { text, attributes }
}

/** `format` attributes that turn `from` into `to`: changed keys, and null for removed ones. */
const formatChange = (from: Attributes, to: Attributes): Record<string, unknown> | undefined => {
  const change: Record<string, unknown> = {}
  let changed = false
  for (const key of Object.keys(from)) {
    if (!(key in to)) {
      change[key] = null
      changed = true
    }
  }
  for (const [key, value] of Object.entries(to)) {
    if (from[key] !== value) {
      change[key] = value
      changed = true
    }
  }
  return changed ? change : undefined
}

const lengthOf = (lines: readonly Line[]) =>
  lines.reduce((sum, line) => sum + line.runs.reduce((n, run) => n + run.text.length, 0) + 1, 0)

/**
 * The operations that turn `model` into `next`. `cursor` is the caret in `next` after the edit
 * (disambiguates typing into repeated characters).
 */
export const computeChange = (
  model: ModelLines,
  next: readonly Line[],
  cursor?: number,
): LocalOp[] => {
  const old = model.lines
  const min = Math.min(old.length, next.length)
  let prefix = 0
  const same = (a: Line | undefined, b: Line | undefined) =>
    a !== undefined && b !== undefined && lineKey(a) === lineKey(b)
  while (prefix < min && same(old[prefix], next[prefix])) prefix++
  if (prefix === old.length && prefix === next.length) return []
  // An open last line that gains lines after it (Enter at the end) gains its '\n': it must be
  // part of the changed middle, or the new line would be appended without one.
  if (model.openEnd && prefix === old.length) prefix--
  let suffix = 0
  while (
    suffix < min - prefix &&
    same(old[old.length - 1 - suffix], next[next.length - 1 - suffix])
  ) {
    suffix++
  }
  // An open empty last line (the empty text) cannot stay open behind new lines: "\n" is one line.
  if (model.openEnd && suffix > 0 && old[old.length - 1]?.runs.length === 0) suffix--
  const oldMiddle = old.slice(prefix, old.length - suffix)
  const newMiddle = next.slice(prefix, next.length - suffix)
  // The model's last line may end without '\n': keep it that way unless it gains a block format
  // or is a new empty line (Enter at the end). "a\n" reads as the one line "a" (as Quill loads
  // it), so an empty last line after other lines exists only as "a\n\n".
  const touchesEnd = suffix === 0
  const oldFlat = flatten(oldMiddle, !(touchesEnd && model.openEnd))
  const lastNew = newMiddle[newMiddle.length - 1]
  const staysOpen =
    lastNew === undefined ||
    (Object.keys(lastNew.block).length === 0 && (lastNew.runs.length > 0 || next.length === 1))
  const closes = touchesEnd && model.openEnd && !staysOpen
  const newFlat = flatten(newMiddle, !(touchesEnd && model.openEnd && staysOpen))
  const start = lengthOf(old.slice(0, prefix))
  const ops: LocalOp[] = []
  // A '\n' that closes the last line is written after the caret, yet belongs to the edit.
  const change = diffText(
    oldFlat.text,
    newFlat.text,
    cursor === undefined ? undefined : cursor - start + (closes ? 1 : 0),
  )
  const index = change?.index ?? 0
  const deleted = change?.deleteCount ?? 0
  const inserted = change?.insert.length ?? 0
  if (deleted > 0) ops.push({ kind: 'delete', index: start + index, length: deleted })
  if (inserted > 0) {
    const runs: { text: string; attributes: Attributes }[] = []
    for (let j = index; j < index + inserted; j++) {
      const attributes = newFlat.attributes[j] ?? {}
      const last = runs[runs.length - 1]
      if (last !== undefined && last.attributes === attributes) last.text += newFlat.text[j]
      else runs.push({ text: newFlat.text[j] ?? '', attributes })
    }
    ops.push({
      kind: 'insert',
      index: start + index,
      runs: runs.map((run) => ({ text: run.text, attributes: { ...run.attributes } })),
    })
  }
  // Retained characters whose formats changed, in runs of equal changes.
  let run: { index: number; length: number; key: string; attributes: Attributes } | undefined
  const flush = () => {
    if (run !== undefined) ops.push({ kind: 'format', ...run })
    run = undefined
  }
  for (let j = 0; j < newFlat.text.length; j++) {
    if (j >= index && j < index + inserted) {
      flush()
      continue
    }
    const oldIndex = j < index ? j : j - inserted + deleted
    const attributes = formatChange(oldFlat.attributes[oldIndex] ?? {}, newFlat.attributes[j] ?? {})
    if (attributes === undefined) {
      flush()
      continue
    }
    const key = JSON.stringify(attributes)
    if (run !== undefined && run.key === key && run.index + run.length === start + oldIndex) {
      run.length++
    } else {
      flush()
      run = { index: start + oldIndex, length: 1, key, attributes }
    }
  }
  flush()
  return ops.map((op) =>
    op.kind === 'format'
      ? { kind: 'format', index: op.index, length: op.length, attributes: op.attributes }
      : op,
  )
}

const RANK = { format: 0, delete: 1, insert: 2 } as const

/**
 * Applies `ops` (model coordinates before `queued`, the remote deltas applied since) to `ytext`.
 * Call inside a transaction. Ranges never overlap, so applying from the highest index down
 * keeps every lower index valid.
 */
export const applyChange = (
  ytext: Y.Text,
  ops: readonly LocalOp[],
  queued: readonly (readonly DeltaChange[])[] = [],
): void => {
  const mapped = ops.map((op) => {
    const index = transformThrough(queued, op.index)
    if (op.kind === 'insert') return { ...op, index }
    const end = transformThrough(queued, op.index + op.length, false)
    return { ...op, index, length: Math.max(0, end - index) }
  })
  mapped.sort((a, b) => b.index - a.index || RANK[a.kind] - RANK[b.kind])
  for (const op of mapped) {
    if (op.kind === 'delete') ytext.delete(op.index, op.length)
    else if (op.kind === 'format') ytext.format(op.index, op.length, { ...op.attributes })
    else {
      let at = op.index
      for (const run of op.runs) {
        ytext.insert(at, run.text, { ...run.attributes })
        at += run.text.length
      }
    }
  }
}
