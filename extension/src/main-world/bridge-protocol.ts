/**
 * The wire format between the content script (isolated world) and the Quill bridge (the page's
 * main world), shared by both sides. It is the one boundary where either side reads what the
 * other sent, so every reader here validates shape, types and sizes and returns `undefined` for
 * anything else — never throws, never casts.
 *
 * Channel: CustomEvents dispatched on the Quill element itself, not `window.postMessage` (which
 * every script and every frame's `message` listener sees). The page can still observe and forge
 * these events — both worlds share the DOM — so they carry only what the page already has: this
 * field's content (Quill deltas) and cursor positions (indexes, viewport rectangles). Never keys,
 * tokens, peer names, other fields. A forged event can only do what the page can do anyway: edit
 * its own editor.
 *
 * `detail` is always a JSON **string**: an object created in one world is not readable in the
 * other (Firefox: Xray wrappers deny the page access to content-script objects without
 * `cloneInto`; Chrome gives each world its own wrappers), while primitives cross unchanged.
 *
 * The nonce (random, chosen by the content script per binding) keeps bindings apart: a stale
 * binding from before an extension reload, or a second binding on the same element, never acts
 * on the other's traffic. It is not a secret — the page sees it.
 *
 * This module is bundled into both worlds: no imports, no DOM access at load.
 */

/** Bump on incompatible changes; sent with `attach` and `ready`. */
export const BRIDGE_VERSION = 1

/** content → page, on the Quill element, `composed` so it reaches `document` from a shadow root. */
export const ATTACH_EVENT = 'coedit-quill:attach'
/** page → content, on `document`, when a bridge is installed (answers an `attach` sent too early). */
export const READY_EVENT = 'coedit-quill:ready'
/** content → page, on the Quill element. */
export const TO_PAGE_EVENT = 'coedit-quill:to-page'
/** page → content, on the Quill element. */
export const TO_CONTENT_EVENT = 'coedit-quill:to-content'

/** Largest `detail` either side sends or reads, in UTF-16 units (a whole document fits). */
export const MAX_DETAIL_CHARS = 8_000_000
/** Most ops in one delta. */
export const MAX_OPS = 200_000
/** Most remote cursors measured in one `bounds-request`. */
export const MAX_CURSORS = 32
/** Most selection rectangles (lines) per cursor. */
export const MAX_RECTS = 64
/** Deepest nesting accepted in an attribute or embed value. */
const MAX_DEPTH = 6
/** Largest index either side names (Quill documents are far smaller). */
const MAX_INDEX = 2 ** 30
/** Largest absolute coordinate in a rectangle, in CSS pixels. */
const MAX_COORDINATE = 10_000_000

/** JSON as `JSON.parse` returns it. */
export type JsonValue =
  null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue }

/** Quill formats of an op; `null` removes a format (retains only). */
export type Attributes = Readonly<Record<string, JsonValue>>

/** An embed (`{ image: url }`): exactly one key, the blot's name. */
export type Embed = Readonly<Record<string, JsonValue>>

/** One Quill-Delta op. Object retains (embed updates) are not part of the protocol. */
export type DeltaOp =
  | { readonly insert: string | Embed; readonly attributes?: Attributes }
  | { readonly retain: number; readonly attributes?: Attributes }
  | { readonly delete: number }

export type Delta = readonly DeltaOp[]

/** A Quill selection: `index` and `length` in Quill's document. */
export interface SelectionRange {
  readonly index: number
  readonly length: number
}

/** A rectangle in viewport coordinates (CSS pixels). */
export interface Rect {
  readonly left: number
  readonly top: number
  readonly width: number
  readonly height: number
}

/** A remote cursor to measure: Quill indexes (head = caret). */
export interface CursorRequest {
  readonly anchor: number
  readonly head: number
}

/** Where one requested cursor is drawn; `caret` is null when it is scrolled out of view. */
export interface CursorBounds {
  readonly caret: Rect | null
  readonly selection: readonly Rect[]
}

/** Why the bridge could not attach. */
export type AttachFailure = 'no-quill' | 'too-large' | 'failed'

/** Content script → bridge. */
export type ToPage =
  /** A change of the shared text, to apply with source `'api'` (so it is not sent back). */
  | { readonly type: 'apply'; readonly delta: Delta }
  /** Replace the editor's content with the shared text (joining, or healing a desync). */
  | { readonly type: 'set'; readonly delta: Delta }
  | {
      readonly type: 'bounds-request'
      readonly id: number
      readonly cursors: readonly CursorRequest[]
    }
  /** Stop forwarding and remove every listener. */
  | { readonly type: 'detach' }

/** Bridge → content script. */
export type ToContent =
  /** Answer to `attach`: the editor's content at that moment (a document: inserts only). */
  | { readonly type: 'attached'; readonly delta: Delta }
  | { readonly type: 'error'; readonly reason: AttachFailure }
  /** A change of the editor's content not made by the bridge (the user, or the page's code). */
  | { readonly type: 'delta'; readonly delta: Delta }
  | { readonly type: 'selection'; readonly range: SelectionRange | null }
  | { readonly type: 'bounds'; readonly id: number; readonly cursors: readonly CursorBounds[] }
  /** The editor may no longer match what the content side knows: send `set`. */
  | { readonly type: 'desync'; readonly reason: string }
  /** Another binding attached to the same element; this one is dead. */
  | { readonly type: 'detached'; readonly reason: 'replaced' }

/** What `readEnvelope` found in a `detail`. */
export interface Envelope {
  readonly nonce: string
  /** The parsed object, to be read by `readToPage` / `readToContent`. */
  readonly data: Readonly<Record<string, unknown>>
}

const NONCE = /^[A-Za-z0-9_-]{16,64}$/
const ATTRIBUTE_KEY = /^[A-Za-z][A-Za-z0-9_:-]{0,63}$/
const ATTACH_FAILURES = new Set<string>(['no-quill', 'too-large', 'failed'])

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_INDEX

const isPositiveCount = (value: unknown): value is number => isCount(value) && value > 0

/** A format or embed name Quill could register (and never `__proto__`). */
export const isAttributeKey = (key: string): boolean => ATTRIBUTE_KEY.test(key)

/** JSON data of bounded depth, without keys that would reach an object's prototype. */
export const isJsonValue = (value: unknown, depth = 0): value is JsonValue => {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return true
  if (typeof value === 'number') return Number.isFinite(value)
  if (depth >= MAX_DEPTH || typeof value !== 'object') return false
  if (Array.isArray(value)) return value.every((item) => isJsonValue(item, depth + 1))
  if (Object.getPrototypeOf(value) !== Object.prototype) return false
  return Object.entries(value).every(
    ([key, item]) => key !== '__proto__' && isJsonValue(item, depth + 1),
  )
}

/** Quill attributes: format names to JSON values. */
export const isAttributes = (value: unknown): value is Attributes =>
  isRecord(value) &&
  Object.entries(value).every(([key, item]) => isAttributeKey(key) && isJsonValue(item, 1))

/** An embed: one blot name to its JSON value. */
export const isEmbed = (value: unknown): value is Embed => {
  if (!isRecord(value)) return false
  const entries = Object.entries(value)
  return (
    entries.length === 1 &&
    entries.every(([key, item]) => isAttributeKey(key) && isJsonValue(item, 1))
  )
}

const readOp = (value: unknown): DeltaOp | undefined => {
  if (!isRecord(value)) return undefined
  const { insert, retain, attributes } = value
  const keys = Object.keys(value).length
  if (attributes !== undefined && !isAttributes(attributes)) return undefined
  const withAttributes: { attributes?: Attributes } = attributes === undefined ? {} : { attributes }
  if (insert !== undefined) {
    if (keys !== 1 + (attributes === undefined ? 0 : 1)) return undefined
    if (typeof insert === 'string')
      return insert.length > 0 ? { insert, ...withAttributes } : undefined
    return isEmbed(insert) ? { insert, ...withAttributes } : undefined
  }
  if (retain !== undefined) {
    if (keys !== 1 + (attributes === undefined ? 0 : 1)) return undefined
    return isPositiveCount(retain) ? { retain, ...withAttributes } : undefined
  }
  if (keys === 1 && isPositiveCount(value['delete'])) return { delete: value['delete'] }
  return undefined
}

/** A delta, or `undefined` unless every op is well formed. */
export const readDelta = (value: unknown): Delta | undefined => {
  if (!Array.isArray(value) || value.length > MAX_OPS) return undefined
  const ops: DeltaOp[] = []
  for (const item of value) {
    const op = readOp(item)
    if (op === undefined) return undefined
    ops.push(op)
  }
  return ops
}

/** A document delta (what `attached` and `set` carry): inserts only. */
export const readDocument = (value: unknown): Delta | undefined => {
  const delta = readDelta(value)
  return delta?.every((op) => 'insert' in op) === true ? delta : undefined
}

const readRect = (value: unknown): Rect | undefined => {
  if (!isRecord(value)) return undefined
  const { left, top, width, height } = value
  const coordinates = [left, top, width, height]
  if (!coordinates.every((n) => typeof n === 'number' && Math.abs(n) <= MAX_COORDINATE)) {
    return undefined
  }
  if ((width as number) < 0 || (height as number) < 0) return undefined
  return { left, top, width, height } as Rect
}

const readCursorBounds = (value: unknown): CursorBounds | undefined => {
  if (!isRecord(value) || !Array.isArray(value['selection'])) return undefined
  const caret = value['caret'] === null ? null : readRect(value['caret'])
  if (caret === undefined || value['selection'].length > MAX_RECTS) return undefined
  const selection: Rect[] = []
  for (const item of value['selection']) {
    const rect = readRect(item)
    if (rect === undefined) return undefined
    selection.push(rect)
  }
  return { caret, selection }
}

const readCursorRequest = (value: unknown): CursorRequest | undefined =>
  isRecord(value) && isCount(value['anchor']) && isCount(value['head'])
    ? { anchor: value['anchor'], head: value['head'] }
    : undefined

/** Reads every item of `value` with `read`, or `undefined` if any is malformed or too many. */
const readList = <T>(
  value: unknown,
  max: number,
  read: (item: unknown) => T | undefined,
): T[] | undefined => {
  if (!Array.isArray(value) || value.length > max) return undefined
  const items: T[] = []
  for (const item of value) {
    const read1 = read(item)
    if (read1 === undefined) return undefined
    items.push(read1)
  }
  return items
}

/**
 * Parses a `detail`: a JSON string of bounded size holding an object with a well-formed nonce.
 * `undefined` for anything else (including non-string details: see the module comment).
 */
export const readEnvelope = (detail: unknown): Envelope | undefined => {
  if (typeof detail !== 'string' || detail.length > MAX_DETAIL_CHARS) return undefined
  let data: unknown
  try {
    data = JSON.parse(detail)
  } catch {
    // Not JSON: the caller reports the drop; nothing here to recover.
    return undefined
  }
  if (!isRecord(data) || typeof data['nonce'] !== 'string' || !NONCE.test(data['nonce'])) {
    return undefined
  }
  return { nonce: data['nonce'], data }
}

/** The nonce of an `attach` event's detail, if it is one of this protocol version. */
export const readAttach = (detail: unknown): string | undefined => {
  const envelope = readEnvelope(detail)
  return envelope?.data['v'] === BRIDGE_VERSION ? envelope.nonce : undefined
}

/** A message for the bridge, or `undefined` when malformed. */
export const readToPage = (data: Readonly<Record<string, unknown>>): ToPage | undefined => {
  switch (data['type']) {
    case 'apply':
    case 'set': {
      const delta = data['type'] === 'set' ? readDocument(data['delta']) : readDelta(data['delta'])
      return delta === undefined ? undefined : { type: data['type'], delta }
    }
    case 'bounds-request': {
      const cursors = readList(data['cursors'], MAX_CURSORS, readCursorRequest)
      return cursors !== undefined && isCount(data['id'])
        ? { type: 'bounds-request', id: data['id'], cursors }
        : undefined
    }
    case 'detach':
      return { type: 'detach' }
    default:
      return undefined
  }
}

/** A message for the content script, or `undefined` when malformed. */
export const readToContent = (data: Readonly<Record<string, unknown>>): ToContent | undefined => {
  switch (data['type']) {
    case 'attached': {
      const delta = readDocument(data['delta'])
      return delta === undefined ? undefined : { type: 'attached', delta }
    }
    case 'error': {
      const reason = data['reason']
      return typeof reason === 'string' && ATTACH_FAILURES.has(reason)
        ? { type: 'error', reason: reason as AttachFailure }
        : undefined
    }
    case 'delta': {
      const delta = readDelta(data['delta'])
      return delta === undefined ? undefined : { type: 'delta', delta }
    }
    case 'selection': {
      const range = data['range']
      if (range === null) return { type: 'selection', range: null }
      return isRecord(range) && isCount(range['index']) && isCount(range['length'])
        ? { type: 'selection', range: { index: range['index'], length: range['length'] } }
        : undefined
    }
    case 'bounds': {
      const cursors = readList(data['cursors'], MAX_CURSORS, readCursorBounds)
      return cursors !== undefined && isCount(data['id'])
        ? { type: 'bounds', id: data['id'], cursors }
        : undefined
    }
    case 'desync': {
      const reason = data['reason']
      return typeof reason === 'string' && reason.length <= 64
        ? { type: 'desync', reason }
        : undefined
    }
    case 'detached':
      return data['reason'] === 'replaced' ? { type: 'detached', reason: 'replaced' } : undefined
    default:
      return undefined
  }
}

/**
 * The `detail` for `message`, or `undefined` when it would exceed `MAX_DETAIL_CHARS` or is not
 * JSON-serialisable (a page's embed value could be anything): the caller reports that.
 */
export const encodeMessage = (
  nonce: string,
  message: ToPage | ToContent | { readonly v: number },
): string | undefined => {
  let detail: string
  try {
    detail = JSON.stringify({ nonce, ...message })
  } catch (error) {
    console.warn('coedit: a Quill bridge message is not serialisable', error)
    return undefined
  }
  return detail.length <= MAX_DETAIL_CHARS ? detail : undefined
}

/**
 * Dispatches a bridge event on `target`. Not bubbling: listeners sit on the element itself (and,
 * for `attach`, on `document` in the capture phase, which sees non-bubbling events too).
 */
export const dispatchBridgeEvent = (
  target: EventTarget,
  type: string,
  detail: string,
  composed = false,
): void => {
  target.dispatchEvent(new CustomEvent(type, { detail, bubbles: false, composed }))
}

/**
 * Logs each distinct reason once per owner (a hostile page could otherwise flood the console by
 * forging events), and counts every drop for tests and diagnostics.
 */
export const createDropReporter = (prefix: string) => {
  const seen = new Set<string>()
  let count = 0
  return {
    report(reason: string): void {
      count += 1
      if (seen.has(reason)) return
      seen.add(reason)
      console.warn(`${prefix}: ${reason} (further drops of this kind are not logged)`)
    },
    get count() {
      return count
    },
  }
}
