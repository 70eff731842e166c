/**
 * The `Storage` contract (src/storage/storage.ts) as one suite that every backend runs: order of
 * the log, all-or-nothing group commit, compaction that keeps concurrent appends and lets exactly
 * one of two instances win, and closed storages rejecting. Backend details (files, schemas,
 * drivers) stay in each backend's own test file.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { mergeUpdatesInline } from '../../src/storage/merge-updates.js'
import type { MergeUpdates, RoomBatch, Storage } from '../../src/storage/storage.js'

/** One empty database of the backend; `open()` twice gives two instances, like two servers. */
export interface StorageDatabase {
  open(): Storage
  /** Removes the database; the suite has closed every storage it opened. */
  dispose(): Promise<void>
}

export interface StorageBackend {
  readonly name: string
  /** A fresh, empty database. */
  createDatabase(): Promise<StorageDatabase>
  /** A batch the backend must refuse (a value it cannot store). */
  readonly poisonedBatch: RoomBatch
}

export const bytes = (...values: number[]): Uint8Array => new Uint8Array(values)

const deferred = (): { promise: Promise<void>; resolve: () => void } => {
  let resolve: () => void = () => undefined
  const promise = new Promise<void>((settle) => {
    resolve = settle
  })
  return { promise, resolve }
}

/** A merge that signals when it starts and finishes only when released. */
export const gatedMerge = (): {
  merge: MergeUpdates
  started: Promise<void>
  release: () => void
} => {
  const { promise: started, resolve: start } = deferred()
  const { promise: released, resolve: release } = deferred()
  const merge: MergeUpdates = async (updates) => {
    start()
    await released
    return mergeUpdatesInline(updates)
  }
  return { merge, started, release: () => release() }
}

/** `count` one-character edits of one author, one update each (deterministic). */
export const recordEditing = (count: number): { doc: Y.Doc; updates: Uint8Array[] } => {
  const doc = new Y.Doc()
  const updates: Uint8Array[] = []
  doc.on('update', (update: Uint8Array) => updates.push(update))
  const text = doc.getText('text')
  for (let i = 0; i < count; i++) {
    if (i % 5 === 4) text.delete((i * 7) % text.length, 1)
    else text.insert((i * 3) % (text.length + 1), String.fromCharCode(97 + (i % 26)))
  }
  return { doc, updates }
}

export const rebuild = (updates: readonly Uint8Array[]): Y.Doc => {
  const doc = new Y.Doc()
  for (const update of updates) Y.applyUpdate(doc, update)
  return doc
}

export const expectSameDoc = (actual: Y.Doc, expected: Y.Doc): void => {
  expect(actual.store.pendingStructs).toBeNull()
  expect(actual.getText('text').toString()).toBe(expected.getText('text').toString())
  expect(Y.encodeStateVector(actual)).toEqual(Y.encodeStateVector(expected))
}

export const appendInBatches = async (
  storage: Storage,
  room: string,
  updates: readonly Uint8Array[],
  batchSize: number,
): Promise<void> => {
  for (let i = 0; i < updates.length; i += batchSize) {
    await storage.appendUpdates(room, updates.slice(i, i + batchSize))
  }
}

export const describeStorageContract = (backend: StorageBackend): void => {
  describe(`Storage contract: ${backend.name}`, () => {
    const cleanups: (() => Promise<void>)[] = []
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
    })

    /** A fresh database whose storages are closed (and the database removed) after the test. */
    const freshDatabase = async (): Promise<{ open(): Storage }> => {
      const database = await backend.createDatabase()
      cleanups.push(() => database.dispose())
      return {
        open: () => {
          const storage = database.open()
          cleanups.push(() => storage.close())
          return storage
        },
      }
    }

    it('loads appended batches in append order, room by room', async () => {
      const storage = (await freshDatabase()).open()
      expect(await storage.loadRoom('a')).toEqual({ updates: [], bytes: 0, logCount: 0 })

      await storage.appendUpdates('a', [bytes(1), bytes(2, 2), bytes(3)])
      await storage.appendUpdates('b', [bytes(9)])
      await storage.appendUpdates('a', [])
      await storage.appendBatches([])
      await storage.appendBatches([
        { room: 'a', updates: [bytes(4, 4, 4), bytes(5)] },
        { room: 'b', updates: [bytes(10)] },
      ])

      const room = await storage.loadRoom('a')
      expect(room.updates).toEqual([bytes(1), bytes(2, 2), bytes(3), bytes(4, 4, 4), bytes(5)])
      expect(room.updates.every((update) => update.constructor === Uint8Array)).toBe(true)
      expect(room).toMatchObject({ bytes: 8, logCount: 5 })
      expect(await storage.roomStats('a')).toEqual({ bytes: 8, logCount: 5 })
      expect((await storage.loadRoom('b')).updates).toEqual([bytes(9), bytes(10)])
      expect(await storage.roomStats('nobody')).toEqual({ bytes: 0, logCount: 0 })
    })

    it('keeps the order of a batch larger than one statement', async () => {
      const storage = (await freshDatabase()).open()
      const updates = Array.from({ length: 2_500 }, (_, i) => bytes(i % 256, i >> 8))
      await storage.appendBatches([
        { room: 'big', updates },
        { room: 'small', updates: [bytes(7)] },
      ])
      expect((await storage.loadRoom('big')).updates).toEqual(updates)
      expect(await storage.roomStats('big')).toEqual({ bytes: 5_000, logCount: 2_500 })
    })

    it("appends several rooms' batches in one transaction, all or nothing", async () => {
      const storage = (await freshDatabase()).open()
      await storage.appendBatches([{ room: 'a', updates: [bytes(1), bytes(2)] }])
      const poisoned = [
        { room: 'a', updates: [bytes(4)] },
        { room: 'b', updates: [bytes(5)] },
        backend.poisonedBatch,
      ]
      await expect(storage.appendBatches(poisoned)).rejects.toThrow()
      expect((await storage.loadRoom('a')).updates).toEqual([bytes(1), bytes(2)])
      expect(await storage.roomStats('b')).toEqual({ bytes: 0, logCount: 0 })
      // The storage still works after the failed transaction.
      await storage.appendUpdates('a', [bytes(3)])
      expect((await storage.loadRoom('a')).updates).toEqual([bytes(1), bytes(2), bytes(3)])
    })

    it('compacts into one snapshot that rebuilds the same document', async () => {
      const storage = (await freshDatabase()).open()
      const { doc, updates } = recordEditing(300)
      await appendInBatches(storage, 'room', updates, 13)
      const result = await storage.compact('room', mergeUpdatesInline)
      expect(result).toMatchObject({ compacted: true, mergedRows: 300 })
      const room = await storage.loadRoom('room')
      expect(room).toMatchObject({ logCount: 0, bytes: result.snapshotBytes })
      expect(result.storedBytes).toBe(result.snapshotBytes)
      expect(room.updates).toHaveLength(1)
      expectSameDoc(rebuild(room.updates), doc)
    })

    it('keeps updates appended while a compaction is merging', async () => {
      const storage = (await freshDatabase()).open()
      const { doc, updates } = recordEditing(400)
      await appendInBatches(storage, 'room', updates.slice(0, 300), 10)

      const gate = gatedMerge()
      const compaction = storage.compact('room', gate.merge)
      await gate.started
      const late = updates.slice(300)
      await appendInBatches(storage, 'room', late, 10)
      gate.release()

      const result = await compaction
      expect(result).toMatchObject({ compacted: true, mergedRows: 300 })
      const room = await storage.loadRoom('room')
      expect(room.logCount).toBe(100)
      expect(room.updates.slice(1)).toEqual(late)
      expect(result.storedBytes).toBe(room.bytes)
      expectSameDoc(rebuild(room.updates), doc)
    })

    it.each([
      { snapshot: 'without a snapshot yet', compactFirst: false },
      { snapshot: 'over an existing snapshot', compactFirst: true },
    ])(
      'lets exactly one of two instances compacting at once win, $snapshot',
      async ({ compactFirst }) => {
        const database = await freshDatabase()
        const [one, two] = [database.open(), database.open()]
        const { doc, updates } = recordEditing(300)
        await appendInBatches(one, 'room', updates.slice(0, 150), 10)
        if (compactFirst) await one.compact('room', mergeUpdatesInline)
        await appendInBatches(two, 'room', updates.slice(150, 250), 10)
        const before = await one.loadRoom('room')

        const gates = [gatedMerge(), gatedMerge()] as const
        const compactions = [
          one.compact('room', gates[0].merge),
          two.compact('room', gates[1].merge),
        ]
        await Promise.all(gates.map((gate) => gate.started))
        await appendInBatches(one, 'room', updates.slice(250), 10)
        for (const gate of gates) gate.release()
        const results = await Promise.all(compactions)

        expect(results.map((result) => result.compacted).sort()).toEqual([false, true])
        expect(results.find((result) => result.compacted)?.mergedRows).toBe(before.logCount)
        expect(results.find((result) => !result.compacted)?.mergedRows).toBe(0)
        const room = await two.loadRoom('room')
        expect(room.logCount).toBe(50)
        expect(room.updates.slice(1)).toEqual(updates.slice(250))
        expectSameDoc(rebuild(room.updates), doc)

        // The loser changed nothing, so the next compaction merges the remaining rows.
        expect(await two.compact('room', mergeUpdatesInline)).toMatchObject({
          compacted: true,
          mergedRows: 50,
        })
        expectSameDoc(rebuild((await one.loadRoom('room')).updates), doc)
      },
    )

    it('reports nothing to compact without calling merge when the log is empty', async () => {
      const storage = (await freshDatabase()).open()
      const merge = vi.fn(mergeUpdatesInline)
      expect(await storage.compact('empty', merge)).toEqual({
        compacted: false,
        mergedRows: 0,
        snapshotBytes: 0,
        storedBytes: 0,
      })
      await storage.appendUpdates('room', recordEditing(20).updates)
      const { snapshotBytes } = await storage.compact('room', merge)
      expect(await storage.compact('room', merge)).toEqual({
        compacted: false,
        mergedRows: 0,
        snapshotBytes,
        storedBytes: snapshotBytes,
      })
      expect(merge).toHaveBeenCalledTimes(1)
    })

    it('rejects a failed merge and keeps the log untouched', async () => {
      const storage = (await freshDatabase()).open()
      const { updates } = recordEditing(30)
      await storage.appendUpdates('room', updates)
      await expect(
        storage.compact('room', () => Promise.reject(new Error('merge exploded'))),
      ).rejects.toThrow('merge exploded')
      expect((await storage.loadRoom('room')).updates).toEqual(updates)
    })

    it('rejects every call after close, including a compaction merging at the time', async () => {
      const database = await freshDatabase()
      const storage = database.open()
      const { updates } = recordEditing(30)
      await storage.appendUpdates('room', updates)
      expect(await storage.healthy()).toBe(true)

      const gate = gatedMerge()
      const compaction = storage.compact('room', gate.merge)
      await gate.started
      await storage.close()
      gate.release()

      const closed = { code: 'storage-closed' }
      await expect(compaction).rejects.toMatchObject(closed)
      await expect(storage.loadRoom('room')).rejects.toMatchObject(closed)
      await expect(storage.appendUpdates('room', [bytes(1)])).rejects.toMatchObject(closed)
      await expect(storage.compact('room', mergeUpdatesInline)).rejects.toMatchObject(closed)
      await expect(storage.roomStats('room')).rejects.toMatchObject(closed)
      await expect(storage.healthy()).rejects.toMatchObject(closed)
      await expect(storage.close()).resolves.toBeUndefined()

      expect((await database.open().loadRoom('room')).updates).toEqual(updates)
    })
  })
}
