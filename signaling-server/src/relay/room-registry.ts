/**
 * Rooms in memory: loaded once (single flight, R24), unloaded after being empty for
 * `roomIdleMs` — flushed first, and kept if storage cannot take the flush yet.
 */
import type { RoomChannel, RoomCluster } from '../cluster/room-channel.js'
import type { LoadDocument } from './load-document.js'
import { createRoom, type Room, type RoomDeps } from './room.js'

export interface RoomRegistry {
  /**
   * The loaded room, loading it first if needed; concurrent callers share one load. The room is
   * reserved for the caller, who must `join` or `release` it.
   */
  get(name: string): Promise<Room>
  /** Loaded rooms. */
  rooms(): IterableIterator<Room>
  /**
   * Flushes (then compacts) every room; resolves true when all are durable, or false when
   * `deadlineMs` passes first.
   */
  flushAll(deadlineMs: number): Promise<boolean>
  /** Stops unload timers and destroys every room (call `flushAll` first). */
  destroy(): void
}

/** What every room needs; the registry adds the lifecycle callbacks and the cluster link. */
export type RegistryDeps = Omit<RoomDeps, 'onEmpty' | 'onOccupied' | 'link'> & {
  /** Other instances sharing rooms through Redis; absent: this instance is alone. */
  cluster?: RoomCluster | undefined
  /** Builds a room's document from storage (large rooms in pieces, R37). */
  loadDocument: LoadDocument
}

export const createRoomRegistry = (deps: RegistryDeps): RoomRegistry => {
  const { storage, persistence, metrics, logger } = deps
  const rooms = new Map<string, Room>()
  const loading = new Map<string, Promise<Room>>()
  const unloadTimers = new Map<Room, ReturnType<typeof setTimeout>>()
  const channels = new Map<Room, RoomChannel>()

  const cancelUnload = (room: Room) => {
    const timer = unloadTimers.get(room)
    if (timer !== undefined) clearTimeout(timer)
    unloadTimers.delete(room)
  }

  const unload = async (room: Room) => {
    unloadTimers.delete(room)
    try {
      await room.flush()
    } catch (error) {
      logger.error({ room: room.name, err: error }, 'flush before unload failed')
    }
    // Someone may have joined during the flush, or the flush may still be failing: keep it.
    if (room.busy || rooms.get(room.name) !== room) return
    if (room.storageFailing) {
      scheduleUnload(room)
      return
    }
    // Leave the room compact on disk: its next load reads one snapshot.
    await room.compact()
    if (room.busy || rooms.get(room.name) !== room) return
    rooms.delete(room.name)
    metrics.rooms.dec()
    channels.get(room)?.close()
    channels.delete(room)
    room.destroy()
    logger.debug({ room: room.name }, 'room unloaded')
  }

  const scheduleUnload = (room: Room) => {
    cancelUnload(room)
    const timer = setTimeout(() => void unload(room), persistence.roomIdleMs)
    timer.unref()
    unloadTimers.set(room, timer)
  }

  const load = async (name: string): Promise<Room> => {
    metrics.storageLoads.inc()
    // Subscribed before reading storage: what other instances publish meanwhile is buffered.
    const channel = deps.cluster?.open(name)
    let room: Room
    try {
      await channel?.ready
      const stored = await storage.loadRoom(name)
      const doc = await deps.loadDocument(name, stored)
      room = createRoom(name, stored, doc, {
        ...deps,
        onEmpty: scheduleUnload,
        onOccupied: cancelUnload,
        link: channel,
      })
    } catch (error) {
      channel?.close()
      throw error
    }
    if (channel !== undefined) {
      channels.set(room, channel)
      channel.bind(room)
    }
    rooms.set(name, room)
    metrics.rooms.inc()
    // Unloads the room if its first client never arrives (joining cancels this).
    scheduleUnload(room)
    return room
  }

  return {
    get(name) {
      const room = rooms.get(name)
      if (room !== undefined) {
        // Reserved synchronously, so an unload whose flush is finishing right now keeps it.
        room.reserve()
        return Promise.resolve(room)
      }
      let pending = loading.get(name)
      if (pending === undefined) {
        pending = load(name).finally(() => loading.delete(name))
        loading.set(name, pending)
      }
      return pending.then((loaded) => {
        loaded.reserve()
        return loaded
      })
    },
    rooms: () => rooms.values(),
    async flushAll(deadlineMs) {
      let timer: ReturnType<typeof setTimeout> | undefined
      const deadline = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), deadlineMs)
      })
      const flushed = Promise.all(
        [...rooms.values()].map(async (room) => {
          await room.flush()
          await room.compact()
        }),
      ).then(() => true as const)
      try {
        return await Promise.race([flushed, deadline])
      } finally {
        clearTimeout(timer)
      }
    },
    destroy() {
      for (const timer of unloadTimers.values()) clearTimeout(timer)
      unloadTimers.clear()
      for (const channel of channels.values()) channel.close()
      channels.clear()
      for (const room of rooms.values()) room.destroy()
      metrics.rooms.set(0)
      rooms.clear()
    },
  }
}
