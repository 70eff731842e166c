import { spawn } from 'node:child_process'
import { once } from 'node:events'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Worker } from 'node:worker_threads'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { createMergeWorker, mergeUpdatesInline } from '../src/storage/merge-updates.js'
import { createSqliteStorage } from '../src/storage/sqlite-storage.js'
import type { Storage } from '../src/storage/storage.js'
import {
  appendInBatches,
  bytes,
  describeStorageContract,
  expectSameDoc,
  rebuild,
} from './helpers/storage-contract.js'

// Records the merge workers created, so a test can crash one. Behaviour is otherwise unchanged.
const startedWorkers = vi.hoisted((): Worker[] => [])
vi.mock('node:worker_threads', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:worker_threads')>()
  class RecordedWorker extends actual.Worker {
    constructor(...args: ConstructorParameters<typeof actual.Worker>) {
      super(...args)
      startedWorkers.push(this)
    }
  }
  return { ...actual, Worker: RecordedWorker }
})

/** The most recently started merge worker. */
const lastWorker = (): Worker => {
  const worker = startedWorkers.at(-1)
  if (worker === undefined) throw new Error('no merge worker has started yet')
  return worker
}

const cleanups: (() => Promise<void> | void)[] = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A fresh temporary directory, removed after the test. */
const tempDir = (): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coedit-'))
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A storage closed after the test (closing twice is allowed). */
const openStorage = (dir: string): Storage => {
  const storage = createSqliteStorage({ dir })
  cleanups.push(() => storage.close())
  return storage
}

/**
 * A realistic editing history: `count` single-character inserts and deletes (a `deleteRate`
 * share), each its own update, made by one or two `authors` on two clients that exchange their
 * updates. Inserts go at the end of the text except for a `middleRate` share. Seeded, so a
 * failure replays.
 */
const recordEditing = (
  count: number,
  {
    seed = 7,
    deleteRate = 0.25,
    middleRate = 0.15,
    authors = 2,
  }: { seed?: number; deleteRate?: number; middleRate?: number; authors?: 1 | 2 } = {},
): { doc: Y.Doc; updates: Uint8Array[] } => {
  let state = seed
  const random = (): number => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31
    return state / 2 ** 31
  }
  const docs = [new Y.Doc(), new Y.Doc()] as const
  const updates: Uint8Array[] = []
  for (const [index, doc] of docs.entries()) {
    const other = docs[1 - index] as Y.Doc
    doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === 'remote') return
      updates.push(update)
      Y.applyUpdate(other, update, 'remote')
    })
  }
  for (let i = 0; i < count; i++) {
    const text = docs[authors === 1 || i % 7 < 5 ? 0 : 1].getText('text')
    if (text.length > 0 && random() < deleteRate) {
      text.delete(Math.floor(random() * text.length), 1)
    } else {
      const at = random() >= middleRate ? text.length : Math.floor(random() * (text.length + 1))
      text.insert(at, String.fromCharCode(97 + (i % 26)))
    }
  }
  return { doc: docs[0], updates }
}

describeStorageContract({
  name: 'SQLite',
  createDatabase: async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coedit-contract-'))
    return {
      open: () => createSqliteStorage({ dir }),
      dispose: async () => fs.rmSync(dir, { recursive: true, force: true }),
    }
  },
  // A value SQLite cannot bind fails the statement.
  poisonedBatch: { room: 'c', updates: [{} as unknown as Uint8Array] },
})

/** What only SQLite has: its file, WAL mode, its schema version, its merge worker. */
describe('createSqliteStorage', () => {
  it('keeps the log and the snapshot across close and reopen, in WAL mode', async () => {
    const dir = path.join(tempDir(), 'nested', 'data')
    const { doc, updates } = recordEditing(300)
    const first = openStorage(dir)
    await appendInBatches(first, 'room', updates.slice(0, 200), 25)
    await first.compact('room', mergeUpdatesInline)
    await appendInBatches(first, 'room', updates.slice(200), 25)
    await first.close()

    const file = path.join(dir, 'coedit.sqlite')
    const raw = new Database(file, { readonly: true })
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(raw.pragma('user_version', { simple: true })).toBe(1)
    raw.close()

    const reopened = openStorage(dir)
    const room = await reopened.loadRoom('room')
    expect(room.logCount).toBe(100)
    expect(room.updates).toHaveLength(101)
    expectSameDoc(rebuild(room.updates), doc)
  })

  it.each([
    // Y.mergeUpdates would leave this one at 5× (it keeps every keystroke a separate item).
    { history: 'one person typing', authors: 1, deleteRate: 0.02, middleRate: 0.02 },
    { history: 'two people editing', authors: 2, deleteRate: 0.25, middleRate: 0.15 },
  ] as const)(
    'compacts 2,000 keystrokes of $history to at most 3× the compact state, in the worker',
    async (options) => {
      const storage = openStorage(tempDir())
      const worker = createMergeWorker()
      cleanups.push(() => worker.destroy())
      const { doc, updates } = recordEditing(2_000, options)
      expect(updates).toHaveLength(2_000)
      await appendInBatches(storage, 'room', updates, 40)

      const result = await storage.compact('room', worker.merge)
      expect(result).toMatchObject({ compacted: true, mergedRows: 2_000 })
      const stats = await storage.roomStats('room')
      expect(stats).toEqual({ bytes: result.storedBytes, logCount: 0 })
      expect(stats.bytes).toBeLessThanOrEqual(3 * Y.encodeStateAsUpdate(doc).length)
      expectSameDoc(rebuild((await storage.loadRoom('room')).updates), doc)
    },
  )

  it('refuses a database written by a newer schema', () => {
    const dir = tempDir()
    const raw = new Database(path.join(dir, 'coedit.sqlite'))
    raw.pragma('user_version = 99')
    raw.close()
    expect(() => createSqliteStorage({ dir })).toThrow(
      expect.objectContaining({ code: 'storage-schema-too-new' }),
    )
  })

  it('uses the given file name', async () => {
    const dir = tempDir()
    const storage = openStorage(dir)
    await storage.close()
    const named = createSqliteStorage({ dir, fileName: 'other.db' })
    cleanups.push(() => named.close())
    expect(fs.existsSync(path.join(dir, 'other.db'))).toBe(true)
  })
})

describe('createMergeWorker', () => {
  const useWorker = (): ReturnType<typeof createMergeWorker> => {
    const worker = createMergeWorker()
    cleanups.push(() => worker.destroy())
    return worker
  }

  it('gives the bytes of the inline merge and the document of Y.mergeUpdates', async () => {
    const { merge } = useWorker()
    const { doc, updates } = recordEditing(1_000)
    const lengths = updates.map((update) => update.byteLength)

    const merged = await merge(updates)
    expect(merged).toEqual(await mergeUpdatesInline(updates))
    expectSameDoc(rebuild([merged]), doc)
    expectSameDoc(rebuild([merged]), rebuild([Y.mergeUpdates(updates)]))
    // The inputs were copied, not transferred away.
    expect(updates.map((update) => update.byteLength)).toEqual(lengths)
    expect(await merge([])).toEqual(await mergeUpdatesInline([]))
    // A merged update merges again to itself.
    expect(await merge([merged])).toEqual(merged)
  })

  it('keeps updates whose dependencies are missing, inline and in the worker', async () => {
    const { merge } = useWorker()
    const { doc, updates } = recordEditing(300)
    const [early, late] = [updates.slice(0, 20), updates.slice(20)]
    for (const mergeLate of [merge, mergeUpdatesInline]) {
      const merged = await mergeLate(late)
      expectSameDoc(rebuild([merged, ...early]), doc)
    }
  })

  it('answers many concurrent merges, each with its own result', async () => {
    const { merge } = useWorker()
    const histories = Array.from({ length: 20 }, (_, i) =>
      recordEditing(50 + i * 10, { seed: i + 1 }),
    )
    const results = await Promise.all(
      histories.map(async ({ updates }) => ({ updates, merged: await merge(updates) })),
    )
    for (const { updates, merged } of results) {
      expect(merged).toEqual(await mergeUpdatesInline(updates))
    }
  })

  it('keeps the event loop turning while it merges', async () => {
    const { merge } = useWorker()
    const { updates } = recordEditing(2_000)
    let settled = false
    const merging = merge(updates).finally(() => {
      settled = true
    })
    // An inline merge would settle before the next event-loop turn; the worker cannot.
    await new Promise((resolve) => setImmediate(resolve))
    expect(settled).toBe(false)
    expect(await merging).toEqual(await mergeUpdatesInline(updates))
  })

  it('rejects updates Yjs cannot decode and keeps serving', async () => {
    const { merge } = useWorker()
    const { updates } = recordEditing(50)
    await expect(merge([bytes(255, 255, 255, 255), ...updates])).rejects.toMatchObject({
      code: 'merge-failed',
    })
    expect(await merge(updates)).toEqual(await mergeUpdatesInline(updates))
  })

  it('rejects merges in flight when the worker crashes, then starts a fresh worker', async () => {
    const { merge } = useWorker()
    const { updates } = recordEditing(200)
    await merge(updates)
    const crashed = lastWorker()
    // A message the worker does not understand throws outside its try: an uncaught exception
    // that kills it before it reaches the merges queued behind.
    crashed.postMessage(null)
    const inFlight = [merge(updates), merge(updates)].map((merging) =>
      expect(merging).rejects.toMatchObject({ code: 'merge-worker-crashed' }),
    )
    await Promise.all(inFlight)
    expect(await merge(updates)).toEqual(await mergeUpdatesInline(updates))
    expect(lastWorker()).not.toBe(crashed)
  })

  it('survives destroy and can be used again', async () => {
    const worker = useWorker()
    await worker.destroy()
    const { updates } = recordEditing(200)
    expect(await worker.merge(updates)).toEqual(await mergeUpdatesInline(updates))

    const inFlight = expect(worker.merge(updates)).rejects.toMatchObject({
      code: 'merge-worker-destroyed',
    })
    const first = lastWorker()
    const exited = once(first, 'exit')
    await worker.destroy()
    await inFlight
    await exited

    expect(await worker.merge(updates)).toEqual(await mergeUpdatesInline(updates))
    expect(lastWorker()).not.toBe(first)
  })

  it('does not keep the process alive once idle', async () => {
    const module = fileURLToPath(new URL('../src/storage/merge-updates.ts', import.meta.url))
    const script = `
      import { createMergeWorker } from ${JSON.stringify(module)}
      const merged = await createMergeWorker().merge([new Uint8Array([0, 0])])
      console.log('merged', merged.length)
    `
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        cwd: path.dirname(module),
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    )
    // Kills the child if the test times out, so a regression does not leave it running.
    cleanups.push(() => {
      child.kill()
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    // Without unref() the child never exits and the test times out.
    const [code] = await once(child, 'exit')
    expect(code).toBe(0)
    expect(output.trim()).toBe('merged 2')
  })
})
