/**
 * The PostgreSQL storage against a real PostgreSQL (helpers/postgres.ts; unreachable fails, never
 * skips): the shared storage contract (which sqlite-storage.test.ts runs for SQLite, so that both
 * backends keep one behaviour); then what only PostgreSQL has — concurrent migrations, health over the network, and
 * two servers sharing one database.
 */
import fs from 'node:fs'
import net from 'node:net'
import pg from 'pg'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresStorage } from '../src/storage/postgres-storage.js'
import type { PostgresStorageOptions } from '../src/storage/postgres-storage.js'
import type { Storage } from '../src/storage/storage.js'
import {
  adminQuery,
  createTestSchema,
  POSTGRES_URL,
  requirePostgres,
  type TestSchema,
} from './helpers/postgres.js'
import { connectRelay, type TestRelayClient } from './helpers/relay-client.js'
import { startServer } from './helpers/server.js'
import {
  bytes,
  describeStorageContract,
  expectSameDoc,
  gatedMerge,
  rebuild,
  recordEditing,
} from './helpers/storage-contract.js'
import { until } from './helpers/wait.js'

beforeAll(requirePostgres)

/** Errors no call waits for would otherwise be process warnings; a test fails on any. */
const failOnBackgroundError = (error: Error): void => {
  throw new Error(`unexpected PostgreSQL background error: ${error.message}`)
}

const openPostgres = (schema: TestSchema, options: Partial<PostgresStorageOptions> = {}): Storage =>
  createPostgresStorage({
    connectionString: POSTGRES_URL,
    schema: schema.name,
    onBackgroundError: failOnBackgroundError,
    ...options,
  })

describeStorageContract({
  name: 'PostgreSQL',
  createDatabase: async () => {
    const schema = await createTestSchema()
    return { open: () => openPostgres(schema), dispose: () => schema.drop() }
  },
  // PostgreSQL text cannot hold NUL: the statement fails after the first room's insert ran.
  poisonedBatch: { room: 'bad\u0000room', updates: [bytes(1)] },
})

describe('createPostgresStorage', () => {
  const cleanups: (() => Promise<void> | void)[] = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  const freshSchema = async (): Promise<TestSchema> => {
    const schema = await createTestSchema()
    cleanups.push(() => schema.drop())
    return schema
  }

  const open = (schema: TestSchema, options: Partial<PostgresStorageOptions> = {}): Storage => {
    const storage = openPostgres(schema, options)
    cleanups.push(() => storage.close())
    return storage
  }

  /** A port nothing listens on (taken, then released). */
  const deadPort = async (): Promise<number> => {
    const server = net.createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as net.AddressInfo
    await new Promise<void>((resolve) => server.close(() => resolve()))
    return port
  }

  it('stores updates as bytea in log order, in the schema it was given', async () => {
    const schema = await freshSchema()
    const storage = open(schema)
    await storage.appendUpdates('room', [bytes(0, 255), bytes(7)])
    const rows = await adminQuery<{ id: string; data: Buffer }>(
      `SELECT id, data FROM ${schema.name}.coedit_updates WHERE room = 'room' ORDER BY id`,
    )
    expect(rows.map((row) => [...row.data])).toEqual([[0, 255], [7]])
    expect(BigInt(rows[1]?.id ?? 0)).toBeGreaterThan(BigInt(rows[0]?.id ?? 0))
    const types = await adminQuery<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns
       WHERE table_schema = $1 AND table_name = 'coedit_updates' ORDER BY column_name`,
      [schema.name],
    )
    expect(types).toEqual([
      { column_name: 'data', data_type: 'bytea' },
      { column_name: 'id', data_type: 'bigint' },
      { column_name: 'room', data_type: 'text' },
    ])
  })

  it('rolls back the whole group commit when the database refuses one row', async () => {
    const schema = await freshSchema()
    const storage = open(schema)
    await storage.appendUpdates('a', [bytes(1)])
    // A trigger that fails the transaction on the last row, after every other row was inserted.
    await adminQuery(`
      CREATE FUNCTION ${schema.name}.refuse() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'refused by test'; END $$;
      CREATE TRIGGER refuse BEFORE INSERT ON ${schema.name}.coedit_updates
      FOR EACH ROW WHEN (NEW.room = 'explode') EXECUTE FUNCTION ${schema.name}.refuse();`)
    await expect(
      storage.appendBatches([
        { room: 'a', updates: [bytes(2), bytes(3)] },
        { room: 'b', updates: [bytes(4)] },
        { room: 'explode', updates: [bytes(5)] },
      ]),
    ).rejects.toThrow('refused by test')
    const counts = await adminQuery<{ count: string }>(
      `SELECT COUNT(*)::text AS count FROM ${schema.name}.coedit_updates`,
    )
    expect(counts).toEqual([{ count: '1' }])
    expect((await storage.loadRoom('a')).updates).toEqual([bytes(1)])
  })

  it('keeps a row with a lower id that commits after the compaction read the log', async () => {
    const schema = await freshSchema()
    const storage = open(schema)
    const { doc, updates } = recordEditing(40)
    await storage.appendUpdates('room', updates.slice(0, 20))
    // Another instance's group commit: its id is taken now, its commit comes later.
    const slow = new pg.Client({ connectionString: schema.url })
    await slow.connect()
    cleanups.push(() => slow.end())
    await slow.query('BEGIN')
    await slow.query('INSERT INTO coedit_updates (room, data) VALUES ($1, $2)', [
      'room',
      updates[39],
    ])
    await storage.appendUpdates('room', updates.slice(20, 39))

    const gate = gatedMerge()
    const compaction = storage.compact('room', gate.merge)
    await gate.started
    await slow.query('COMMIT')
    gate.release()

    expect(await compaction).toMatchObject({ compacted: true, mergedRows: 39 })
    const room = await storage.loadRoom('room')
    expect(room.logCount).toBe(1)
    expectSameDoc(rebuild(room.updates), doc)
  })

  it('migrates once when several instances start at once, and again without change', async () => {
    const schema = await freshSchema()
    const storages = Array.from({ length: 4 }, () => open(schema))
    expect(await Promise.all(storages.map((storage) => storage.healthy()))).toEqual([
      true,
      true,
      true,
      true,
    ])
    await Promise.all(storages.map((storage, i) => storage.appendUpdates('room', [bytes(i)])))
    const again = open(schema)
    expect((await again.loadRoom('room')).logCount).toBe(4)
    expect(await adminQuery(`SELECT version FROM ${schema.name}.coedit_schema_version`)).toEqual([
      { version: 1 },
    ])
  })

  it('creates a schema that does not exist yet', async () => {
    const schema = await freshSchema()
    await schema.drop()
    const storage = open(schema)
    await storage.appendUpdates('room', [bytes(1)])
    expect((await storage.loadRoom('room')).updates).toEqual([bytes(1)])
  })

  it('refuses a database migrated by a newer server, in every call and in health', async () => {
    const schema = await freshSchema()
    await open(schema).healthy()
    await adminQuery(`UPDATE ${schema.name}.coedit_schema_version SET version = 99`)
    const reported: Error[] = []
    const newer = open(schema, { onBackgroundError: (error) => reported.push(error) })
    await expect(newer.loadRoom('room')).rejects.toMatchObject({
      code: 'storage-schema-too-new',
    })
    await expect(newer.appendUpdates('room', [bytes(1)])).rejects.toMatchObject({
      code: 'storage-schema-too-new',
    })
    expect(await newer.healthy()).toBe(false)
    expect(reported).toEqual([expect.objectContaining({ code: 'storage-schema-too-new' })])
  })

  it('is unhealthy and rejects (never swallows) when the database is unreachable', async () => {
    const schema = await freshSchema()
    const url = new URL(POSTGRES_URL)
    url.port = String(await deadPort())
    const reported: Error[] = []
    const storage = open(schema, {
      connectionString: url.toString(),
      onBackgroundError: (error) => reported.push(error),
    })
    expect(await storage.healthy()).toBe(false)
    await expect(storage.appendUpdates('room', [bytes(1)])).rejects.toThrow(/ECONNREFUSED/)
    await expect(storage.loadRoom('room')).rejects.toThrow(/ECONNREFUSED/)
    expect(reported.length).toBeGreaterThan(0)
  })

  it('answers health within its timeout when the database does not answer', async () => {
    // A listener that accepts connections and never speaks: PostgreSQL stuck, or a black hole.
    const silent = net.createServer(() => undefined)
    const sockets = new Set<net.Socket>()
    silent.on('connection', (socket) => sockets.add(socket))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy()
          silent.close(() => resolve())
        }),
    )
    const url = new URL(POSTGRES_URL)
    url.port = String((silent.address() as net.AddressInfo).port)
    const schema = await freshSchema()
    const storage = open(schema, {
      connectionString: url.toString(),
      healthTimeoutMs: 200,
      connectTimeoutMs: 1_000,
      onBackgroundError: () => undefined,
    })
    expect(await storage.healthy()).toBe(false)
  })

  it('refuses a schema name it would have to quote', () => {
    expect(() =>
      createPostgresStorage({ connectionString: POSTGRES_URL, schema: 'x"; DROP' }),
    ).toThrow(expect.objectContaining({ code: 'misuse' }))
  })

  it('persists an edit through one server that a second server on the database loads', async () => {
    const schema = await freshSchema()
    const first = await startServer({ postgresUrl: schema.url })
    cleanups.push(() => first.close())
    const clients: TestRelayClient[] = []
    cleanups.push(() => {
      for (const client of clients) client.close()
    })

    const writer = connectRelay(first.wsUrl, 'shared-notes', { coedit: true })
    clients.push(writer)
    await until('the writer synced', () => writer.synced, [[writer.events, 'synced']])
    writer.doc.getText('text').insert(0, 'stored in PostgreSQL')
    await until('the edit saved', () => writer.isSaved(), [[writer.events, 'saved']])

    const second = await startServer({ postgresUrl: schema.url })
    cleanups.push(() => second.close())
    const reader = connectRelay(second.wsUrl, 'shared-notes')
    clients.push(reader)
    await until('the reader synced', () => reader.synced, [[reader.events, 'synced']])
    expect(reader.doc.getText('text').toString()).toBe('stored in PostgreSQL')
    // Neither server wrote SQLite.
    expect(fs.readdirSync(first.dataDir)).toEqual([])
  })
})
