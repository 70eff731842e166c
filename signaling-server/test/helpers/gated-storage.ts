/**
 * Real SQLite storage behind a gate that a test can close: while closed, writes fail (as with a
 * full disk or a lost database) or hang (as with a stalled one). Also counts loads and appends.
 */
import { createSqliteStorage } from '../../src/storage/sqlite-storage.js'
import type { Storage } from '../../src/storage/storage.js'

export interface GatedStorage extends Storage {
  loads: number
  appends: number
  /** 'open': pass through; 'fail': writes reject; 'stall': writes wait until reopened. */
  mode: 'open' | 'fail' | 'stall'
  setMode(mode: 'open' | 'fail' | 'stall'): void
  /** Lets the oldest stalled write through; the gate stays as it is for the next ones. */
  releaseOne(): void
  /** Resolves when a write was attempted while the gate is not open. */
  blockedWrite(): Promise<void>
}

export const createGatedStorage = (dir: string): GatedStorage => {
  const inner = createSqliteStorage({ dir })
  let stalled: (() => void)[] = []
  const blockedWaiters: (() => void)[] = []
  const gate = async () => {
    if (storage.mode === 'open') return
    for (const wake of blockedWaiters.splice(0)) wake()
    if (storage.mode === 'fail') throw new Error('storage unavailable (test gate)')
    await new Promise<void>((resolve) => stalled.push(resolve))
  }
  const storage: GatedStorage = {
    loads: 0,
    appends: 0,
    mode: 'open',
    setMode(mode) {
      storage.mode = mode
      if (mode === 'open') {
        const waiting = stalled
        stalled = []
        for (const resume of waiting) resume()
      }
    },
    releaseOne() {
      stalled.shift()?.()
    },
    blockedWrite: () => new Promise((resolve) => blockedWaiters.push(resolve)),
    async loadRoom(room) {
      storage.loads++
      return inner.loadRoom(room)
    },
    async appendUpdates(room, updates) {
      await gate()
      storage.appends++
      return inner.appendUpdates(room, updates)
    },
    async appendBatches(batches) {
      await gate()
      storage.appends++
      return inner.appendBatches(batches)
    },
    async compact(room, merge) {
      await gate()
      return inner.compact(room, merge)
    },
    roomStats: (room) => inner.roomStats(room),
    healthy: async () => storage.mode === 'open' && (await inner.healthy()),
    close: () => inner.close(),
  }
  return storage
}
