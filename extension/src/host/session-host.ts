/**
 * The session host: the only part of the extension that opens network connections and holds
 * room keys and tokens. One SDK session per room, shared by every tab of this browser on that
 * room (y-webrtc allows one instance of a room per JavaScript realm anyway); each tab's content
 * scripts reach it through `coedit-doc` ports, served by host-connection.ts.
 *
 * Runs in Chrome's offscreen document (offscreen.ts) and in Firefox's background page
 * (background/firefox.ts); the same module in both. It owns no browser API: sessions come from
 * `openSession` (the SDK in the extension, a Node session against a test server in tests) and
 * ports from whoever relays them.
 */
import type { Session, User } from '@coedit/sdk'
import { CoeditError } from '@coedit/sdk'
import type { PeerView } from '../shared/messages.js'
import type { StatusView, UserSettings } from '../shared/requests.js'
import { createHostConnection, type DropReason, type HostConnection } from './host-connection.js'
import type { HostPort } from './host-port.js'

/** What the host needs to know about one shared tab. */
export interface HostShare {
  readonly tabId: number
  readonly room: string
  /** The room secret: y-webrtc's signaling password. */
  readonly key: string
  readonly server: string
  readonly user?: UserSettings
  /** The options' token URL, when the server needs auth. */
  readonly tokenUrl?: string
}

export interface SessionHostOptions {
  /** Opens the session of a room (called once per room while any tab shares it). */
  readonly openSession: (share: HostShare) => Session
  /** A tab's status changed (the background keeps it for the popup). */
  readonly onStatus?: (event: { readonly tabId: number; readonly status: StatusView }) => void
  /** A message from a tab was dropped (malformed, or an update Yjs rejected). */
  readonly onDrop?: (event: { readonly tabId: number; readonly reason: DropReason }) => void
}

export interface SessionHost {
  /**
   * Opens (or reuses) the session for `share.room` and attaches the tab to it. Idempotent for the
   * same room; a tab attached to another room is stopped there first. Throws `CoeditError`
   * (`misuse`) when the room is already open with another server or key.
   */
  attach(share: HostShare): void
  /** Serves a content script's port; a tab with no share gets its port closed. */
  connect(tabId: number, port: HostPort): void
  /** Sends `ended` to the tab's ports, detaches it, and closes the room's session if unused. */
  stop(tabId: number, reason: string): Promise<void>
  /** Tabs currently attached. */
  tabs(): readonly number[]
  /** The tab's last status, if it is attached. */
  status(tabId: number): StatusView | undefined
  setUser(user: UserSettings): void
  /** Messages dropped since the host started. */
  readonly dropped: number
  /** Stops every tab and closes every session. */
  destroy(): Promise<void>
}

interface RoomEntry {
  readonly share: HostShare
  readonly session: Session
  readonly tabs: Set<number>
  status: StatusView
  statusKey: string
  readonly offs: (() => void)[]
}

interface TabEntry {
  readonly room: string
  readonly connections: Set<HostConnection>
}

/** Shown for a peer whose presence carries no valid name and colour (yet). */
const UNKNOWN_PEER = { name: 'Anonymous', color: '#808080' } as const

const peerViews = (session: Session): PeerView[] =>
  session.peers().map((peer) => ({
    name: peer.user?.name ?? UNKNOWN_PEER.name,
    color: peer.user?.color ?? UNKNOWN_PEER.color,
    transport: peer.transport,
  }))

const statusOf = (session: Session): StatusView => ({
  relay: session.status.relay,
  webrtc: session.status.webrtc,
  saved: session.saved,
  synced: session.synced,
  peers: peerViews(session),
})

export const createSessionHost = (options: SessionHostOptions): SessionHost => {
  const rooms = new Map<string, RoomEntry>()
  const tabs = new Map<number, TabEntry>()
  let user: User | undefined
  let dropped = 0
  let destroyed = false

  const refresh = (room: RoomEntry) => {
    const status = statusOf(room.session)
    // Peers fire on every remote cursor move; only a visible change is news for tabs and popup.
    const key = JSON.stringify(status)
    if (key === room.statusKey) return
    room.status = status
    room.statusKey = key
    for (const tabId of room.tabs) {
      for (const connection of tabs.get(tabId)?.connections ?? []) connection.postStatus(status)
      options.onStatus?.({ tabId, status })
    }
  }

  const openRoom = (share: HostShare): RoomEntry => {
    const session = options.openSession({ ...share, ...(user === undefined ? {} : { user }) })
    const status = statusOf(session)
    const room: RoomEntry = {
      share,
      session,
      tabs: new Set(),
      status,
      statusKey: JSON.stringify(status),
      offs: [],
    }
    const onChange = () => refresh(room)
    room.offs.push(
      session.on('status', onChange),
      session.on('peers', onChange),
      session.on('saved', onChange),
      session.on('synced', onChange),
    )
    rooms.set(share.room, room)
    return room
  }

  const closeRoom = async (room: RoomEntry) => {
    rooms.delete(room.share.room)
    for (const off of room.offs) off()
    await room.session.destroy()
  }

  const host: SessionHost = {
    attach(share) {
      if (destroyed) throw new CoeditError('misuse', 'the session host was destroyed')
      const current = tabs.get(share.tabId)
      if (current?.room === share.room) return
      const existing = rooms.get(share.room)
      if (
        existing !== undefined &&
        (existing.share.server !== share.server || existing.share.key !== share.key)
      ) {
        throw new CoeditError(
          'misuse',
          `room ${share.room} is already open here with another server or key; stop that share first`,
        )
      }
      if (current !== undefined) void host.stop(share.tabId, 'replaced by another share')
      const room = existing ?? openRoom(share)
      room.tabs.add(share.tabId)
      tabs.set(share.tabId, { room: share.room, connections: new Set() })
      options.onStatus?.({ tabId: share.tabId, status: room.status })
    },

    connect(tabId, port) {
      const tab = tabs.get(tabId)
      const room = tab === undefined ? undefined : rooms.get(tab.room)
      if (tab === undefined || room === undefined) {
        port.disconnect()
        return
      }
      const connection = createHostConnection({
        session: room.session,
        port,
        status: () => room.status,
        onDrop: (reason) => {
          dropped += 1
          options.onDrop?.({ tabId, reason })
        },
        onClose: () => tab.connections.delete(connection),
      })
      tab.connections.add(connection)
    },

    async stop(tabId, reason) {
      const tab = tabs.get(tabId)
      if (tab === undefined) return
      tabs.delete(tabId)
      for (const connection of tab.connections) connection.end(reason)
      tab.connections.clear()
      const room = rooms.get(tab.room)
      if (room === undefined) return
      room.tabs.delete(tabId)
      if (room.tabs.size === 0) await closeRoom(room)
    },

    tabs: () => [...tabs.keys()],
    status: (tabId) => {
      const tab = tabs.get(tabId)
      return tab === undefined ? undefined : rooms.get(tab.room)?.status
    },

    setUser(next) {
      user = next
      for (const room of rooms.values()) room.session.setUser(next)
    },

    get dropped() {
      return dropped
    },

    async destroy() {
      if (destroyed) return
      destroyed = true
      await Promise.all([...tabs.keys()].map((tabId) => host.stop(tabId, 'Coedit stopped')))
    },
  }
  return host
}
