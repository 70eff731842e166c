/**
 * The session's y-protocols `Awareness`, with the one thing its `destroy()` forgets: the
 * anonymous `doc.on('destroy', …)` listener its constructor registers (y-protocols 1.0.7,
 * awareness.js). A document the application passed in outlives the session; without removing that
 * listener, every session ever opened on it would stay reachable through it.
 */
import { Awareness } from 'y-protocols/awareness'
import type * as Y from 'yjs'

export interface SessionAwareness {
  readonly awareness: Awareness
  /** Destroys the awareness and removes what it registered on the document. */
  destroy(): void
}

/** lib0's observable keeps listeners in `_observers` (a documented field in its typings). */
const destroyListeners = (doc: Y.Doc): Set<unknown> =>
  new Set<unknown>(doc._observers.get('destroy') as Set<unknown> | undefined)

export const createSessionAwareness = (doc: Y.Doc): SessionAwareness => {
  const before = destroyListeners(doc)
  const awareness = new Awareness(doc)
  const added = [...destroyListeners(doc)].filter((listener) => !before.has(listener))
  return {
    awareness,
    destroy() {
      awareness.destroy()
      for (const listener of added) doc.off('destroy', listener as () => void)
    },
  }
}
