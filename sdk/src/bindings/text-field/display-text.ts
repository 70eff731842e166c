/**
 * What a text field can show of the shared model, and how positions map between the two.
 *
 * The model (a `Y.Text` shared with Quill and contenteditable peers) may hold things a field's
 * `value` cannot: embeds (length 1 in the model, nothing in a field), line breaks in an
 * `<input>` (browsers strip CR and LF from an input's value), and CR in a `<textarea>` (its value
 * normalises CRLF to LF and a lone CR to LF — Chromium, Firefox). Those characters stay in the
 * model untouched: the field shows the rest, and every local edit is mapped back to model
 * positions, so typing in an `<input>` never deletes a peer's line breaks (and no "strip → diff →
 * delete → re-render" loop starts).
 *
 * Pure functions, no DOM.
 */
import type * as Y from 'yjs'
import type { DeltaOp } from '../event-delta.js'

export interface DisplayText {
  /** What the field shows. */
  readonly value: string
  /** Model length (embeds count 1). */
  readonly modelLength: number
  /** `modelIndex[i]` is the model index of display character `i`; null when they coincide. */
  readonly modelIndex: readonly number[] | null
}

/** One `Y.YTextEvent.delta`, as Yjs reports it (read by `createDeltaReader`). */
export type TextDelta = readonly DeltaOp[]

/** Builds the display of a `Y.Text` for a single-line (`<input>`) or multi-line field. */
export const toDisplayText = (ytext: Y.Text, singleLine: boolean): DisplayText => {
  const ops = ytext.toDelta() as { insert: unknown }[]
  const plain = ops.every((op) => typeof op.insert === 'string')
  const text = plain ? ops.map((op) => op.insert as string).join('') : ''
  if (plain && !(singleLine ? /[\r\n]/ : /\r/).test(text)) {
    return { value: text, modelLength: text.length, modelIndex: null }
  }
  const shown: string[] = []
  const modelIndex: number[] = []
  let index = 0
  for (const op of ops) {
    if (typeof op.insert !== 'string') {
      index++ // an embed: in the model, not in the field
      continue
    }
    const chunk = op.insert
    for (let i = 0; i < chunk.length; i++, index++) {
      const char = chunk[i] as string
      if (char === '\n' && singleLine) continue
      if (char === '\r') {
        if (singleLine || chunk[i + 1] === '\n') continue
        shown.push('\n') // a lone CR reads back as LF from a textarea
      } else {
        shown.push(char)
      }
      modelIndex.push(index)
    }
  }
  return { value: shown.join(''), modelLength: index, modelIndex }
}

/**
 * The model position of display position `position`. A position between two shown characters
 * with hidden ones in between is ambiguous: `'before'` puts it right after the preceding shown
 * character (where typed text and range ends belong), `'after'` right before the following one
 * (where deleted ranges start, so deleting a shown character never takes hidden ones with it).
 */
export const displayToModel = (
  display: DisplayText,
  position: number,
  side: 'before' | 'after',
): number => {
  const map = display.modelIndex
  if (map === null) return position
  if (side === 'after') return map[position] ?? display.modelLength
  return position === 0 ? 0 : (map[position - 1] ?? display.modelLength - 1) + 1
}

/** The display position of model position `position`: the number of shown characters before it. */
export const modelToDisplay = (display: DisplayText, position: number): number => {
  const map = display.modelIndex
  if (map === null) return Math.min(position, display.value.length)
  let low = 0
  let high = map.length
  while (low < high) {
    const mid = (low + high) >>> 1
    if ((map[mid] as number) < position) low = mid + 1
    else high = mid
  }
  return low
}

/**
 * Moves model position `position` through a remote change. An insert strictly before it shifts
 * it; an insert at it does not (the caret stays before text a peer types at the same spot); a
 * delete around it pulls it to the delete's start.
 */
export const transformPosition = (delta: TextDelta, position: number): number => {
  let old = 0 // position in the text before the change
  let moved = position
  for (const op of delta) {
    if (old > position) break
    if (op.retain !== undefined) {
      old += op.retain
    } else if (op.insert !== undefined) {
      if (old < position) moved += typeof op.insert === 'string' ? op.insert.length : 1
    } else if (op.delete !== undefined) {
      if (old < position) moved -= Math.min(op.delete, position - old)
      old += op.delete
    }
  }
  return moved
}
