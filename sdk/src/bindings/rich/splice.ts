/**
 * `Array.prototype.splice` for any number of inserted items. `target.splice(i, n, ...items)`
 * passes every item as an argument, and V8 throws "Maximum call stack size exceeded" past roughly
 * 100k of them — which a 100-page document's lines or one long line's characters reach.
 */

/** Spread below this many items (the common, fast case); rebuild the tail above it. */
const SPREAD_LIMIT = 8192

/** Replaces `removed` items at `start` with `items`, in place, like `splice` (returns nothing). */
export const spliceMany = <T>(
  target: T[],
  start: number,
  removed: number,
  items: readonly T[],
): void => {
  if (items.length <= SPREAD_LIMIT) {
    target.splice(start, removed, ...items)
    return
  }
  const tail = target.splice(start + removed)
  target.length = start
  for (const item of items) target.push(item)
  for (const item of tail) target.push(item)
}
