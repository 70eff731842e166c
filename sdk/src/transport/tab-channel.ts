/**
 * Tabs of one browser on one room keep their documents and presence in step over a
 * BroadcastChannel, with no server round trip (requirements R38). Each tab numbers the local
 * changes it posts (`seq`) and every tab remembers the highest number it has applied from each
 * other tab: that is how the tab holding the relay connection tells the others which of their
 * edits its "saved" covers.
 *
 * Messages come from our own origin's tabs, but they are still input: anything malformed is
 * dropped (and reported), never applied.
 */
import type { Awareness } from 'y-protocols/awareness'
import { applyAwarenessUpdate, encodeAwarenessUpdate } from 'y-protocols/awareness'
import * as Y from 'yjs'
import type { TransportStatus } from './transport-status.js'

export type TabMessage =
  | { readonly type: 'hello'; readonly from: string; readonly stateVector: Uint8Array }
  | {
      readonly type: 'state'
      readonly from: string
      readonly to: string
      readonly seq: number
      readonly update: Uint8Array
      /** The sender's state vector, in an answer to `hello`: the newcomer answers with its own
       * changes from that point (it posted none while it knew of no other tab). */
      readonly stateVector?: Uint8Array
    }
  | {
      readonly type: 'update'
      readonly from: string
      readonly seq: number
      readonly update: Uint8Array
    }
  | { readonly type: 'awareness'; readonly from: string; readonly update: Uint8Array }
  /** From the tab that holds the relay: its relay's state, for the others to show. */
  | {
      readonly type: 'relay'
      readonly from: string
      readonly status: TransportStatus
      readonly synced: boolean
      readonly saved: boolean
      /** Highest `seq` the leader had applied from each tab when `saved` was computed. */
      readonly seen: Readonly<Record<string, number>>
    }
  /** Asks the relay holder to post its state (a tab just joined or took over). */
  | { readonly type: 'relay-query'; readonly from: string }
  /** The tab is leaving (destroyed): the others stop counting it. */
  | { readonly type: 'bye'; readonly from: string }

export interface TabChannel {
  readonly tabId: string
  /** Number of the last local change this tab posted. */
  readonly seq: number
  /** Highest `seq` applied from each other tab. */
  seen(): Readonly<Record<string, number>>
  post(message: TabMessage): void
  /** Called for `relay` and `relay-query` messages (document and presence are handled here). */
  onControl(listener: (message: TabMessage) => void): void
  destroy(): void
}

const isBytes = (value: unknown): value is Uint8Array => value instanceof Uint8Array
const isString = (value: unknown): value is string => typeof value === 'string'
const isCount = (value: unknown): value is number =>
  Number.isSafeInteger(value) && (value as number) >= 0

/** Shape check of an incoming message; `undefined` when it is not one of ours. */
const readMessage = (data: unknown): TabMessage | undefined => {
  if (typeof data !== 'object' || data === null) return undefined
  const m = data as Record<string, unknown>
  if (!isString(m['from'])) return undefined
  switch (m['type']) {
    case 'hello':
      return isBytes(m['stateVector']) ? (m as unknown as TabMessage) : undefined
    case 'state':
      return isString(m['to']) &&
        isCount(m['seq']) &&
        isBytes(m['update']) &&
        (m['stateVector'] === undefined || isBytes(m['stateVector']))
        ? (m as unknown as TabMessage)
        : undefined
    case 'update':
      return isCount(m['seq']) && isBytes(m['update']) ? (m as unknown as TabMessage) : undefined
    case 'awareness':
      return isBytes(m['update']) ? (m as unknown as TabMessage) : undefined
    case 'relay':
      return isString(m['status']) &&
        typeof m['synced'] === 'boolean' &&
        typeof m['saved'] === 'boolean' &&
        typeof m['seen'] === 'object' &&
        m['seen'] !== null
        ? (m as unknown as TabMessage)
        : undefined
    case 'relay-query':
    case 'bye':
      return m as unknown as TabMessage
    default:
      return undefined
  }
}

export const createTabChannel = (options: {
  readonly name: string
  readonly doc: Y.Doc
  readonly awareness: Awareness
  readonly onError: (message: string) => void
  /** Called after a change from another tab was applied (its `seq` is now in `seen()`). */
  readonly onApplied: () => void
}): TabChannel => {
  const { doc, awareness } = options
  const channel = new BroadcastChannel(options.name)
  const tabId = `${doc.clientID}-${Math.random().toString(36).slice(2, 10)}`
  const seen: Record<string, number> = {}
  const controlListeners: ((message: TabMessage) => void)[] = []
  let seq = 0

  // Tabs heard from and not yet gone. While there are none — the common case of one tab — the
  // document, presence and relay-state messages are not posted at all: every postMessage is a
  // round trip through the browser process (Chromium), which showed in the relay's tail latency.
  // A tab that appears later gets everything in the hello/state exchange below.
  const others = new Set<string>()
  let closed = false
  const post = (message: TabMessage) => {
    const broadcast =
      message.type === 'update' || message.type === 'awareness' || message.type === 'relay'
    if (broadcast && others.size === 0) return
    channel.postMessage(message)
  }
  const markSeen = (from: string, value: number) => {
    seen[from] = Math.max(seen[from] ?? 0, value)
  }
  const postAllAwareness = () =>
    post({
      type: 'awareness',
      from: tabId,
      update: encodeAwarenessUpdate(awareness, [...awareness.getStates().keys()]),
    })

  const onDocUpdate = (update: Uint8Array, origin: unknown) => {
    if (origin === tabChannel) return
    // Counted even when not posted: a follower is saved only once the leader has applied this
    // number, which it learns from the state exchange that carries the unposted changes.
    seq += 1
    post({ type: 'update', from: tabId, seq, update })
  }
  const onAwarenessUpdate = (
    changes: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ) => {
    if (origin === tabChannel) return
    const clients = [...changes.added, ...changes.updated, ...changes.removed]
    post({ type: 'awareness', from: tabId, update: encodeAwarenessUpdate(awareness, clients) })
  }

  channel.onmessage = (event: MessageEvent) => {
    const message = readMessage(event.data)
    if (message === undefined) {
      options.onError('dropped a malformed message from another tab')
      return
    }
    if (message.type === 'bye') {
      others.delete(message.from)
      return
    }
    others.add(message.from)
    try {
      switch (message.type) {
        case 'hello':
          post({
            type: 'state',
            from: tabId,
            to: message.from,
            seq,
            update: Y.encodeStateAsUpdate(doc, message.stateVector),
            stateVector: Y.encodeStateVector(doc),
          })
          postAllAwareness()
          break
        case 'state':
          if (message.to !== tabId) break
          Y.applyUpdate(doc, message.update, tabChannel)
          markSeen(message.from, message.seq)
          if (message.stateVector !== undefined) {
            // The answer to our hello: send back what we changed before we knew of this tab.
            post({
              type: 'state',
              from: tabId,
              to: message.from,
              seq,
              update: Y.encodeStateAsUpdate(doc, message.stateVector),
            })
            postAllAwareness()
          }
          options.onApplied()
          break
        case 'update':
          Y.applyUpdate(doc, message.update, tabChannel)
          markSeen(message.from, message.seq)
          options.onApplied()
          break
        case 'awareness':
          applyAwarenessUpdate(awareness, message.update, tabChannel)
          break
        default:
          for (const listener of controlListeners) listener(message)
      }
    } catch (error) {
      options.onError(`dropped a message from another tab: ${String(error)}`)
    }
  }
  channel.onmessageerror = () => options.onError('a message from another tab could not be read')

  const tabChannel: TabChannel = {
    tabId,
    get seq() {
      return seq
    },
    seen: () => seen,
    post,
    onControl: (listener) => controlListeners.push(listener),
    destroy() {
      if (closed) return
      closed = true
      doc.off('update', onDocUpdate)
      awareness.off('update', onAwarenessUpdate)
      channel.postMessage({ type: 'bye', from: tabId } satisfies TabMessage)
      channel.onmessage = null
      channel.onmessageerror = null
      channel.close()
    },
  }
  doc.on('update', onDocUpdate)
  awareness.on('update', onAwarenessUpdate)
  post({ type: 'hello', from: tabId, stateVector: Y.encodeStateVector(doc) })
  return tabChannel
}
