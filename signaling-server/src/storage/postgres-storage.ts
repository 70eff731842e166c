/**
 * The PostgreSQL backend of `Storage` (contract in storage.ts), for several server instances
 * sharing one database: every room's update log and merged snapshot, over a `pg` pool.
 *
 * Mirrors sqlite-storage.ts: the same tables (prefixed, see postgres-schema.ts), group commit as
 * one transaction, compaction by optimistic concurrency on the snapshot's version. Knows nothing
 * about Yjs and holds no transaction across the caller's `MergeUpdates`. Loading a room once per
 * instance is the room registry's job (single flight), not this module's.
 *
 * `createPostgresStorage` is synchronous, like the server that calls it: the schema migration
 * starts at once and every call waits for it. A failed migration (database down at start) is
 * retried by the next call, so the server recovers without a restart; until then calls reject
 * and `healthy()` is false.
 */
import pg from 'pg'
import type { PoolClient, PoolConfig } from 'pg'
import { CoeditError } from '@coedit/sdk/protocol'
import { migrate, SCHEMA_NAME, SNAPSHOTS_TABLE, UPDATES_TABLE } from './postgres-schema.js'
import type { CompactionResult, MergeUpdates, RoomBatch, Storage, StoredRoom } from './storage.js'

export interface PostgresStorageOptions {
  /** A PostgreSQL URL, e.g. `postgres://coedit@db.internal:5432/coedit`. */
  readonly connectionString: string
  /**
   * The PostgreSQL schema that holds the tables; created if missing and set as the connections'
   * `search_path`. Lower-case letters, digits and `_`. Default: none — the tables go to the first
   * schema of the role's `search_path` (usually `public`).
   */
  readonly schema?: string
  /** Largest number of connections of this instance. Default 10. */
  readonly maxConnections?: number
  /**
   * How long a call waits for a connection before it rejects (the group commit retries), instead
   * of hanging while the database is unreachable. Default 10 000 ms.
   */
  readonly connectTimeoutMs?: number
  /** `healthy()` answers false when `SELECT 1` takes longer than this. Default 2 000 ms. */
  readonly healthTimeoutMs?: number
  /**
   * Receives errors no call is waiting for: an idle pooled connection failing (the database
   * restarted, a proxy dropped it; the pool opens another when needed) and the migration started
   * at creation failing (the next call migrates again and rejects if it still fails). No data is
   * at stake in either. Default: a process warning.
   */
  readonly onBackgroundError?: (error: Error) => void
}

/** Updates per INSERT statement: 2 parameters a row would hit PostgreSQL's 65 535 far later. */
const ROWS_PER_INSERT = 1_000

/** A row of `selectRoom`: the snapshot (id null) first, then the log in id order. */
interface RoomRow {
  /** bigint, as a decimal string (node-postgres does not narrow int8 to number). */
  readonly id: string | null
  readonly data: Buffer
  /** The snapshot's version (bigint as a string); null for log rows. */
  readonly version: string | null
}

interface StatsRow {
  readonly snapshot_bytes: string
  readonly log_bytes: string
  readonly log_count: string
}

interface RoomState {
  readonly snapshot: { readonly data: Buffer; readonly version: string } | undefined
  readonly log: { readonly id: string; readonly data: Buffer }[]
}

// One statement sees one snapshot of the database, so the snapshot row and the log come from
// the same moment even while another instance compacts (else rows could be seen in neither or
// in both). bytea travels as hex text: node-postgres's binary mode hands bytea over as a
// decoded string, not bytes, so it is no use here.
const selectRoom = `
  SELECT NULL::bigint AS id, data, version FROM ${SNAPSHOTS_TABLE} WHERE room = $1
  UNION ALL
  SELECT id, data, NULL::bigint FROM ${UPDATES_TABLE} WHERE room = $1
  ORDER BY id NULLS FIRST`

// octet_length of a TOASTed bytea reads its header, not the value.
const selectStats = `
  SELECT
    (SELECT COALESCE(SUM(octet_length(data)), 0) FROM ${SNAPSHOTS_TABLE} WHERE room = $1)::text
      AS snapshot_bytes,
    (SELECT COALESCE(SUM(octet_length(data)), 0) FROM ${UPDATES_TABLE} WHERE room = $1)::text
      AS log_bytes,
    (SELECT COUNT(*) FROM ${UPDATES_TABLE} WHERE room = $1)::text AS log_count`

/** A plain Uint8Array over the row's bytes (no copy), as sqlite-storage.ts returns. */
const toBytes = (buffer: Buffer): Uint8Array =>
  new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)

/** Creates the PostgreSQL storage; the schema is created or migrated in the background. */
export const createPostgresStorage = (options: PostgresStorageOptions): Storage => {
  const { schema } = options
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new CoeditError(
      'misuse',
      `PostgreSQL schema "${schema}" is not a plain lower-case name; use letters, digits and _`,
    )
  }
  const healthTimeoutMs = options.healthTimeoutMs ?? 2_000
  const config: PoolConfig = {
    connectionString: options.connectionString,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  }
  const pool = new pg.Pool(config)
  const reportBackgroundError =
    options.onBackgroundError ??
    ((error: Error) => process.emitWarning(`PostgreSQL storage: ${error.message}`))
  // Without a listener, an idle connection's error would be thrown as an uncaught exception.
  pool.on('error', reportBackgroundError)
  let closed = false

  const assertOpen = (): void => {
    if (closed) {
      throw new CoeditError('storage-closed', 'PostgreSQL storage is closed; open a new one')
    }
  }

  /**
   * Runs `work` in one transaction on one connection. A connection whose ROLLBACK fails is
   * broken and is destroyed rather than returned to the pool. Rejects with `work`'s error.
   */
  const transaction = async <T>(work: (client: PoolClient) => Promise<T>): Promise<T> => {
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      const result = await work(client)
      await client.query('COMMIT')
      client.release()
      return result
    } catch (error) {
      try {
        await client.query('ROLLBACK')
        client.release()
      } catch (rollbackError) {
        client.release(rollbackError instanceof Error ? rollbackError : true)
      }
      throw error
    }
  }

  let ready: Promise<void> | undefined
  /** The migration, started once and started again after a failure. */
  const whenReady = (): Promise<void> => {
    ready ??= transaction((client) => migrate(client, schema)).catch((error: unknown) => {
      ready = undefined
      throw error
    })
    return ready
  }
  // Started now so that the first room loads without waiting for it.
  whenReady().catch((error: unknown) =>
    reportBackgroundError(error instanceof Error ? error : new Error(String(error))),
  )

  /** Waits for the schema, then checks again that the storage was not closed meanwhile. */
  const begin = async (): Promise<void> => {
    assertOpen()
    await whenReady()
    assertOpen()
  }

  const readRoom = async (room: string): Promise<RoomState> => {
    const { rows } = await pool.query<RoomRow>(selectRoom, [room])
    let snapshot: RoomState['snapshot']
    const log: RoomState['log'] = []
    for (const row of rows) {
      if (row.id === null) snapshot = { data: row.data, version: row.version ?? '0' }
      else log.push({ id: row.id, data: row.data })
    }
    return { snapshot, log }
  }

  const stats = async (
    client: Pick<PoolClient, 'query'>,
    room: string,
  ): Promise<{ snapshotBytes: number; logBytes: number; logCount: number }> => {
    const { rows } = await client.query<StatsRow>(selectStats, [room])
    const row = rows[0]
    return {
      snapshotBytes: Number(row?.snapshot_bytes ?? 0),
      logBytes: Number(row?.log_bytes ?? 0),
      logCount: Number(row?.log_count ?? 0),
    }
  }

  const loadRoom = async (room: string): Promise<StoredRoom> => {
    await begin()
    const { snapshot, log } = await readRoom(room)
    const updates = log.map((row) => toBytes(row.data))
    if (snapshot !== undefined) updates.unshift(toBytes(snapshot.data))
    const bytes = updates.reduce((sum, update) => sum + update.byteLength, 0)
    return { updates, bytes, logCount: log.length }
  }

  const appendBatches = async (batches: readonly RoomBatch[]): Promise<void> => {
    await begin()
    if (batches.every((batch) => batch.updates.length === 0)) return
    // One transaction, one commit (one WAL flush) for every room of the window. Rows of one
    // VALUES list take their ids in list order, so the log keeps the order of `updates`.
    await transaction(async (client) => {
      for (const { room, updates } of batches) {
        for (let start = 0; start < updates.length; start += ROWS_PER_INSERT) {
          const chunk = updates.slice(start, start + ROWS_PER_INSERT)
          const rows = chunk.map((_, i) => `($1, $${i + 2})`).join(', ')
          await client.query(`INSERT INTO ${UPDATES_TABLE} (room, data) VALUES ${rows}`, [
            room,
            ...chunk,
          ])
        }
      }
    })
  }

  // One write path: a single room's append is a one-room batch.
  const appendUpdates = (room: string, updates: readonly Uint8Array[]): Promise<void> =>
    appendBatches(updates.length === 0 ? [] : [{ room, updates }])

  /**
   * Compaction, optimistic: read the snapshot (version v) and the log without locks, merge with
   * no transaction open, then in one transaction compare-and-set the snapshot from v to v + 1 and
   * delete the log rows that were read. Of two instances that read version v, PostgreSQL lets one
   * write the row; the other's UPDATE (or INSERT … ON CONFLICT DO NOTHING, for a first snapshot)
   * waits for it, re-checks, matches no row, and that transaction changes nothing.
   *
   * The delete names the ids read, not `id <= max id`: a bigserial id is taken at insert and
   * committed later, so a lower id than the newest one read may become visible after the read —
   * an update the merge never saw, which `id <= max` would delete.
   */
  const compact = async (room: string, merge: MergeUpdates): Promise<CompactionResult> => {
    await begin()
    const { snapshot, log } = await readRoom(room)
    if (log.length === 0) {
      const snapshotBytes = snapshot?.data.byteLength ?? 0
      return { compacted: false, mergedRows: 0, snapshotBytes, storedBytes: snapshotBytes }
    }
    // Version 0 stands for "no snapshot yet"; stored versions start at 1.
    const readVersion = snapshot?.version ?? '0'
    const inputs = log.map((row) => toBytes(row.data))
    if (snapshot !== undefined) inputs.unshift(toBytes(snapshot.data))

    const merged = await merge(inputs)

    // The storage may have been closed while the merge ran.
    assertOpen()
    const { won, after } = await transaction(async (client) => {
      const written =
        snapshot === undefined
          ? await client.query(
              `INSERT INTO ${SNAPSHOTS_TABLE} (room, data, version) VALUES ($1, $2, 1)
               ON CONFLICT (room) DO NOTHING`,
              [room, merged],
            )
          : await client.query(
              `UPDATE ${SNAPSHOTS_TABLE} SET data = $2, version = version + 1
               WHERE room = $1 AND version = $3`,
              [room, merged, readVersion],
            )
      const won = written.rowCount === 1
      if (won) {
        await client.query(
          `DELETE FROM ${UPDATES_TABLE} WHERE room = $1 AND id = ANY($2::bigint[])`,
          [room, log.map((row) => row.id)],
        )
      }
      return { won, after: await stats(client, room) }
    })
    return {
      compacted: won,
      mergedRows: won ? log.length : 0,
      snapshotBytes: after.snapshotBytes,
      storedBytes: after.snapshotBytes + after.logBytes,
    }
  }

  const roomStats = async (room: string): Promise<{ bytes: number; logCount: number }> => {
    await begin()
    const { snapshotBytes, logBytes, logCount } = await stats(pool, room)
    return { bytes: snapshotBytes + logBytes, logCount }
  }

  // False, never a rejection, when the database does not answer in time: /healthz reports it.
  // The migration counts: a server that cannot create its tables is not healthy either.
  const healthy = async (): Promise<boolean> => {
    assertOpen()
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), healthTimeoutMs)
    })
    const answer = whenReady()
      .then(() => pool.query<{ one: number }>('SELECT 1 AS one'))
      .then(({ rows }) => rows[0]?.one === 1)
      .catch(() => false)
    try {
      return await Promise.race([answer, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  const close = async (): Promise<void> => {
    // Idempotent: shutdown paths may close twice; every other method rejects once closed.
    if (closed) return
    closed = true
    // Waits for checked-out connections (a commit in flight) to be released.
    await pool.end()
  }

  return { loadRoom, appendUpdates, appendBatches, compact, roomStats, healthy, close }
}
