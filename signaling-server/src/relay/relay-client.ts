/**
 * One relay connection's state inside a room.
 */
import type { PeerSocket } from '../connection/peer-socket.js'

export interface RelayClient {
  readonly peer: PeerSocket
  /** Read-only connections get sync and awareness; their document updates are dropped. */
  readonly readOnly: boolean
  /** Declared Coedit extension support: receives `hello` and `saved` messages. */
  readonly coedit: boolean
  /** Document messages (sync step 2 and updates) received and applied from this client. */
  received: number
  /** How many of those are durable (sent in `saved`). */
  durable: number
}

export const createRelayClient = (
  peer: PeerSocket,
  options: { readOnly: boolean; coedit: boolean },
): RelayClient => ({
  peer,
  readOnly: options.readOnly,
  coedit: options.coedit,
  received: 0,
  durable: 0,
})
