/**
 * The awareness update payload (y-protocols/awareness wire format):
 * `varUint(n) • n × [varUint clientID • varUint clock • varString(json | "null")]`.
 *
 * Decoded and validated here so that a relay can forward the original bytes to stock clients
 * knowing every state is valid JSON (stock clients would throw on anything else).
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { malformed } from './errors.js'

export interface AwarenessEntry {
  readonly clientID: number
  readonly clock: number
  /** The state as JSON text; `'null'` means the client went away. */
  readonly state: string
}

/** Upper bound on states in one update; y-protocols sends one per client it knows. */
const MAX_ENTRIES = 10_000

export const decodeAwarenessUpdate = (update: Uint8Array): AwarenessEntry[] => {
  const decoder = decoding.createDecoder(update)
  const count = decoding.readVarUint(decoder)
  if (count > MAX_ENTRIES) throw malformed(`awareness update with ${count} states`)
  const entries: AwarenessEntry[] = []
  for (let i = 0; i < count; i++) {
    const clientID = decoding.readVarUint(decoder)
    const clock = decoding.readVarUint(decoder)
    const state = decoding.readVarString(decoder)
    try {
      JSON.parse(state)
    } catch (error) {
      throw malformed('awareness state is not JSON', error)
    }
    entries.push({ clientID, clock, state })
  }
  if (decoding.hasContent(decoder)) throw malformed('trailing bytes after awareness update')
  return entries
}

export const encodeAwarenessUpdate = (entries: Iterable<AwarenessEntry>): Uint8Array => {
  const list = [...entries]
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, list.length)
  for (const entry of list) {
    encoding.writeVarUint(encoder, entry.clientID)
    encoding.writeVarUint(encoder, entry.clock)
    encoding.writeVarString(encoder, entry.state)
  }
  return encoding.toUint8Array(encoder)
}
