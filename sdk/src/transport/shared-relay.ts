/**
 * One relay connection per browser for a room, however many tabs have it open (requirements
 * R38): the tabs elect a leader with the Web Locks API, only the leader connects to the relay (and
 * asks `getToken()`), and every tab syncs with the others over a BroadcastChannel (tab-channel.ts).
 * When the leader tab closes, its lock is released and another tab takes over at once.
 *
 * It looks like a relay transport to the session. A follower's `saved` is derived from the
 * leader's: the leader posts its relay's `saved` together with the highest change number it had
 * applied from each tab, so a follower is saved when the leader is and the leader had applied
 * every change the follower made. That covers deletions too, which state vectors do not show.
 */
import type { Awareness } from 'y-protocols/awareness'
import type * as Y from 'yjs'
import { createEmitter } from '../events.js'
import type { RelayTransport, RelayTransportEvents } from './relay-transport.js'
import { createTabChannel, type TabMessage } from './tab-channel.js'
import type { TransportStatus } from './transport-status.js'

export interface SharedRelayOptions {
  /** Lock and channel name: one per server and room. */
  readonly name: string
  readonly doc: Y.Doc
  readonly awareness: Awareness
  /** Starts this tab's relay connection once it leads. */
  readonly createRelay: () => RelayTransport
}

/** Web Locks and BroadcastChannel both exist (every current browser; not Node 20). */
export const canShareRelay = (): boolean =>
  typeof BroadcastChannel !== 'undefined' &&
  typeof navigator !== 'undefined' &&
  typeof navigator.locks?.request === 'function'

export const createSharedRelay = (options: SharedRelayOptions): RelayTransport => {
  const { doc } = options
  const events = createEmitter<RelayTransportEvents>()
  const abort = new AbortController()
  let relay: RelayTransport | undefined
  let releaseLock: (() => void) | undefined
  let destroyed = false
  // What this tab shows: its own relay's state when leading, the leader's otherwise.
  let status: TransportStatus = 'connecting'
  let synced = false
  let saved = false
  let leaderView: Extract<TabMessage, { type: 'relay' }> | undefined

  const channel = createTabChannel({
    name: options.name,
    doc,
    awareness: options.awareness,
    onError: (message) =>
      events.emit('error', { code: 'bad-message', message, transport: 'relay' }),
    onApplied: () => postRelayState(),
  })

  const update = (next: { status: TransportStatus; synced: boolean; saved: boolean }) => {
    if (next.status !== status) {
      status = next.status
      events.emit('status', { status })
    }
    if (next.synced !== synced) {
      synced = next.synced
      events.emit('synced', { synced })
    }
    if (next.saved !== saved) {
      saved = next.saved
      events.emit('saved', { saved })
    }
  }
  const postRelayState = () => {
    if (relay === undefined) return
    channel.post({
      type: 'relay',
      from: channel.tabId,
      status: relay.status,
      synced: relay.synced,
      saved: relay.saved,
      seen: { ...channel.seen() },
    })
  }
  const followerSaved = () =>
    leaderView !== undefined &&
    leaderView.saved &&
    (leaderView.seen[channel.tabId] ?? 0) >= channel.seq
  const refreshFollower = () => {
    if (relay !== undefined || leaderView === undefined) return
    update({ status: leaderView.status, synced: leaderView.synced, saved: followerSaved() })
  }

  channel.onControl((message) => {
    if (message.type === 'relay-query') postRelayState()
    if (message.type === 'relay' && relay === undefined) {
      leaderView = message
      refreshFollower()
    }
  })
  // A local change makes a follower unsaved until the leader reports having applied it.
  const onDocUpdate = () => refreshFollower()
  doc.on('update', onDocUpdate)

  const lead = () => {
    const own = options.createRelay()
    relay = own
    const publish = () => {
      update({ status: own.status, synced: own.synced, saved: own.saved })
      postRelayState()
    }
    own.on('status', publish)
    own.on('synced', publish)
    own.on('saved', publish)
    own.on('error', (error) => events.emit('error', error))
    publish()
  }

  navigator.locks
    .request(options.name, { signal: abort.signal }, () => {
      if (destroyed) return undefined
      lead()
      // Held until destroy(): the promise this callback returns is the lock's lifetime.
      return new Promise<void>((resolve) => (releaseLock = resolve))
    })
    .catch((error: unknown) => {
      // Aborted by destroy() while waiting: expected. Anything else is worth a report.
      if (!destroyed) {
        events.emit('error', { code: 'lock-failed', message: String(error), transport: 'relay' })
      }
    })
  channel.post({ type: 'relay-query', from: channel.tabId })

  return {
    get status() {
      return status
    },
    get synced() {
      return synced
    },
    get saved() {
      return saved
    },
    on: (event, listener) => events.on(event, listener),
    retryNow: () => relay?.retryNow(),
    reconnect: () => relay?.reconnect(),
    destroy() {
      if (destroyed) return
      destroyed = true
      abort.abort()
      doc.off('update', onDocUpdate)
      relay?.destroy()
      channel.destroy()
      releaseLock?.()
      events.clear()
    },
  }
}
