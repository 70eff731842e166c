/**
 * What a room knows to be in storage, as Yjs ids: per client, the clock ranges `[start, end)`
 * that some instance committed (R22 across instances).
 *
 * Why ids and not a state vector: a state vector is one clock per client and says "everything
 * below". That holds for one instance's own commits, but not for a union of several instances'
 * commits — a client that reconnects from instance A to B has clocks 0–9 queued on A and 10–19
 * committed by B; if A crashes before its commit, the max of the two announcements (20) would
 * claim 0–9 as saved. Ranges merge exactly, and a client is told only the contiguous prefix from
 * clock 0 (`stateVector`), which is what its "saved" check (sdk `isCoveredBy`) needs.
 *
 * Deletions carry no clock and are not tracked here (as with the single-instance state vector).
 *
 * Wire format (the `persisted` cluster message): `varUint clients • per client: varUint client •
 * varUint ranges • per range: varUint start • varUint length`. A room's whole view is usually
 * one range per client that ever wrote, so announcing it is cheap.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'

/** client → sorted, disjoint, non-adjacent ranges `[start, end)`. */
export type IdRanges = Map<number, [number, number][]>

export interface PersistedView {
  /**
   * Adds `[start, end)` of `client`; returns true when the prefix told to clients grew.
   */
  add(client: number, start: number, end: number): boolean
  /** Adds every range of `ranges`; returns true when the prefix grew. */
  merge(ranges: IdRanges): boolean
  /** Per client, the end of the range starting at clock 0 (Yjs v1 state-vector encoding). */
  readonly stateVector: Uint8Array
  /** Per client, the end of the range starting at clock 0. */
  prefix(client: number): number
  /** The contiguous prefixes as ranges (what is announced in the periodic digest). */
  prefixRanges(): IdRanges
}

export const createPersistedView = (): PersistedView => {
  const ranges: IdRanges = new Map()
  let encoded: Uint8Array | null = null

  const prefix = (client: number) => {
    const first = ranges.get(client)?.[0]
    return first !== undefined && first[0] === 0 ? first[1] : 0
  }

  const add = (client: number, start: number, end: number): boolean => {
    if (end <= start) return false
    const before = prefix(client)
    let list = ranges.get(client)
    if (list === undefined) {
      list = []
      ranges.set(client, list)
    }
    const last = list.at(-1)
    if (last === undefined || last[1] < start) {
      // The common case: a commit right after the previous one of the same client.
      list.push([start, end])
    } else if (last[0] <= start) {
      last[1] = Math.max(last[1], end)
    } else {
      // Out of order: insert and merge everything it touches.
      let lo = start
      let hi = end
      const kept: [number, number][] = []
      for (const range of list) {
        if (range[1] < lo || range[0] > hi) kept.push(range)
        else {
          lo = Math.min(lo, range[0])
          hi = Math.max(hi, range[1])
        }
      }
      kept.push([lo, hi])
      kept.sort((a, b) => a[0] - b[0])
      ranges.set(client, kept)
    }
    const grew = prefix(client) > before
    if (grew) encoded = null
    return grew
  }

  return {
    add,
    merge(other) {
      let grew = false
      for (const [client, list] of other) {
        for (const [start, end] of list) grew = add(client, start, end) || grew
      }
      return grew
    },
    get stateVector() {
      if (encoded === null) {
        const vector = new Map<number, number>()
        for (const client of ranges.keys()) {
          const end = prefix(client)
          if (end > 0) vector.set(client, end)
        }
        encoded = Y.encodeStateVector(vector)
      }
      return encoded
    },
    prefix,
    prefixRanges() {
      const result: IdRanges = new Map()
      for (const client of ranges.keys()) {
        const end = prefix(client)
        if (end > 0) result.set(client, [[0, end]])
      }
      return result
    },
  }
}

/** Adds `[start, end)` of `client` to `target` (no merging: for building messages). */
export const pushRange = (target: IdRanges, client: number, start: number, end: number): void => {
  if (end <= start) return
  const list = target.get(client)
  if (list === undefined) target.set(client, [[start, end]])
  else list.push([start, end])
}

export const encodeIdRanges = (ranges: IdRanges): Uint8Array => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, ranges.size)
  for (const [client, list] of ranges) {
    encoding.writeVarUint(encoder, client)
    encoding.writeVarUint(encoder, list.length)
    for (const [start, end] of list) {
      encoding.writeVarUint(encoder, start)
      encoding.writeVarUint(encoder, end - start)
    }
  }
  return encoding.toUint8Array(encoder)
}

/** Throws on a truncated message (callers decode at their boundary). */
export const decodeIdRanges = (bytes: Uint8Array): IdRanges => {
  const decoder = decoding.createDecoder(bytes)
  const ranges: IdRanges = new Map()
  const clients = decoding.readVarUint(decoder)
  for (let i = 0; i < clients; i++) {
    const client = decoding.readVarUint(decoder)
    const count = decoding.readVarUint(decoder)
    for (let j = 0; j < count; j++) {
      const start = decoding.readVarUint(decoder)
      pushRange(ranges, client, start, start + decoding.readVarUint(decoder))
    }
  }
  return ranges
}
