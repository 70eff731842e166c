/**
 * The allowlist schema of the contenteditable binding (requirements R8, R31). The shared model is
 * a `Y.Text` with Quill-Delta semantics: inline formats are attributes on characters, block
 * formats are attributes on the '\n' that ends a line. Everything here is pure data: anything a
 * peer, the page or the clipboard supplies passes through these functions before it reaches the
 * DOM, and whatever they do not recognise is dropped (its text survives as plain text).
 */

/** Inline formats, as Quill names them. */
export interface InlineAttributes {
  bold?: true
  italic?: true
  underline?: true
  strike?: true
  code?: true
  /** An http, https or mailto URL (see {@link safeUrl}). */
  link?: string
}

/** Block formats on a line's '\n'. At most one is set (Quill's block blots are exclusive). */
export interface BlockAttributes {
  header?: 1 | 2 | 3
  list?: 'bullet' | 'ordered'
  blockquote?: true
  'code-block'?: true
}

export type InlineFormat = keyof InlineAttributes
export type BlockFormat = keyof BlockAttributes
export type Format = InlineFormat | BlockFormat

export const INLINE_FORMATS: readonly InlineFormat[] = [
  'link',
  'bold',
  'italic',
  'underline',
  'strike',
  'code',
]
export const BLOCK_FORMATS: readonly BlockFormat[] = ['header', 'list', 'blockquote', 'code-block']

/** Toggle formats (value `true`), in rendering order from outermost to innermost. */
export const MARKS = ['bold', 'italic', 'underline', 'strike', 'code'] as const

const SAFE_PROTOCOLS = new Set(['http:', 'https:', 'mailto:'])

/**
 * Returns `url` if it is an absolute http, https or mailto URL, else undefined. `javascript:`,
 * `data:`, relative and unparsable URLs are all refused: the URL parser decides (it strips the
 * tabs, newlines and case tricks that a regular expression would miss).
 */
export const safeUrl = (url: unknown): string | undefined => {
  if (typeof url !== 'string' || url.length > 2048) return undefined
  let parsed: URL
  try {
    parsed = new URL(url.trim())
  } catch {
    // Not an absolute URL: not a link we render.
    return undefined
  }
  return SAFE_PROTOCOLS.has(parsed.protocol) ? parsed.href : undefined
}

/** The formats a binding renders and reads; all of them unless `formats` narrows it. */
export type Allowed = ReadonlySet<Format>
export const ALL_FORMATS: Allowed = new Set<Format>([...INLINE_FORMATS, ...BLOCK_FORMATS])

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null

/** Keeps the allowlisted inline formats of untrusted `attributes` with valid values. */
export const sanitizeInline = (attributes: unknown, allowed: Allowed = ALL_FORMATS) => {
  const clean: InlineAttributes = {}
  if (!isRecord(attributes)) return clean
  for (const mark of MARKS) {
    if (attributes[mark] === true && allowed.has(mark)) clean[mark] = true
  }
  const link = allowed.has('link') ? safeUrl(attributes['link']) : undefined
  if (link !== undefined) clean.link = link
  return clean
}

/**
 * Keeps the one allowlisted block format of untrusted `attributes`. Quill 2 with the syntax
 * module stores a language (`'plain'`) as `code-block`: any string counts as a code block.
 */
export const sanitizeBlock = (attributes: unknown, allowed: Allowed = ALL_FORMATS) => {
  const clean: BlockAttributes = {}
  if (!isRecord(attributes)) return clean
  const { header, list, blockquote } = attributes
  const code = attributes['code-block']
  if (allowed.has('list') && (list === 'bullet' || list === 'ordered')) clean.list = list
  else if (allowed.has('header') && (header === 1 || header === 2 || header === 3)) {
    clean.header = header
  } else if (allowed.has('code-block') && (code === true || typeof code === 'string')) {
    clean['code-block'] = true
  } else if (allowed.has('blockquote') && blockquote === true) clean.blockquote = true
  return clean
}

/**
 * The allowlisted attributes of one untrusted delta insert: block formats for a '\n', inline
 * formats otherwise.
 */
export const sanitizeAttributes = (
  insert: string,
  attributes: unknown,
  allowed: Allowed = ALL_FORMATS,
): InlineAttributes | BlockAttributes =>
  insert === '\n' ? sanitizeBlock(attributes, allowed) : sanitizeInline(attributes, allowed)

/** Whether two attribute objects hold the same keys and values (values are primitives). */
export const sameAttributes = (a: object, b: object): boolean => {
  const ra = a as Record<string, unknown>
  const rb = b as Record<string, unknown>
  const ka = Object.keys(ra)
  if (ka.length !== Object.keys(rb).length) return false
  return ka.every((key) => ra[key] === rb[key])
}
