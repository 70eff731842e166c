/**
 * Appends to the SQLite log from a worker thread.
 *
 * better-sqlite3 is synchronous: on the main thread, every commit (an fsync with
 * `synchronous = FULL`) and every WAL checkpoint it triggers would stall every socket of the
 * server — measured as p95/p99 spikes of hundreds of milliseconds under load. The writer owns a
 * second connection to the same WAL database in a worker; the main thread keeps its connection
 * for reads and compaction (SQLite serialises the two writers; `busy_timeout` absorbs the wait).
 *
 * The thread's lifecycle is eval-worker.ts's, as for the merge worker; a crash or a failed
 * transaction rejects the appends in flight, which the group commit retries.
 */
import { createRequire } from 'node:module'
import { CoeditError } from '@coedit/sdk/protocol'
import { createEvalWorker } from './eval-worker.js'
import type { RoomBatch } from './storage.js'

export interface SqliteWriter {
  /** Appends every batch in one durable transaction; resolves after the commit. */
  append(batches: readonly RoomBatch[]): Promise<void>
  /** Stops the worker; appends still in flight are rejected (callers flush first). */
  close(): Promise<void>
}

const workerSource = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const db = new Database(workerData.file)
db.pragma('busy_timeout = ' + workerData.busyTimeoutMs)
db.pragma('journal_mode = WAL')
db.pragma('synchronous = FULL')
const insert = db.prepare('INSERT INTO updates (room, data) VALUES (?, ?)')
const appendMany = db.transaction((batches) => {
  for (const batch of batches) for (const update of batch.updates) insert.run(batch.room, update)
})
parentPort.on('message', ({ id, batches }) => {
  try {
    appendMany.immediate(batches)
    parentPort.postMessage({ id, result: true })
  } catch (error) {
    parentPort.postMessage({ id, error: String((error && error.message) || error) })
  }
})
`

export const createSqliteWriter = (options: {
  file: string
  busyTimeoutMs: number
}): SqliteWriter => {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3')
  const worker = createEvalWorker<{ batches: readonly RoomBatch[] }, true>({
    source: workerSource,
    workerData: { driver, file: options.file, busyTimeoutMs: options.busyTimeoutMs },
    failed: (message) => new CoeditError('storage-write-failed', message),
    crashed: (detail, cause) =>
      new CoeditError('storage-writer-crashed', `SQLite writer crashed: ${detail}`, { cause }),
  })
  return {
    async append(batches) {
      if (batches.length > 0) await worker.request({ batches })
    },
    close: () => worker.destroy(new CoeditError('storage-closed', 'the storage is closed')),
  }
}
