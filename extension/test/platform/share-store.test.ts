/**
 * The share store: kept in memory, mirrored to `storage.session`, and recovered from it by a new
 * instance (what a restarted Chrome service worker does).
 */
import { describe, expect, it } from 'vitest'
import {
  createShareStore,
  type SessionArea,
  type ShareState,
} from '../../src/background/share-store.js'

/** An in-memory `storage.session` (JSON round trip, like the real one). */
const memoryArea = (): SessionArea & { data: Record<string, unknown> } => {
  const data: Record<string, unknown> = {}
  return {
    data,
    get: async (keys) => {
      const list = typeof keys === 'string' ? [keys] : Array.isArray(keys) ? keys : []
      return Object.fromEntries(list.filter((key) => key in data).map((key) => [key, data[key]]))
    },
    set: async (items) => {
      for (const [key, value] of Object.entries(items))
        data[key] = JSON.parse(JSON.stringify(value))
    },
  }
}

const share = (tabId: number): ShareState => ({
  tabId,
  room: 'r'.repeat(22),
  key: 'k'.repeat(43),
  server: 'http://localhost:8787',
  page: 'http://127.0.0.1:8080/form.html',
  origin: 'http://127.0.0.1:8080',
})

describe('share store', () => {
  it('recovers the shares a previous instance stored', async () => {
    const area = memoryArea()
    const first = createShareStore(area)
    await first.ready
    await first.set(share(1))
    await first.set(share(2))
    await first.delete(1)

    const restarted = createShareStore(area)
    await restarted.ready
    expect(restarted.all()).toEqual([share(2)])
    expect(restarted.get(2)).toEqual(share(2))
    expect(restarted.get(1)).toBeUndefined()
  })

  it('ignores stored entries that are not shares', async () => {
    const area = memoryArea()
    area.data['shares'] = {
      1: share(1),
      2: { ...share(2), key: 'short' },
      3: { ...share(3), origin: 'https://elsewhere.example' },
      4: 'junk',
    }
    const store = createShareStore(area)
    await store.ready
    expect(store.all()).toEqual([share(1)])
  })
})
