/**
 * One room's queue towards storage: effective updates and acknowledgements wait here until the
 * server-wide group commit (group-commit.ts) writes them.
 *
 * Acknowledgements ride on the same queue as updates: a connection's document message is
 * acknowledged only once every update queued before it is durable. That is what makes "saved"
 * truthful (R22), also for messages that changed nothing because their content was already
 * queued by someone else.
 */
import type { Batch, Committable, GroupCommit } from './group-commit.js'

export interface FlushResult<T, S = Uint8Array> {
  /** The updates that became durable. */
  readonly updates: readonly Uint8Array[]
  /** Per target, the highest message sequence number now durable. */
  readonly acks: ReadonlyMap<T, number>
  /**
   * What `captureState` returned when this batch was taken: everything applied up to then is in
   * this batch or an earlier, already durable one (the room passes how many local updates it
   * had queued: see relay/room.ts).
   */
  readonly state: S
}

export interface RoomPersister<T> {
  /** Queues an effective update for the room's log. */
  append(update: Uint8Array): void
  /** Acknowledges message `seq` of `target` once everything queued so far is durable. */
  acknowledge(target: T, seq: number): void
  /** Resolves once everything queued before the call is durable (retrying as long as needed). */
  flush(): Promise<void>
  /** Whether storage is failing (the room is "unsaved" until a retry succeeds). */
  readonly failing: boolean
  /** Updates waiting to be written. */
  readonly backlog: number
}

interface RoomBatchState<T, S> extends Batch {
  readonly acks: Map<T, number>
  readonly state: S
}

export const createRoomPersister = <T, S = Uint8Array>(options: {
  room: string
  commit: GroupCommit
  /** Called when a batch is taken, before it is written. */
  captureState: () => S
  /** Called after each successful commit of this room's batch. */
  onDurable: (result: FlushResult<T, S>) => void
}): RoomPersister<T> => {
  const { commit, captureState, onDurable } = options
  let pending: Uint8Array[] = []
  let pendingAcks = new Map<T, number>()
  let inFlight = false

  const committable: Committable<RoomBatchState<T, S>> = {
    room: options.room,
    takeBatch() {
      if (pending.length === 0 && pendingAcks.size === 0) return null
      const batch = { updates: pending, acks: pendingAcks, state: captureState() }
      pending = []
      pendingAcks = new Map()
      inFlight = true
      return batch
    },
    committed(batch) {
      inFlight = false
      onDurable({ updates: batch.updates, acks: batch.acks, state: batch.state })
    },
    failed(batch) {
      inFlight = false
      // Back in front: order is not required for Yjs, but it keeps the log readable.
      pending = batch.updates.concat(pending)
      for (const [target, seq] of batch.acks) {
        pendingAcks.set(target, Math.max(seq, pendingAcks.get(target) ?? 0))
      }
    },
  }
  const hasWork = () => pending.length > 0 || pendingAcks.size > 0 || inFlight

  return {
    append(update) {
      pending.push(update)
      commit.enqueue(committable as Committable)
    },
    acknowledge(target, seq) {
      pendingAcks.set(target, seq)
      commit.enqueue(committable as Committable)
    },
    async flush() {
      while (hasWork()) await commit.flush()
    },
    get failing() {
      return commit.failing
    },
    get backlog() {
      return pending.length
    },
  }
}
