/**
 * The relay's view of a room's awareness (presence) states.
 *
 * Presence is separate from the document (R18): never persisted, never part of a flush. The relay
 * forwards each validated awareness frame as received (no re-encoding) and remembers the latest
 * state per client id only to answer joins and `query-awareness`, and to announce the removal of
 * a connection's states when it closes (no ghost cursors, R15).
 */
import type { AwarenessEntry } from '@coedit/sdk/protocol'

interface KnownState {
  clock: number
  state: string
  updatedAt: number
  owner: object
}

/** y-protocols drops states not renewed for 30 s; the relay forgets them on the same schedule. */
export const AWARENESS_TIMEOUT_MS = 30_000

export interface AwarenessRegistry {
  readonly size: number
  /** Records states sent by `owner` (a connection). */
  apply(owner: object, entries: readonly AwarenessEntry[], now: number): void
  /** Every known state, for a joiner or a `query-awareness`. */
  all(): AwarenessEntry[]
  /** Forgets `owner`'s states and returns the removal entries (clock + 1, state null) to send. */
  removeOwner(owner: object): AwarenessEntry[]
  /** Forgets states not renewed within {@link AWARENESS_TIMEOUT_MS}. */
  sweep(now: number): void
}

export const createAwarenessRegistry = (): AwarenessRegistry => {
  const states = new Map<number, KnownState>()
  return {
    get size() {
      return states.size
    },
    apply(owner, entries, now) {
      for (const { clientID, clock, state } of entries) {
        const known = states.get(clientID)
        // Same rule as y-protocols: newer clock wins; an equal clock may only remove a state.
        if (known && (clock < known.clock || (clock === known.clock && state !== 'null'))) {
          continue
        }
        if (state === 'null') states.delete(clientID)
        else states.set(clientID, { clock, state, updatedAt: now, owner })
      }
    },
    all() {
      return [...states].map(([clientID, { clock, state }]) => ({ clientID, clock, state }))
    },
    removeOwner(owner) {
      const removed: AwarenessEntry[] = []
      for (const [clientID, known] of states) {
        if (known.owner !== owner) continue
        states.delete(clientID)
        removed.push({ clientID, clock: known.clock + 1, state: 'null' })
      }
      return removed
    },
    sweep(now) {
      for (const [clientID, known] of states) {
        if (now - known.updatedAt > AWARENESS_TIMEOUT_MS) states.delete(clientID)
      }
    },
  }
}
