/**
 * One `Y.UndoManager` per shared type (per field), tracking only this user's edits: transactions
 * whose origin is `null` (plain local calls) or a registered local origin such as an editor
 * binding. Remote changes arrive with a transport as origin and are never on the stack, so undo
 * reverts only the local user's own changes, on every peer (requirements R7).
 */
import * as Y from 'yjs'

/** The shared types a field can be (Y.AbstractType's event parameter makes it invariant). */
export type SharedType = Y.Text | Y.XmlText | Y.XmlFragment | Y.Map<unknown> | Y.Array<unknown>

export interface UndoManagers {
  /** The undo manager of `type`, created on first use. `origins` are added to its tracked set. */
  get(type: SharedType, origins?: readonly unknown[]): Y.UndoManager
  destroy(): void
}

export const createUndoManagers = (captureTimeoutMs = 500): UndoManagers => {
  const managers = new Map<SharedType, Y.UndoManager>()
  return {
    get(type, origins = []) {
      let manager = managers.get(type)
      if (manager === undefined) {
        manager = new Y.UndoManager(type, {
          captureTimeout: captureTimeoutMs,
          trackedOrigins: new Set<unknown>([null]),
        })
        managers.set(type, manager)
      }
      for (const origin of origins) manager.addTrackedOrigin(origin)
      return manager
    },
    destroy() {
      for (const manager of managers.values()) manager.destroy()
      managers.clear()
    },
  }
}
