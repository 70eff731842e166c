/**
 * Decides whether this client's edits are durable on the server, from the Coedit `saved`
 * acknowledgements (PROTOCOL.md, "a truthful saved"). A client is saved when
 *
 * 1. every document message it sent on the current connection is acknowledged (`acked ≥ sent`;
 *    this covers deletions, which state vectors do not show),
 * 2. its state vector is covered by the server's persisted one, and
 * 3. nothing changed locally while no connection could carry it — or the step 2 that carried
 *    those changes on the next connection has been acknowledged.
 */
import * as Y from 'yjs'
import { decodeStateVectorMap } from '../protocol/state-vector.js'

export interface SavedTracker {
  /** A new connection: counts restart (the server counts per connection). */
  connectionOpened(): void
  /** A document message (sync step 2 or update) was sent; returns its 1-based index. */
  documentSent(): number
  /** A local change happened while no connection could carry it. */
  changedOffline(): void
  /** A step 2 carrying every offline change went out as message `index`. */
  offlineChangesSent(index: number): void
  /** The server's `saved` acknowledgement. */
  acknowledged(persistedStateVector: Uint8Array, acked: number): void
  isSaved(): boolean
}

export const createSavedTracker = (doc: Y.Doc): SavedTracker => {
  let sent = 0
  let acked = 0
  let persisted = new Map<number, number>()
  let dirty = false
  // Index of the message that carries the offline changes; 0 while none is in flight.
  let dirtyClearsAt = 0
  // Runs after every message and local edit: read the store's clocks in place rather than encoding
  // and decoding a state vector each time (that showed up in the relay's tail latency).
  const localStateIsCovered = (): boolean => {
    for (const client of doc.store.clients.keys()) {
      if (Y.getState(doc.store, client) > (persisted.get(client) ?? 0)) return false
    }
    return true
  }
  return {
    connectionOpened() {
      sent = 0
      acked = 0
      dirtyClearsAt = 0
    },
    documentSent() {
      return ++sent
    },
    changedOffline() {
      dirty = true
      dirtyClearsAt = 0
    },
    offlineChangesSent(index) {
      if (dirty) dirtyClearsAt = index
    },
    acknowledged(persistedStateVector, count) {
      persisted = decodeStateVectorMap(persistedStateVector)
      acked = count
      if (dirty && dirtyClearsAt > 0 && acked >= dirtyClearsAt) dirty = false
    },
    isSaved() {
      return !dirty && acked >= sent && localStateIsCovered()
    },
  }
}
