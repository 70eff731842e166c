/**
 * Export and restore of one room (R26): the room's whole state as a single Yjs update, the same
 * bytes whatever the storage layout (snapshot + log). Restoring appends that update to a room's
 * log, so restoring into an empty server reproduces the room exactly, and restoring into a room
 * that has content merges (a CRDT merge, never an overwrite).
 */
import { CoeditError } from '@coedit/sdk/protocol'
import * as Y from 'yjs'
import { mergeUpdatesInline } from './merge-updates.js'
import type { Storage } from './storage.js'

/** The room's state as one Yjs (v1) update; an unknown room gives an empty document's update. */
export const exportRoom = async (storage: Storage, room: string): Promise<Uint8Array> => {
  const stored = await storage.loadRoom(room)
  return mergeUpdatesInline(stored.updates)
}

/** Validates `update` as a Yjs update and appends it to the room's log. */
export const importRoom = async (
  storage: Storage,
  room: string,
  update: Uint8Array,
): Promise<void> => {
  try {
    Y.decodeUpdate(update)
  } catch (error) {
    throw new CoeditError('bad-archive', 'the file is not a Yjs update', { cause: error })
  }
  await storage.appendUpdates(room, [update])
}
