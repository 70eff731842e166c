/**
 * The content script's copy of the shared document: a `Y.Doc` and an `Awareness` kept in step
 * with the session host over the `coedit-doc` port (extension/src/shared/messages.ts). The page's
 * fields are bound to this replica; the host does all networking and holds every secret.
 *
 * Exchange: on `connect(port)` the replica says `hello` with its state vector; the host answers
 * `sync` (what the replica lacks, and the host's state vector); the replica answers `sync` with
 * what the host lacks — edits made before the answer included — and from then on both sides post
 * `update` for every change that did not come from the port (the port is the origin of whatever
 * it applies: echo suppression). Remote awareness arrives as `awareness` updates (the host never
 * sends its own client, and this replica's own client is never among them, so the bindings do not
 * draw the user's own cursor); the replica's own `cursor` field goes the other way as `cursor`.
 *
 * Everything from the port is read through `readHostToContent`; anything malformed, or an update
 * Yjs cannot apply, is dropped and reported once per kind, never thrown.
 *
 * The replica outlives a port: after a disconnect `connect` may be called with a new port (the
 * background's service worker restarted) and the hello/sync exchange reconciles both sides. It
 * must be the same shared document, or this replica's content would be posted into another room:
 * the new host has to hold everything a host ever gave this replica (a host's document only
 * grows), else the replica emits `mismatch` and applies and posts nothing more.
 */
import { CoeditError } from '@coedit/sdk'
import { applyAwarenessUpdate, Awareness, removeAwarenessStates } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { createEmitter } from '../../../sdk/src/events.js'
import {
  fromBase64,
  readHostToContent,
  toBase64,
  type ContentToHost,
  type CursorJson,
  type HostToContent,
} from '../shared/messages.js'
import type { PortLike } from './runtime.js'

/** The host's last `status`, without its `type`. */
export type HostStatus = Omit<Extract<HostToContent, { type: 'status' }>, 'type'>

export interface ReplicaEvents {
  /** The current port answered `hello`: the replica holds everything the host had. */
  synced: { readonly synced: true }
  status: HostStatus
  /** The host stopped sharing this tab. */
  ended: { readonly reason: string }
  /** The port went away (not after `destroy()`); `error` as the browser reported it. */
  disconnect: { readonly error: string | undefined }
  /** A later port leads to a host without this replica's document; nothing was exchanged. */
  mismatch: Record<string, never>
}

export interface ReplicaOptions {
  /** Reports dropped messages (default `console.warn`); called once per kind of problem. */
  readonly warn?: (message: string) => void
  /** Why a port disconnected, if the browser says; see ContentRuntime.disconnectError. */
  readonly disconnectError?: (port: PortLike) => string | undefined
}

export interface Replica {
  readonly doc: Y.Doc
  readonly awareness: Awareness
  /** True once the current port's `sync` answer was applied. */
  readonly synced: boolean
  /** The host's last status, if one arrived. */
  readonly status: HostStatus | undefined
  /** Starts the exchange on `port`. Throws `CoeditError('misuse')` while another is connected. */
  connect(port: PortLike): void
  on<K extends keyof ReplicaEvents>(
    event: K,
    listener: (payload: ReplicaEvents[K]) => void,
  ): () => void
  /** Disconnects the port, destroys the awareness and the document. Idempotent. */
  destroy(): void
}

const cursorOf = (awareness: Awareness): CursorJson | null => {
  const cursor: unknown = awareness.getLocalState()?.['cursor']
  if (typeof cursor !== 'object' || cursor === null) return null
  const { anchor, head } = cursor as { anchor?: unknown; head?: unknown }
  return typeof anchor === 'object' && anchor !== null && typeof head === 'object' && head !== null
    ? { anchor, head }
    : null
}

/** A short, safe name for a message kind in a warning (the type string is untrusted). */
const kindOf = (data: unknown): string => {
  const type =
    typeof data === 'object' && data !== null ? (data as { type?: unknown }).type : undefined
  return typeof type === 'string' ? type.slice(0, 32) : typeof data
}

export const createReplica = (options: ReplicaOptions = {}): Replica => {
  const warn = options.warn ?? ((message: string) => console.warn(message))
  const doc = new Y.Doc()
  const awareness = new Awareness(doc)
  const events = createEmitter<ReplicaEvents>()
  const reported = new Set<string>()
  let port: PortLike | undefined
  let synced = false
  /** Whether some port's host ever answered: a later host must then hold the same document. */
  let everSynced = false
  let status: HostStatus | undefined
  let sentCursor = 'null'
  let destroyed = false

  const report = (kind: string, message: string) => {
    if (reported.has(kind)) return
    reported.add(kind)
    warn(`coedit: ${message}`)
  }

  const post = (message: ContentToHost) => {
    try {
      port?.postMessage(message)
    } catch (error) {
      // Chrome throws on a port that closed a moment ago; its onDisconnect follows and the next
      // port's sync exchange carries whatever this message held.
      report('post', `could not post to the session host (${String(error)})`)
    }
  }

  /** Applies a Yjs update from the port; false (reported) when Yjs rejects it. */
  const apply = (kind: string, base64: string, from: PortLike): boolean => {
    try {
      Y.applyUpdate(doc, fromBase64(base64), from)
      return true
    } catch (error) {
      report(
        `apply:${kind}`,
        `dropped a "${kind}" from the session host Yjs could not apply (${String(error)})`,
      )
      return false
    }
  }

  const postCursor = () => {
    if (!synced) return
    const cursor = cursorOf(awareness)
    const key = JSON.stringify(cursor)
    if (key === sentCursor) return
    sentCursor = key
    post({ type: 'cursor', cursor })
  }

  /** Whether a host with `hostState` has every other client's edits this replica has. */
  const holdsWhatHostsGave = (hostState: Map<number, number>): boolean => {
    for (const [clientId, clock] of Y.decodeStateVector(Y.encodeStateVector(doc))) {
      if (clientId !== doc.clientID && (hostState.get(clientId) ?? 0) < clock) return false
    }
    return true
  }

  const receive = (from: PortLike, data: unknown) => {
    if (from !== port) return // a late message of a port we already left
    const message = readHostToContent(data)
    if (message === undefined) {
      const kind = kindOf(data)
      report(`malformed:${kind}`, `dropped a malformed "${kind}" message from the session host`)
      return
    }
    switch (message.type) {
      case 'sync': {
        let hostState: Map<number, number>
        try {
          hostState = Y.decodeStateVector(fromBase64(message.stateVector))
        } catch (error) {
          report(
            'sync:state-vector',
            `dropped a "sync" with an unreadable state vector (${String(error)})`,
          )
          return
        }
        if (everSynced && !holdsWhatHostsGave(hostState)) {
          report('mismatch', 'the session host holds another document; this replica stops syncing')
          detach?.()
          from.disconnect()
          events.emit('mismatch', {})
          return
        }
        apply('sync', message.update, from)
        post({
          type: 'sync',
          update: toBase64(Y.encodeStateAsUpdate(doc, fromBase64(message.stateVector))),
        })
        if (synced) return
        synced = true
        everSynced = true
        sentCursor = 'null'
        postCursor()
        events.emit('synced', { synced: true })
        return
      }
      case 'update':
        apply('update', message.update, from)
        return
      case 'awareness':
        try {
          applyAwarenessUpdate(awareness, fromBase64(message.update), from)
        } catch (error) {
          report(
            'apply:awareness',
            `dropped an awareness update that could not be read (${String(error)})`,
          )
        }
        return
      case 'status': {
        const { relay, webrtc, saved, synced: hostSynced, peers } = message
        const next: HostStatus = { relay, webrtc, saved, synced: hostSynced, peers }
        status = next
        events.emit('status', next)
        return
      }
      case 'ended':
        events.emit('ended', { reason: message.reason })
        return
    }
  }

  const onUpdate = (update: Uint8Array, origin: unknown) => {
    // Before the sync answer the host has not said what it lacks: the answer will carry it.
    if (!synced || port === undefined || origin === port) return
    post({ type: 'update', update: toBase64(update) })
  }
  const onAwareness = (_changes: unknown, origin: unknown) => {
    if (origin === 'local') postCursor()
  }
  doc.on('update', onUpdate)
  awareness.on('update', onAwareness)

  let detach: (() => void) | undefined

  return {
    doc,
    awareness,
    get synced() {
      return synced
    },
    get status() {
      return status
    },
    connect(next) {
      if (destroyed) throw new CoeditError('misuse', 'replica.connect: the replica was destroyed')
      if (port !== undefined) {
        throw new CoeditError('misuse', 'replica.connect: a port is connected; wait for disconnect')
      }
      port = next
      synced = false
      const onMessage = (data: unknown) => receive(next, data)
      const onDisconnect = () => {
        const error = options.disconnectError?.(next)
        detach?.()
        // Remote clients were the host's to keep alive; without it their cursors would linger.
        const others = Array.from(awareness.getStates().keys()).filter(
          (clientId) => clientId !== awareness.clientID,
        )
        removeAwarenessStates(awareness, others, next)
        events.emit('disconnect', { error })
      }
      detach = () => {
        next.onMessage.removeListener(onMessage)
        next.onDisconnect.removeListener(onDisconnect)
        if (port === next) port = undefined
        synced = false
        detach = undefined
      }
      next.onMessage.addListener(onMessage)
      next.onDisconnect.addListener(onDisconnect)
      post({ type: 'hello', stateVector: toBase64(Y.encodeStateVector(doc)) })
    },
    on: (event, listener) => events.on(event, listener),
    destroy() {
      if (destroyed) return
      destroyed = true
      const current = port
      // After the extension was reloaded or updated, an orphaned port's methods throw "Extension
      // context invalidated": the port is gone already, and the rest must still be released.
      const release = (step: () => void) => {
        try {
          step()
        } catch (error) {
          if (!/extension context invalidated/i.test(String(error)))
            warn(`coedit: ${String(error)}`)
        }
      }
      release(() => detach?.())
      release(() => current?.disconnect())
      events.clear()
      doc.off('update', onUpdate)
      awareness.off('update', onAwareness)
      awareness.destroy()
      doc.destroy()
    },
  }
}
