/**
 * Appends to the SQLite log from a worker thread.
 *
 * better-sqlite3 is synchronous: on the main thread, every commit (an fsync with
 * `synchronous = FULL`) and every WAL checkpoint it triggers would stall every socket of the
 * server — measured as p95/p99 spikes of hundreds of milliseconds under load. The writer owns a
 * second connection to the same WAL database in a worker; the main thread keeps its connection
 * for reads and compaction (SQLite serialises the two writers; `busy_timeout` absorbs the wait).
 *
 * Like the merge worker, it is started from CommonJS source (it must also run from TypeScript
 * sources under Vitest), lazily, `unref()`ed while idle, and replaced after a crash; a crash or
 * failed transaction rejects the appends in flight, which the group commit retries.
 */
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import { CoeditError } from '@coedit/sdk/protocol'
import type { RoomBatch } from './storage.js'

export interface SqliteWriter {
  /** Appends every batch in one durable transaction; resolves after the commit. */
  append(batches: readonly RoomBatch[]): Promise<void>
  /** Stops the worker (after the appends in flight). */
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
    parentPort.postMessage({ id, ok: true })
  } catch (error) {
    parentPort.postMessage({ id, ok: false, message: String((error && error.message) || error) })
  }
})
`

interface Pending {
  resolve: () => void
  reject: (error: Error) => void
}

export const createSqliteWriter = (options: {
  file: string
  busyTimeoutMs: number
}): SqliteWriter => {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3')
  let worker: Worker | null = null
  const pending = new Map<number, Pending>()
  let nextId = 1

  const failAll = (error: Error) => {
    for (const { reject } of pending.values()) reject(error)
    pending.clear()
  }

  const start = (): Worker => {
    const started = new Worker(workerSource, {
      eval: true,
      // A worker inherits the parent's flags; some (e.g. --input-type=module) break CJS source.
      execArgv: [],
      workerData: { driver, file: options.file, busyTimeoutMs: options.busyTimeoutMs },
    })
    started.on('message', (reply: { id: number; ok: boolean; message?: string }) => {
      const waiting = pending.get(reply.id)
      pending.delete(reply.id)
      if (pending.size === 0) started.unref()
      if (waiting === undefined) return
      if (reply.ok) waiting.resolve()
      else {
        waiting.reject(new CoeditError('storage-write-failed', reply.message ?? 'write failed'))
      }
    })
    started.on('error', (error) => {
      if (worker === started) worker = null
      failAll(new CoeditError('storage-writer-crashed', 'SQLite writer crashed', { cause: error }))
    })
    started.on('exit', () => {
      if (worker === started) worker = null
      failAll(new CoeditError('storage-writer-crashed', 'SQLite writer exited'))
    })
    started.unref()
    return started
  }

  return {
    append(batches) {
      if (batches.length === 0) return Promise.resolve()
      worker ??= start()
      const current = worker
      const id = nextId++
      return new Promise<void>((resolve, reject) => {
        pending.set(id, { resolve, reject })
        current.ref()
        current.postMessage({ id, batches })
      })
    },
    async close() {
      const current = worker
      worker = null
      if (current !== null) await current.terminate()
    },
  }
}
