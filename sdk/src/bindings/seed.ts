/**
 * Seeding a shared text from content the page already had (requirements R9). Two users opening
 * the same page at once both find the room empty; if each inserted the page text, it would appear
 * twice. Instead the seed is written by a *deterministic* author: a throwaway document whose client
 * id is a hash of the field name and content. Identical content then yields byte-identical Yjs
 * updates, and Yjs applies an update it already has exactly once — whoever seeds first, the text
 * appears once.
 */
import * as Y from 'yjs'
import { CoeditError } from '../protocol/errors.js'

/** A Quill-style delta insert (text with optional attributes). */
export interface DeltaInsert {
  readonly insert: string
  readonly attributes?: Readonly<Record<string, unknown>>
}

/** FNV-1a over the UTF-16 units: a stable 32-bit id, never 0. */
const hash = (text: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h === 0 ? 1 : h
}

/**
 * Writes `content` into `ytext` as the deterministic seed author, if `ytext` is empty.
 * Returns whether it wrote. `origin` is the transaction origin (the binding, for echo suppression).
 */
export const seedText = (
  ytext: Y.Text,
  field: string,
  content: string | readonly DeltaInsert[],
  origin: unknown,
): boolean => {
  const doc = ytext.doc
  if (doc === null || ytext.length > 0) return false
  const delta = typeof content === 'string' ? [{ insert: content }] : content
  if (delta.every((op) => op.insert.length === 0)) return false
  const seedDoc = new Y.Doc()
  seedDoc.clientID = hash(`${field}\u0000${JSON.stringify(delta)}`)
  seedDoc.getText(field).applyDelta(delta.map((op) => ({ ...op })))
  const update = Y.encodeStateAsUpdate(seedDoc)
  seedDoc.destroy()
  Y.applyUpdate(doc, update, origin)
  return true
}

/**
 * `ytext`'s top-level name: seeding writes the seed into `doc.getText(field)`, so a binding must
 * know it. `field` (when given) must name `ytext`; otherwise it is looked up. `caller` names the
 * binding in the misuse message.
 */
export const seedFieldName = (ytext: Y.Text, field: string | undefined, caller: string): string => {
  const share = ytext.doc?.share ?? new Map<string, unknown>()
  if (field !== undefined) {
    if (share.get(field) === ytext) return field
    throw new CoeditError(
      'misuse',
      `${caller}: options.field "${field}" does not name ytext (doc.getText("${field}")); ` +
        'pass its top-level name or seed: false',
    )
  }
  for (const [name, type] of share) if (type === ytext) return name
  throw new CoeditError(
    'misuse',
    `${caller}: seeding needs a top-level Y.Text (doc.getText(name)); pass seed: false`,
  )
}
