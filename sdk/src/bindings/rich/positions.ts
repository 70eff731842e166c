/**
 * Model indexes across changes. A Yjs event delta (`retain`/`insert`/`delete`) maps an index in
 * the text before a transaction to the text after it, with the same outcome as a relative
 * position taken just before the transaction (`assoc >= 0`: text inserted exactly at the index
 * goes before it). The binding uses this to keep the local caret attached to its characters while
 * remote edits land, and to carry a local change made during IME composition across the remote
 * changes that were queued meanwhile.
 */
export type DeltaChange = { retain?: number; insert?: unknown; delete?: number }

const insertLength = (insert: unknown): number => (typeof insert === 'string' ? insert.length : 1)

/**
 * The index `index` moves to after `delta`. `stickRight` decides for text inserted exactly at
 * the index: true moves past it (the caret, the start of a range), false stays before it (the end
 * of a range, so a range never swallows text inserted at its edge).
 */
export const transformIndex = (
  delta: readonly DeltaChange[],
  index: number,
  stickRight = true,
): number => {
  let old = 0
  let result = index
  for (const op of delta) {
    if (old > index) break
    if (op.retain !== undefined) old += op.retain
    else if (op.delete !== undefined) {
      if (old < index) result -= Math.min(op.delete, index - old)
      old += op.delete
    } else if (op.insert !== undefined) {
      if (old < index || (old === index && stickRight)) result += insertLength(op.insert)
    }
  }
  return result
}

/** Maps `index` across several deltas, oldest first. */
export const transformThrough = (
  deltas: readonly (readonly DeltaChange[])[],
  index: number,
  stickRight = true,
): number => deltas.reduce((at, delta) => transformIndex(delta, at, stickRight), index)
