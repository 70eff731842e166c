/**
 * The PostgreSQL schema of the Coedit storage and its migrations (postgres-storage.ts uses it).
 *
 * Owns table names and the `coedit_schema_version` bookkeeping. Migrating is safe when several
 * servers start on one database at once: it runs in one transaction under a transaction-scoped
 * advisory lock, so the second server waits and then finds the schema current. `CREATE … IF NOT
 * EXISTS` alone is not enough: two concurrent creations of one table fail with a unique violation
 * in the catalog.
 */
import type { PoolClient } from 'pg'
import { CoeditError } from '@coedit/sdk/protocol'

/** Table names; prefixed so that the storage can share a database (and a schema) with others. */
export const UPDATES_TABLE = 'coedit_updates'
export const SNAPSHOTS_TABLE = 'coedit_snapshots'
export const SCHEMA_VERSION_TABLE = 'coedit_schema_version'

/**
 * Key of the advisory lock that serialises migrations, database-wide (one constant for every
 * schema: migrations are rare and short, so schemas need not migrate in parallel).
 * "coedit" in ASCII, as a number (PostgreSQL 15 has no hex literals).
 */
const MIGRATION_LOCK_KEY = '109330093599092'

/**
 * Schema changes, in order; entry i migrates version i to i + 1. Append, never edit: databases
 * written by older servers are brought up to date at start.
 */
export const MIGRATIONS: readonly string[] = [
  // bigserial ids give log order; they are never reused, but they are handed out at insert time,
  // not commit time, so compaction deletes the exact ids it read (see postgres-storage.ts).
  `CREATE TABLE IF NOT EXISTS ${UPDATES_TABLE} (
     id bigserial PRIMARY KEY,
     room text NOT NULL,
     data bytea NOT NULL
   );
   CREATE INDEX IF NOT EXISTS ${UPDATES_TABLE}_room_id ON ${UPDATES_TABLE} (room, id);
   CREATE TABLE IF NOT EXISTS ${SNAPSHOTS_TABLE} (
     room text PRIMARY KEY,
     data bytea NOT NULL,
     version bigint NOT NULL
   );`,
]

/** Valid names for the `schema` option: plain lower-case identifiers, never quoted. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/

/**
 * Creates or upgrades the schema on `client`, which must be inside a transaction (the caller
 * commits). With `schema`, the PostgreSQL schema is created first; the client's `search_path`
 * must name it. Rejects with `storage-schema-too-new` for a database migrated by a newer server.
 */
export const migrate = async (client: PoolClient, schema: string | undefined): Promise<void> => {
  // Held until the transaction ends: a second server blocks here, then sees the new version.
  await client.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`)
  if (schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`)
  // At most one row: `one` is its primary key and can only be true.
  await client.query(`CREATE TABLE IF NOT EXISTS ${SCHEMA_VERSION_TABLE} (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    version integer NOT NULL
  )`)
  const { rows } = await client.query<{ version: number }>(
    `SELECT version FROM ${SCHEMA_VERSION_TABLE}`,
  )
  const version = rows[0]?.version ?? 0
  if (version > MIGRATIONS.length) {
    throw new CoeditError(
      'storage-schema-too-new',
      `The database has Coedit schema version ${version} but this server knows only up to ` +
        `${MIGRATIONS.length}; upgrade the server or point it at another database or schema`,
    )
  }
  for (const migration of MIGRATIONS.slice(version)) await client.query(migration)
  await client.query(
    `INSERT INTO ${SCHEMA_VERSION_TABLE} (version) VALUES ($1)
     ON CONFLICT (one) DO UPDATE SET version = excluded.version`,
    [MIGRATIONS.length],
  )
}
