/**
 * A document's state as a sequence of smaller Yjs updates, each applicable once the ones before
 * it are (R37: neither loading a 10 MB room nor answering a client that joins it may hold the
 * relay's event loop for one long `applyUpdate` or `encodeStateAsUpdate`).
 *
 * Yjs writes a state as every client's structs in clock order, and a struct can only be
 * integrated once what it points at is: the items it was inserted between (`origin`,
 * `rightOrigin`) and the item of the nested type it lives in. So the structs are taken in that
 * order, client by client, each client's run continuing as long as what it points at has been
 * taken, and cut into updates of about `maxLength` clock units. The last update is Yjs's own
 * encoding of everything left, with the document's delete set and any pending structs.
 *
 * A cutter keeps its position as clocks, not struct indexes, so the document may change between
 * two pieces (a live room keeps integrating updates; its structs split and merge): what arrives
 * meanwhile is simply part of a later piece or of the rest.
 *
 * Both functions are self-contained (the `Y` they use is a parameter, they define what they need
 * inside): load-worker.ts runs their source text in a worker thread.
 */
import type * as YModule from 'yjs'

export interface StateCutter {
  /** The next piece of about `maxLength` clock units; undefined when less than that is left. */
  next(maxLength: number): Uint8Array | undefined
  /** Everything not cut yet, with the delete set and pending structs: the last piece. */
  rest(): Uint8Array
}

/** Cuts `doc`'s state beyond `stateVector` (default: all of it) into pieces. */
export const createStateCutter = (
  Y: typeof YModule,
  doc: YModule.Doc,
  stateVector?: Uint8Array,
): StateCutter => {
  const store = doc.store
  /** Per client, the clock up to which structs are cut (what the receiver has so far). */
  const taken =
    stateVector === undefined ? new Map<number, number>() : Y.decodeStateVector(stateVector)
  const isTaken = (id: YModule.ID | null) => id === null || (taken.get(id.client) ?? 0) > id.clock
  const ready = (struct: YModule.Item | YModule.GC) => {
    if (!(struct instanceof Y.Item)) return true
    if (!isTaken(struct.origin) || !isTaken(struct.rightOrigin)) return false
    const parent = struct.parent
    return !(parent instanceof Y.AbstractType) || parent._item === null || isTaken(parent._item.id)
  }
  const endOf = (structs: readonly (YModule.Item | YModule.GC)[]) => {
    const last = structs[structs.length - 1]
    return last === undefined ? 0 : last.id.clock + last.length
  }
  /** The structs between the clocks `from` and `taken`, as one update (no delete set). */
  const encode = (from: Map<number, number>): Uint8Array => {
    const encoder = new Y.UpdateEncoderV1()
    const clients = [...taken.keys()]
      .filter((client) => (taken.get(client) ?? 0) > (from.get(client) ?? 0))
      .sort((a, b) => b - a)
    // In the v1 format `writeLen` and `writeClient` are plain variable-length integers, which is
    // what the header fields are (Yjs's own writer uses lib0 directly).
    encoder.writeLen(clients.length)
    for (const client of clients) {
      const structs = store.clients.get(client) ?? []
      const start = from.get(client) ?? 0
      const end = taken.get(client) ?? 0
      const first = Y.findIndexSS(structs, start)
      let last = first
      while (last < structs.length && (structs[last] as YModule.Item).id.clock < end) last++
      encoder.writeLen(last - first)
      encoder.writeClient(client)
      encoder.writeLen(start)
      for (let i = first; i < last; i++) {
        const struct = structs[i] as YModule.Item
        // A start inside a struct (a receiver's state vector, or structs merged since) writes
        // only its remainder.
        struct.write(encoder, i === first ? start - struct.id.clock : 0)
      }
    }
    encoder.writeLen(0)
    return encoder.toUint8Array()
  }
  return {
    next(maxLength) {
      const from = new Map(taken)
      let length = 0
      for (let progress = true; progress && length < maxLength;) {
        progress = false
        for (const client of [...store.clients.keys()].sort((a, b) => b - a)) {
          const structs = store.clients.get(client) ?? []
          let clock = taken.get(client) ?? 0
          if (clock >= endOf(structs)) continue
          let index = Y.findIndexSS(structs, clock)
          while (index < structs.length && length < maxLength) {
            const struct = structs[index] as YModule.Item | YModule.GC
            if (!ready(struct)) break
            const end = struct.id.clock + struct.length
            length += end - clock
            clock = end
            taken.set(client, clock)
            index++
            progress = true
          }
        }
      }
      if (length >= maxLength) return encode(from)
      // What is left is less than a piece: the rest carries it, with the delete set.
      for (const [client, clock] of from) taken.set(client, clock)
      for (const client of [...taken.keys()]) if (!from.has(client)) taken.delete(client)
      return undefined
    },
    rest() {
      const known = new Map([...taken].filter(([, clock]) => clock > 0))
      return Y.encodeStateAsUpdate(doc, Y.encodeStateVector(known))
    },
  }
}

/** The whole state of `doc` as pieces of about `maxLength` clock units, the last one the rest. */
export const splitState = (
  Y: typeof YModule,
  doc: YModule.Doc,
  maxLength: number,
): Uint8Array[] => {
  const cutter = createStateCutter(Y, doc)
  const pieces: Uint8Array[] = []
  for (let piece = cutter.next(maxLength); piece !== undefined; piece = cutter.next(maxLength)) {
    pieces.push(piece)
  }
  pieces.push(cutter.rest())
  return pieces
}
