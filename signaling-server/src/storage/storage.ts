/**
 * The storage interface every backend implements (SQLite now, PostgreSQL later).
 *
 * A room is stored as at most one merged snapshot plus an append-only log of Yjs updates. The
 * relay appends effective updates in batches (group commit) and periodically compacts the log into
 * the snapshot. Contract every implementation must keep:
 * - `appendUpdates` is atomic: after it resolves, every update of the batch survives a `kill -9`;
 *   if it rejects, none may be assumed stored (the caller retries the whole batch; duplicates are
 *   harmless because Yjs updates are idempotent).
 * - `compact` merges the snapshot and the log rows it read into a new snapshot and deletes exactly
 *   those rows, atomically. Rows appended meanwhile survive. Two concurrent compactions of one
 *   room (even from two processes) never lose data: the loser of a race changes nothing.
 * - Nothing here is called to propagate edits (no polling); it is read once per room load.
 */

/** Updates for one room's log. */
export interface RoomBatch {
  readonly room: string
  readonly updates: readonly Uint8Array[]
}

/** A room's stored content in storage order: the snapshot (if any) first, then the log. */
export interface StoredRoom {
  readonly updates: Uint8Array[]
  /** Total stored bytes (snapshot + log) — used for size limits and compaction decisions. */
  readonly bytes: number
  /** Number of log rows (not counting the snapshot). */
  readonly logCount: number
}

export interface CompactionResult {
  /** False when there was nothing to merge or another compaction won the race. */
  readonly compacted: boolean
  /** Log rows merged and deleted. */
  readonly mergedRows: number
  /** Size of the snapshot after compaction (bytes). */
  readonly snapshotBytes: number
  /** Stored bytes of the room (snapshot + remaining log) after compaction. */
  readonly storedBytes: number
}

/** Merges Yjs updates into one update equivalent to all of them, possibly off the main thread. */
export type MergeUpdates = (updates: Uint8Array[]) => Promise<Uint8Array>

export interface Storage {
  /** Loads a room. An unknown room resolves to no updates. */
  loadRoom(room: string): Promise<StoredRoom>
  /** Appends a batch of updates to the room's log in one durable transaction. */
  appendUpdates(room: string, updates: readonly Uint8Array[]): Promise<void>
  /**
   * Appends batches of several rooms in one durable transaction (server-wide group commit: one
   * commit, one fsync, for every room that changed within the window). All or nothing.
   */
  appendBatches(batches: readonly RoomBatch[]): Promise<void>
  /** Merges the snapshot and current log into a new snapshot (see the contract above). */
  compact(room: string, merge: MergeUpdates): Promise<CompactionResult>
  /** Stored bytes and log rows of a room, without reading the updates. */
  roomStats(room: string): Promise<{ bytes: number; logCount: number }>
  /** Whether the backend currently answers (used by /healthz). */
  healthy(): Promise<boolean>
  /** Closes connections and file handles. Further calls reject. */
  close(): Promise<void>
}
