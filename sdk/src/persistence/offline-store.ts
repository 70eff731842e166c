/**
 * The offline copy: every change to the session's document is kept in IndexedDB (`y-indexeddb`)
 * so a reload — online or not — shows what was typed (requirements R5). Stored updates are
 * applied with the store as transaction origin, so undo managers do not track them.
 */
import { IndexeddbPersistence } from 'y-indexeddb'
import type * as Y from 'yjs'

export interface OfflineStore {
  /** Resolves once the stored copy has been applied to the document. */
  readonly loaded: Promise<void>
  /** Closes the database handle (the stored copy stays). */
  destroy(): Promise<void>
}

/** Database name for a room on a server: rooms of different servers never mix. */
export const offlineStoreName = (serverOrigin: string, room: string): string =>
  `coedit:${serverOrigin}:${room}`

export const createOfflineStore = (name: string, doc: Y.Doc): OfflineStore => {
  const persistence = new IndexeddbPersistence(name, doc)
  return {
    loaded: persistence.whenSynced.then(() => undefined),
    destroy: () => persistence.destroy(),
  }
}
