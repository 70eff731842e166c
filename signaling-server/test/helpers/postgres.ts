/**
 * Test helpers: a real PostgreSQL, one fresh schema per test so that test files (and tests) never
 * see each other's rows. The server is `COEDIT_TEST_POSTGRES_URL`, by default the machine's own
 * (`postgres://postgres@127.0.0.1:5432/test`). Unreachable is a failure, never a skip: a skipped
 * storage suite would look like a passing one.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'

export const POSTGRES_URL =
  process.env['COEDIT_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'

/** Runs one statement on a short-lived connection of its own. */
export const adminQuery = async <R extends pg.QueryResultRow = pg.QueryResultRow>(
  text: string,
  values: unknown[] = [],
): Promise<R[]> => {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 5_000 })
  await client.connect()
  try {
    return (await client.query<R>(text, values)).rows
  } finally {
    await client.end()
  }
}

/** Rejects with instructions when the test database does not answer. */
export const requirePostgres = async (): Promise<void> => {
  try {
    await adminQuery('SELECT 1')
  } catch (error) {
    const where = process.env['CI'] === undefined ? 'this machine' : 'CI'
    throw new Error(
      `PostgreSQL is not reachable at ${POSTGRES_URL} (${String(error)}). The PostgreSQL ` +
        `storage tests need a real server on ${where}: start one, or set ` +
        'COEDIT_TEST_POSTGRES_URL to a database the tests may create schemas in.',
      { cause: error },
    )
  }
}

export interface TestSchema {
  /** `coedit_test_<random>`, created empty. */
  readonly name: string
  /** `POSTGRES_URL` with this schema as the `search_path` (for `postgresUrl`). */
  readonly url: string
  /** Drops the schema and everything in it. */
  drop(): Promise<void>
}

/** Creates a fresh, empty schema. */
export const createTestSchema = async (): Promise<TestSchema> => {
  const name = `coedit_test_${randomBytes(6).toString('hex')}`
  await adminQuery(`CREATE SCHEMA ${name}`)
  const url = new URL(POSTGRES_URL)
  url.searchParams.set('options', `-c search_path=${name}`)
  return {
    name,
    url: url.toString(),
    drop: async () => {
      await adminQuery(`DROP SCHEMA IF EXISTS ${name} CASCADE`)
    },
  }
}
