/**
 * A document's state as a sequence of smaller Yjs updates, each applicable once the ones before
 * it are (R37: loading a 10 MB room must not stall the relay for one long `applyUpdate`; the
 * room applies these one per event-loop turn instead).
 *
 * Yjs writes a state as every client's structs in clock order, and a struct can only be
 * integrated once what it points at is: the items it was inserted between (`origin`,
 * `rightOrigin`) and the item of the nested type it lives in. So the structs are taken in that
 * order, client by client, each client's run continuing as long as what it points at has been
 * taken, and cut into updates of about `maxLength` clock units. The last update is Yjs's own
 * encoding of everything left, with the document's delete set and any pending structs.
 *
 * The function is self-contained (the `Y` it uses is a parameter, it defines what it needs
 * inside): load-worker.ts runs its source text in a worker thread.
 */
import type * as YModule from 'yjs'

export const splitState = (
  Y: typeof YModule,
  doc: YModule.Doc,
  maxLength: number,
): Uint8Array[] => {
  const store = doc.store
  const clients = [...store.clients.keys()].sort((a, b) => b - a)
  /** Per client, the clock up to which structs are taken. */
  const taken = new Map<number, number>(clients.map((client) => [client, 0]))
  const next = new Map<number, number>(clients.map((client) => [client, 0]))
  const isTaken = (id: YModule.ID | null) => id === null || (taken.get(id.client) ?? 0) > id.clock
  const ready = (struct: YModule.Item | YModule.GC) => {
    if (!(struct instanceof Y.Item)) return true
    if (!isTaken(struct.origin) || !isTaken(struct.rightOrigin)) return false
    const parent = struct.parent
    return !(parent instanceof Y.AbstractType) || parent._item === null || isTaken(parent._item.id)
  }
  /** The structs taken since `from`, as one update (no delete set: the last update has it). */
  const encodeSince = (from: Map<number, number>): Uint8Array => {
    const encoder = new Y.UpdateEncoderV1()
    // In the v1 format `writeLen` and `writeClient` are plain variable-length integers, which is
    // what the header fields are (Yjs's own writer uses lib0 directly).
    const ranges = clients.filter((client) => (taken.get(client) ?? 0) > (from.get(client) ?? 0))
    encoder.writeLen(ranges.length)
    for (const client of ranges) {
      const structs = store.clients.get(client) ?? []
      const start = Math.max(from.get(client) ?? 0, structs[0]?.id.clock ?? 0)
      const end = taken.get(client) ?? 0
      const first = Y.findIndexSS(structs, start)
      let last = first
      while (last < structs.length && (structs[last] as YModule.Item).id.clock < end) last++
      encoder.writeLen(last - first)
      encoder.writeClient(client)
      encoder.writeLen(start)
      for (let i = first; i < last; i++) (structs[i] as YModule.Item).write(encoder, 0)
    }
    encoder.writeLen(0)
    return encoder.toUint8Array()
  }

  const updates: Uint8Array[] = []
  let from = new Map(taken)
  let length = 0
  for (let progress = true; progress;) {
    progress = false
    for (const client of clients) {
      const structs = store.clients.get(client) ?? []
      let index = next.get(client) ?? 0
      while (index < structs.length) {
        const struct = structs[index] as YModule.Item | YModule.GC
        if (!ready(struct)) break
        taken.set(client, struct.id.clock + struct.length)
        length += struct.length
        index++
        progress = true
        if (length >= maxLength) {
          updates.push(encodeSince(from))
          from = new Map(taken)
          length = 0
        }
      }
      next.set(client, index)
    }
  }
  // Whatever is left (normally nothing but the delete set), Yjs's own encoding.
  const rest = new Map([...from].filter(([, clock]) => clock > 0))
  updates.push(Y.encodeStateAsUpdate(doc, Y.encodeStateVector(rest)))
  return updates
}
