/**
 * Cursor presence for the text-field and contenteditable bindings, in y-quill's format: the
 * awareness field `cursor` holds `{ anchor, head }` as JSON-encoded Yjs relative positions, so a
 * cursor stays attached to the characters it was next to while others edit, and stock y-quill
 * peers draw ours (and we theirs). One user has one cursor: a relative position names the shared
 * type it points into, so each binding shows only the cursors that point into its own text.
 *
 * Publishing is throttled (requirements R18); remote states are untrusted and decoded defensively.
 */
import type { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'

export interface RemoteCursor {
  readonly clientId: number
  readonly name: string
  readonly color: string
  /** Absolute indexes in this binding's text. */
  readonly anchor: number
  readonly head: number
}

export interface CursorPublisher {
  /** Publishes this user's selection in `ytext` (indexes), throttled. */
  publish(anchor: number, head: number): void
  /** Withdraws the cursor if it points into this binding's text (on blur). */
  clear(): void
  destroy(): void
}

const COLOR = /^#(?:[0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/i

export const createCursorPublisher = (
  awareness: Awareness,
  ytext: Y.Text,
  throttleMs = 100,
): CursorPublisher => {
  let pending: { anchor: number; head: number } | null | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  let last = -Infinity
  let ownsCursor = false
  let destroyed = false

  const flush = () => {
    timer = undefined
    last = performance.now()
    if (pending === undefined || destroyed) return
    const selection = pending
    pending = undefined
    if (selection === null) {
      if (ownsCursor) awareness.setLocalStateField('cursor', null)
      ownsCursor = false
      return
    }
    ownsCursor = true
    awareness.setLocalStateField('cursor', {
      anchor: Y.relativePositionToJSON(
        Y.createRelativePositionFromTypeIndex(ytext, selection.anchor),
      ),
      head: Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(ytext, selection.head)),
    })
  }
  const schedule = () => {
    if (timer !== undefined) return
    const wait = last + throttleMs - performance.now()
    if (wait <= 0) flush()
    else timer = setTimeout(flush, wait)
  }
  return {
    publish(anchor, head) {
      pending = { anchor, head }
      schedule()
    },
    clear() {
      pending = null
      schedule()
    },
    destroy() {
      destroyed = true
      clearTimeout(timer)
      if (ownsCursor) awareness.setLocalStateField('cursor', null)
    },
  }
}

const toIndex = (doc: Y.Doc, ytext: Y.Text, json: unknown): number | undefined => {
  if (typeof json !== 'object' || json === null) return undefined
  try {
    const absolute = Y.createAbsolutePositionFromRelativePosition(
      Y.createRelativePositionFromJSON(json),
      doc,
    )
    return absolute !== null && absolute.type === ytext ? absolute.index : undefined
  } catch {
    // A malformed position from a peer is no cursor at all.
    return undefined
  }
}

/** Other users' cursors that point into `ytext`. */
export const readRemoteCursors = (awareness: Awareness, ytext: Y.Text): RemoteCursor[] => {
  const doc = ytext.doc
  if (doc === null) return []
  const cursors: RemoteCursor[] = []
  for (const [clientId, state] of awareness.getStates()) {
    if (clientId === awareness.clientID) continue
    const cursor = state['cursor'] as { anchor?: unknown; head?: unknown } | null | undefined
    if (typeof cursor !== 'object' || cursor === null) continue
    const anchor = toIndex(doc, ytext, cursor.anchor)
    const head = toIndex(doc, ytext, cursor.head)
    if (anchor === undefined || head === undefined) continue
    const user = state['user'] as { name?: unknown; color?: unknown } | undefined
    const name = typeof user?.name === 'string' ? user.name.slice(0, 64) : 'Anonymous'
    const color = typeof user?.color === 'string' && COLOR.test(user.color) ? user.color : '#888888'
    cursors.push({ clientId, name, color, anchor, head })
  }
  return cursors
}
