/**
 * Answering a client's sync step 1 (its state vector) with what it is missing.
 *
 * A large answer, such as a client joining a 10 MB room with nothing, is sent in pieces
 * (storage/split-state.ts): one per event-loop turn, no faster than the client reads, and ending
 * with the sync step 2 that carries the rest and the delete set. In one piece it would hold the
 * event loop for one long `encodeStateAsUpdate` (R37; about 60 ms for 10 MB), and one frame that
 * large exceeds the send-buffer cap (8 MB by default), which closes the client as a slow
 * consumer before it ever syncs. Updates other clients make meanwhile reach it as usual; any that
 * arrive before what they build on wait in its document until the pieces catch up.
 */
import { encodeSyncStep2, encodeSyncUpdate } from '@coedit/sdk/protocol'
import type { Logger } from 'pino'
import * as Y from 'yjs'
import type { PeerSocket } from '../connection/peer-socket.js'
import { createStateCutter } from '../storage/split-state.js'

/** Missing clock units (about characters) from which an answer is sent in pieces. */
const PIECEWISE_FROM = 1_000_000
/** Clock units per piece. */
const PIECE_LENGTH = 100_000
/** Bytes waiting in the socket's buffer above which the next piece waits for it to drain. */
const DRAIN_BELOW = 1024 * 1024

/** Clock units of `doc` beyond `stateVector`. */
const missingLength = (doc: Y.Doc, stateVector: Uint8Array): number => {
  const known = Y.decodeStateVector(stateVector)
  let missing = 0
  for (const client of doc.store.clients.keys()) {
    missing += Math.max(0, Y.getState(doc.store, client) - (known.get(client) ?? 0))
  }
  return missing
}

export const answerSyncStep1 = (
  doc: Y.Doc,
  peer: PeerSocket,
  stateVector: Uint8Array,
  logger: Logger,
): void => {
  if (missingLength(doc, stateVector) < PIECEWISE_FROM) {
    peer.send(encodeSyncStep2(Y.encodeStateAsUpdate(doc, stateVector)))
    return
  }
  const cutter = createStateCutter(Y, doc, stateVector)
  let pieces = 0
  const step = () => {
    if (!peer.open || doc.isDestroyed) return
    let piece: Uint8Array | undefined
    try {
      piece = cutter.next(PIECE_LENGTH)
    } catch (error) {
      // Not expected; the whole answer in one go is still correct.
      logger.error({ conn: peer.id, err: error }, 'cutting a sync answer failed; sending it whole')
      peer.send(encodeSyncStep2(Y.encodeStateAsUpdate(doc, stateVector)))
      return
    }
    if (piece === undefined) {
      peer.send(encodeSyncStep2(cutter.rest()))
      logger.debug({ conn: peer.id, pieces: pieces + 1 }, 'large sync answer sent in pieces')
      return
    }
    pieces++
    peer.send(encodeSyncUpdate(piece))
    peer.whenDrained(DRAIN_BELOW, step)
  }
  step()
}
