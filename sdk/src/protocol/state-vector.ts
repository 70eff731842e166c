/**
 * State-vector comparison for the "saved" acknowledgement: a client is saved when its local state
 * vector is covered by the server's persisted one (and every message it sent is acknowledged).
 */
import * as decoding from 'lib0/decoding'

/** clientID → next expected clock. */
export type StateVector = ReadonlyMap<number, number>

/** Decodes a Yjs v1 state vector (`varUint n • n × [varUint client • varUint clock]`). */
export const decodeStateVectorMap = (encoded: Uint8Array): Map<number, number> => {
  const decoder = decoding.createDecoder(encoded)
  const count = decoding.readVarUint(decoder)
  const map = new Map<number, number>()
  for (let i = 0; i < count; i++) {
    const client = decoding.readVarUint(decoder)
    map.set(client, decoding.readVarUint(decoder))
  }
  return map
}

/** True when every clock in `local` is at most the clock `persisted` has for that client. */
export const isCoveredBy = (local: StateVector, persisted: StateVector): boolean => {
  for (const [client, clock] of local) {
    if (clock > (persisted.get(client) ?? 0)) return false
  }
  return true
}
