/**
 * Checks an untrusted Yjs update against the room's document before it is applied.
 *
 * Yjs trusts updates: a corrupt one that still decodes (a flipped bit, a forged reference) can be
 * integrated half-way, leave the document's linked lists inconsistent, make later *valid* updates
 * throw, and poison the stored log (R32). Yjs itself checks none of the following, so the relay
 * does, for every struct of the update:
 * - a struct referencing its own client (origin, right origin, parent) references an earlier
 *   clock — clients create what they reference first;
 * - a parent given by id is a shared type (its content is a `ContentType`), not text or a value;
 * - when both neighbours are known, they live in the same type under the same key.
 * References to clients the room has not seen yet are left alone: Yjs keeps such updates pending
 * until their dependencies arrive, which is legitimate (updates may arrive out of order).
 */
import { malformed } from '@coedit/sdk/protocol'
import * as Y from 'yjs'

type Struct = Y.Item | Y.GC | Y.Skip
type Resolved = Struct | 'pending' | undefined

/** Finds the struct holding `id`: in the document, else in the update, else 'pending'. */
const resolver = (doc: Y.Doc, structs: readonly Struct[]) => {
  const byClient = new Map<number, Struct[]>()
  for (const struct of structs) {
    const list = byClient.get(struct.id.client)
    if (list === undefined) byClient.set(struct.id.client, [struct])
    else list.push(struct)
  }
  return (id: Y.ID): Resolved => {
    if (id.clock < Y.getState(doc.store, id.client)) return Y.getItem(doc.store, id) as Struct
    const own = byClient.get(id.client)
    const found = own?.find((s) => s.id.clock <= id.clock && id.clock < s.id.clock + s.length)
    return found ?? 'pending'
  }
}

/** Throws `CoeditError('bad-message')` when `update` must not be applied to `doc`. */
export const validateUpdate = (doc: Y.Doc, update: Uint8Array): void => {
  let structs: Struct[]
  try {
    structs = Y.decodeUpdate(update).structs as Struct[]
  } catch (error) {
    throw malformed('update does not decode', error)
  }
  const resolve = resolver(doc, structs)
  for (const struct of structs) {
    if (!(struct instanceof Y.Item)) continue
    const { id } = struct
    for (const ref of [struct.origin, struct.rightOrigin]) {
      if (ref !== null && ref.client === id.client && ref.clock >= id.clock) {
        throw malformed('update references a later item of its own client')
      }
    }
    const parent = struct.parent
    if (parent instanceof Y.ID) {
      if (parent.client === id.client && parent.clock >= id.clock) {
        throw malformed('update references a later parent of its own client')
      }
      const parentStruct = resolve(parent)
      if (parentStruct instanceof Y.Item && !(parentStruct.content instanceof Y.ContentType)) {
        throw malformed('update inserts into an item that is not a shared type')
      }
    }
    const left = struct.origin === null ? undefined : resolve(struct.origin)
    const right = struct.rightOrigin === null ? undefined : resolve(struct.rightOrigin)
    if (
      left instanceof Y.Item &&
      right instanceof Y.Item &&
      left.id.clock < Y.getState(doc.store, left.id.client) &&
      right.id.clock < Y.getState(doc.store, right.id.client) &&
      (left.parent !== right.parent || left.parentSub !== right.parentSub)
    ) {
      throw malformed('update places an item between neighbours of different types')
    }
  }
}
