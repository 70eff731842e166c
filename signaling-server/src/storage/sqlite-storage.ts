/**
 * The SQLite backend of `Storage` (contract in storage.ts): one database file holding every
 * room's update log and merged snapshot.
 *
 * Owns the schema and its migrations. Knows nothing about Yjs: merging is the caller's
 * `MergeUpdates`, which may run in a worker, so no transaction is ever held across it.
 * better-sqlite3 is synchronous; each call here is a handful of indexed reads or writes (a 10 MB
 * room loads in milliseconds), which is why it may run on the event loop while the merge may not.
 * Several processes may open the same file: WAL lets readers run beside the one writer, and
 * compaction uses optimistic concurrency on the snapshot's version.
 */
import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { CoeditError } from '@coedit/sdk/protocol'
import { createSqliteWriter } from './sqlite-writer.js'
import type { CompactionResult, MergeUpdates, RoomBatch, Storage, StoredRoom } from './storage.js'

export interface SqliteStorageOptions {
  /** Directory of the database file; created (with parents) if missing. */
  readonly dir: string
  /** File name inside `dir`. Default `'coedit.sqlite'`. */
  readonly fileName?: string
  /**
   * Where log appends run: `'worker'` (default) keeps commits and WAL checkpoints off the event
   * loop; `'inline'` runs them on the calling thread (tools that only write once).
   */
  readonly writer?: 'worker' | 'inline'
}

/** How long a statement waits for another connection's lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5_000

/**
 * Schema changes, in order; entry i migrates `user_version` i to i + 1. Append, never edit: files
 * written by older servers are brought up to date on open.
 */
const MIGRATIONS: readonly string[] = [
  // AUTOINCREMENT, not plain rowid: ids must never be reused after the newest row is deleted,
  // because compaction deletes `id <= upTo` and a reused id would delete an unmerged update.
  `CREATE TABLE IF NOT EXISTS updates (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     room TEXT NOT NULL,
     data BLOB NOT NULL
   );
   CREATE INDEX IF NOT EXISTS updates_room_id ON updates (room, id);
   CREATE TABLE IF NOT EXISTS snapshots (
     room TEXT PRIMARY KEY,
     data BLOB NOT NULL,
     version INTEGER NOT NULL
   );`,
]

const migrate = (db: Database.Database): void => {
  // IMMEDIATE: two servers starting on one file must not both migrate.
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number
    if (version > MIGRATIONS.length) {
      throw new CoeditError(
        'storage-schema-too-new',
        `The database has schema version ${version} but this server knows only up to ` +
          `${MIGRATIONS.length}; upgrade the server or point it at another directory`,
      )
    }
    for (const migration of MIGRATIONS.slice(version)) db.exec(migration)
    db.pragma(`user_version = ${MIGRATIONS.length}`)
  }).immediate()
}

interface SnapshotRow {
  readonly data: Buffer
  readonly version: number
}

interface LogRow {
  readonly id: number
  readonly data: Buffer
}

interface StatsRow {
  readonly snapshotBytes: number
  readonly logBytes: number
  readonly logCount: number
}

/**
 * A plain Uint8Array over the row's bytes (no copy). Callers get the type the interface promises,
 * without Buffer's surprises (Buffer#slice shares memory, Uint8Array#slice copies).
 */
const toBytes = (buffer: Buffer): Uint8Array =>
  new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)

const openDatabase = (file: string): Database.Database => {
  const db = new Database(file)
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
    const mode = db.pragma('journal_mode = WAL', { simple: true })
    if (mode !== 'wal') {
      throw new CoeditError(
        'storage-no-wal',
        `SQLite could not enable WAL for ${file} (journal_mode is ${String(mode)}); ` +
          'use a local filesystem for the data directory',
      )
    }
    // FULL: in WAL mode NORMAL may lose the last commits on power loss; "saved" must mean saved.
    db.pragma('synchronous = FULL')
    migrate(db)
    return db
  } catch (error) {
    db.close()
    throw error
  }
}

/** Opens (creating if needed) the SQLite database `dir/fileName` and returns it as a `Storage`. */
export const createSqliteStorage = (options: SqliteStorageOptions): Storage => {
  fs.mkdirSync(options.dir, { recursive: true })
  const file = path.join(options.dir, options.fileName ?? 'coedit.sqlite')
  const db = openDatabase(file)
  // Opened after the main connection created the schema (see sqlite-writer.ts for why).
  const writer =
    (options.writer ?? 'worker') === 'worker'
      ? createSqliteWriter({ file, busyTimeoutMs: BUSY_TIMEOUT_MS })
      : undefined
  let closed = false

  const insertUpdate = db.prepare<[string, Uint8Array]>(
    'INSERT INTO updates (room, data) VALUES (?, ?)',
  )
  const selectSnapshot = db.prepare<[string], SnapshotRow>(
    'SELECT data, version FROM snapshots WHERE room = ?',
  )
  const selectSnapshotVersion = db.prepare<[string], { version: number }>(
    'SELECT version FROM snapshots WHERE room = ?',
  )
  const selectLog = db.prepare<[string], LogRow>(
    'SELECT id, data FROM updates WHERE room = ? ORDER BY id',
  )
  const upsertSnapshot = db.prepare<[string, Uint8Array, number]>(
    `INSERT INTO snapshots (room, data, version) VALUES (?, ?, ?)
     ON CONFLICT (room) DO UPDATE SET data = excluded.data, version = excluded.version`,
  )
  const deleteLogUpTo = db.prepare<[string, number]>(
    'DELETE FROM updates WHERE room = ? AND id <= ?',
  )
  const selectStats = db.prepare<{ room: string }, StatsRow>(
    `SELECT
       (SELECT COALESCE(SUM(length(data)), 0) FROM snapshots WHERE room = @room) AS snapshotBytes,
       (SELECT COALESCE(SUM(length(data)), 0) FROM updates WHERE room = @room) AS logBytes,
       (SELECT COUNT(*) FROM updates WHERE room = @room) AS logCount`,
  )
  const selectOne = db.prepare<[], { one: number }>('SELECT 1 AS one')

  const appendMany = db.transaction((batches: readonly RoomBatch[]) => {
    for (const { room, updates } of batches) {
      for (const update of updates) insertUpdate.run(room, update)
    }
  })

  // One read transaction, so that the snapshot and the log come from the same moment even if
  // another process compacts in between (else rows could be seen in neither or in both).
  const readRoom = db.transaction((room: string) => ({
    snapshot: selectSnapshot.get(room),
    log: selectLog.all(room),
  }))

  // SQLite answers length(blob) from the record header, without loading the blob.
  const stats = (room: string): StatsRow =>
    selectStats.get({ room }) ?? { snapshotBytes: 0, logBytes: 0, logCount: 0 }

  // Run IMMEDIATE so that the version check and the writes happen under the writer lock. Returns
  // the stats of the same moment, for the result.
  const commitCompaction = db.transaction(
    (room: string, readVersion: number, merged: Uint8Array, upTo: number) => {
      const currentVersion = selectSnapshotVersion.get(room)?.version ?? 0
      const won = currentVersion === readVersion
      if (won) {
        upsertSnapshot.run(room, merged, readVersion + 1)
        deleteLogUpTo.run(room, upTo)
      }
      return { won, after: stats(room) }
    },
  )

  const assertOpen = (): void => {
    if (closed) {
      throw new CoeditError('storage-closed', `SQLite storage ${file} is closed; open a new one`)
    }
  }

  // Every method is async so that synchronous driver errors (SQLITE_BUSY, disk full, closed)
  // reach callers as rejections, like a networked backend's would.
  const loadRoom = async (room: string): Promise<StoredRoom> => {
    assertOpen()
    const { snapshot, log } = readRoom(room)
    const updates = log.map((row) => toBytes(row.data))
    if (snapshot !== undefined) updates.unshift(toBytes(snapshot.data))
    const bytes = updates.reduce((sum, update) => sum + update.byteLength, 0)
    return { updates, bytes, logCount: log.length }
  }

  const appendBatches = async (batches: readonly RoomBatch[]): Promise<void> => {
    assertOpen()
    if (batches.length === 0) return
    if (writer === undefined) appendMany.immediate(batches)
    else await writer.append(batches)
  }

  // One write path: a single room's append is a one-room batch.
  const appendUpdates = (room: string, updates: readonly Uint8Array[]): Promise<void> =>
    appendBatches(updates.length === 0 ? [] : [{ room, updates }])

  const compact = async (room: string, merge: MergeUpdates): Promise<CompactionResult> => {
    assertOpen()
    const { snapshot, log } = readRoom(room)
    const last = log.at(-1)
    if (last === undefined) {
      const snapshotBytes = snapshot?.data.byteLength ?? 0
      return { compacted: false, mergedRows: 0, snapshotBytes, storedBytes: snapshotBytes }
    }
    const upTo = last.id
    // A version of 0 stands for "no snapshot yet"; stored versions start at 1.
    const readVersion = snapshot?.version ?? 0
    const inputs = log.map((row) => toBytes(row.data))
    if (snapshot !== undefined) inputs.unshift(toBytes(snapshot.data))

    const merged = await merge(inputs)

    // The storage may have been closed while the merge ran.
    assertOpen()
    const { won, after } = commitCompaction.immediate(room, readVersion, merged, upTo)
    return {
      compacted: won,
      mergedRows: won ? log.length : 0,
      snapshotBytes: after.snapshotBytes,
      storedBytes: after.snapshotBytes + after.logBytes,
    }
  }

  const roomStats = async (room: string): Promise<{ bytes: number; logCount: number }> => {
    assertOpen()
    const { snapshotBytes, logBytes, logCount } = stats(room)
    return { bytes: snapshotBytes + logBytes, logCount }
  }

  const healthy = async (): Promise<boolean> => {
    assertOpen()
    return selectOne.get()?.one === 1
  }

  const close = async (): Promise<void> => {
    // Idempotent: shutdown paths may close twice; every other method rejects once closed.
    if (closed) return
    closed = true
    await writer?.close()
    db.close()
  }

  return { loadRoom, appendUpdates, appendBatches, compact, roomStats, healthy, close }
}
