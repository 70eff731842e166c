/**
 * The smallest single-range change that turns `before` into `after`: a common prefix and suffix
 * are kept, the middle is replaced. Editor bindings turn it into at most one Y.Text delete and one
 * insert, so concurrent edits elsewhere in the text are never touched (requirements R2).
 *
 * `cursor` (the caret after the edit, if known) disambiguates repeated characters: typing "a"
 * into "aa" at the end should insert at 2, not at 0.
 */
export interface TextChange {
  readonly index: number
  readonly deleteCount: number
  readonly insert: string
}

const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff

export const diffText = (
  before: string,
  after: string,
  cursor?: number,
): TextChange | undefined => {
  if (before === after) return undefined
  const maxPrefix = Math.min(before.length, after.length)
  let prefix = 0
  while (prefix < maxPrefix && before.charCodeAt(prefix) === after.charCodeAt(prefix)) prefix++
  if (cursor !== undefined) {
    // The edit ended at the caret: the changed region cannot start after it.
    const insertedAtMost = Math.max(0, after.length - before.length)
    prefix = Math.min(prefix, Math.max(0, cursor - insertedAtMost))
  }
  let suffix = 0
  const maxSuffix = Math.min(before.length, after.length) - prefix
  while (
    suffix < maxSuffix &&
    before.charCodeAt(before.length - 1 - suffix) === after.charCodeAt(after.length - 1 - suffix)
  ) {
    suffix++
  }
  // Never split a surrogate pair (an emoji): widen the change by one unit instead.
  if (prefix > 0 && isLowSurrogate(after.charCodeAt(prefix))) prefix--
  if (suffix > 0 && isLowSurrogate(after.charCodeAt(after.length - suffix))) suffix--
  return {
    index: prefix,
    deleteCount: before.length - prefix - suffix,
    insert: after.slice(prefix, after.length - suffix),
  }
}
