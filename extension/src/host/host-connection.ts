/**
 * The host side of the `coedit-doc` protocol (messages.ts) for one content script port: keeps the
 * tab's replica document in step with the session's document, forwards the presence of everyone
 * else, and takes the tab's cursor as this user's own.
 *
 * - `hello { stateVector }` → `sync { update: what the replica lacks, stateVector: ours }`, then
 *   the remote clients' awareness and the status. Only after that does the port get `update`s,
 *   so the replica never sees an update before the state it builds on.
 * - `sync` / `update` from the port are applied with this connection as the transaction origin;
 *   the document's `update` listener skips that origin, so an edit never bounces back to the tab
 *   it came from (echo suppression), while other tabs on the room still get it.
 * - `awareness` carries remote clients only: the host's own client is the user of this browser,
 *   whom the tab already draws itself.
 *
 * Everything from the port is read with `readContentToHost`; malformed messages and updates Yjs
 * cannot apply are dropped and reported through `onDrop`, never thrown out of a listener.
 */
import type { Session } from '@coedit/sdk'
import { encodeAwarenessUpdate } from 'y-protocols/awareness'
import * as Y from 'yjs'
import {
  fromBase64,
  readContentToHost,
  toBase64,
  type ContentToHost,
  type HostToContent,
} from '../shared/messages.js'
import type { StatusView } from '../shared/requests.js'
import type { HostPort } from './host-port.js'

/** Why a message from the port was not applied. */
export type DropReason = 'malformed' | 'bad-update' | 'bad-state-vector'

export interface HostConnectionOptions {
  readonly session: Session
  readonly port: HostPort
  /** The room's current status, posted after the initial sync. */
  readonly status: () => StatusView
  readonly onDrop: (reason: DropReason) => void
  /** The port disconnected (after this connection released its listeners). */
  readonly onClose: () => void
}

export interface HostConnection {
  /** Posts the room's status (once the tab said hello). */
  postStatus(status: StatusView): void
  /** Sends `ended`, closes the port and releases everything. */
  end(reason: string): void
  /** Releases listeners without telling the tab (the host is going away). */
  destroy(): void
}

export const createHostConnection = (options: HostConnectionOptions): HostConnection => {
  const { session, port } = options
  const { doc, awareness } = session
  // The transaction origin of everything this port applies: compared by identity.
  const origin = { port: 'coedit-doc' }
  let ready = false
  let ownsCursor = false
  let closed = false

  const post = (message: HostToContent) => port.postMessage(message)

  const postAwareness = (clients: readonly number[]) => {
    const remote = clients.filter((client) => client !== awareness.clientID)
    if (remote.length === 0) return
    post({ type: 'awareness', update: toBase64(encodeAwarenessUpdate(awareness, remote)) })
  }

  const onDocUpdate = (update: Uint8Array, from: unknown) => {
    if (ready && from !== origin) post({ type: 'update', update: toBase64(update) })
  }
  const onAwarenessUpdate = ({
    added,
    updated,
    removed,
  }: {
    added: number[]
    updated: number[]
    removed: number[]
  }) => {
    if (ready) postAwareness([...added, ...updated, ...removed])
  }

  const apply = (update: string) => {
    try {
      Y.applyUpdate(doc, fromBase64(update), origin)
    } catch {
      options.onDrop('bad-update')
    }
  }

  const handle = (message: ContentToHost) => {
    switch (message.type) {
      case 'hello': {
        let update: Uint8Array
        try {
          update = Y.encodeStateAsUpdate(doc, fromBase64(message.stateVector))
        } catch {
          options.onDrop('bad-state-vector')
          return
        }
        post({
          type: 'sync',
          update: toBase64(update),
          stateVector: toBase64(Y.encodeStateVector(doc)),
        })
        ready = true
        postAwareness([...awareness.getStates().keys()])
        post({ type: 'status', ...options.status() })
        return
      }
      case 'sync':
      case 'update':
        apply(message.update)
        return
      case 'cursor':
        ownsCursor = message.cursor !== null
        session.setCursor(message.cursor)
        return
    }
  }

  const onMessage = (data: unknown) => {
    if (closed) return
    const message = readContentToHost(data)
    if (message === undefined) options.onDrop('malformed')
    else handle(message)
  }

  const release = () => {
    if (closed) return false
    closed = true
    offMessage()
    offDisconnect()
    doc.off('update', onDocUpdate)
    awareness.off('update', onAwarenessUpdate)
    // The tab's caret left with it; peers should not keep drawing it.
    if (ownsCursor) session.setCursor(null)
    return true
  }

  doc.on('update', onDocUpdate)
  awareness.on('update', onAwarenessUpdate)
  const offMessage = port.onMessage(onMessage)
  const offDisconnect = port.onDisconnect(() => {
    if (release()) options.onClose()
  })

  return {
    postStatus(status) {
      if (ready && !closed) post({ type: 'status', ...status })
    },
    end(reason) {
      if (closed) return
      post({ type: 'ended', reason })
      release()
      port.disconnect()
    },
    destroy() {
      if (release()) port.disconnect()
    },
  }
}
