/**
 * A loaded room: its Y.Doc, its relay clients, its presence, its persister.
 *
 * The relay is a durable Yjs peer speaking the stock y-websocket protocol: it answers sync step 1
 * from its document, applies updates, broadcasts every *effective* update to all clients (the
 * sender included, as the reference server does — the stock v4 client's sync status relies on
 * it), and queues the same effective update for storage. A duplicate (the same update arriving
 * via WebRTC and relay) changes nothing and therefore is neither broadcast nor stored (R4).
 *
 * Messages are decoded in one boundary ({@link Room.receive}): anything malformed closes that one
 * connection with `bad-message`; the room and every other connection carry on (R32).
 */
import {
  decodeRelayFrame,
  encodeAwarenessFrame,
  encodeAwarenessUpdate,
  encodeCoeditHello,
  encodeCoeditSaved,
  encodeSyncStep1,
  encodeSyncUpdate,
  COEDIT_PROTOCOL_VERSION,
  type RelayMessage,
} from '@coedit/sdk/protocol'
import type { Logger } from 'pino'
import * as Y from 'yjs'
import {
  createPersistedView,
  decodeIdRanges,
  encodeIdRanges,
  pushRange,
  type IdRanges,
} from '../cluster/persisted-view.js'
import type { Limits, PersistenceOptions } from '../config.js'
import { prepareBinaryFrame } from '../connection/frame.js'
import type { Metrics } from '../metrics.js'
import type { MergeUpdates, Storage, StoredRoom } from '../storage/storage.js'
import { createAwarenessRegistry, type AwarenessRegistry } from './awareness-registry.js'
import type { GroupCommit } from './group-commit.js'
import { createRoomPersister, type FlushResult, type RoomPersister } from './persister.js'
import type { RelayClient } from './relay-client.js'
import { answerSyncStep1 } from './sync-answer.js'
import { validateUpdate } from './validate-update.js'

/** Empty awareness update: a harmless message that keeps stock clients' watchdogs quiet. */
const KEEPALIVE_FRAME = encodeAwarenessFrame(encodeAwarenessUpdate([]))

export interface Room {
  readonly name: string
  readonly doc: Y.Doc
  readonly clients: ReadonlySet<RelayClient>
  readonly awareness: AwarenessRegistry
  /** Whether clients are connected or about to join. */
  readonly busy: boolean
  /** Whether storage is currently failing for this room (clients are not told "saved"). */
  readonly storageFailing: boolean
  /** Holds the room loaded for a connection that is about to join (see the registry). */
  reserve(): void
  /** Gives back a reservation whose connection never joined. */
  release(): void
  /** Adds a client (consuming its reservation). */
  join(client: RelayClient): void
  receive(client: RelayClient, frame: Uint8Array): void
  leave(client: RelayClient): void
  /** Sends the keepalive frame to clients that have heard nothing for `idleMs`. */
  keepAlive(now: number, idleMs: number): void
  /** Resolves once every update received so far is durable. */
  flush(): Promise<void>
  /** Merges the room's stored log into its snapshot, if it has a log. Never rejects. */
  compact(): Promise<void>
  /** Stops timers and forgets the document. Call after `flush()`. */
  destroy(): void
  /**
   * Applies a document update another instance published: broadcast to this instance's clients,
   * never re-published and never stored here (see {@link ClusterLink}). Never throws.
   */
  applyRemoteUpdate(update: Uint8Array): void
  /** Applies and broadcasts an awareness frame another instance published. Never throws. */
  applyRemoteAwareness(frame: Uint8Array): void
  /**
   * Merges ids another instance announced as committed (encoded id ranges, see
   * cluster/persisted-view.ts) into what this room tells its clients is saved. Never throws.
   */
  applyRemotePersisted(ranges: Uint8Array): void
  /** What this room knows to be stored, as contiguous prefixes (encoded id ranges). */
  persistedPrefix(): Uint8Array
  /**
   * Stores, as if a local client had sent it, what this room holds that no instance announced as
   * committed and that was already missing at the previous call — an update whose instance
   * crashed (or lost its announcement) before committing. Called periodically; a no-op while
   * storage is failing. Returns the number of clients whose ranges were adopted.
   */
  adoptUnpersisted(): number
}

/**
 * Where a room sends what other server instances must see (cluster/room-channel.ts). Only
 * changes that originate here are handed over: effective document updates from this instance's
 * clients, and their awareness frames.
 *
 * Persisted once: the instance whose client sent an update stores it; instances that receive it
 * over the bus apply it in memory only. With shared storage (PostgreSQL) every update is then
 * written once; with separate stores per instance each holds what its own clients wrote, and a
 * room loaded elsewhere completes its document from the instances serving it (sync request).
 */
export interface ClusterLink {
  publishUpdate(update: Uint8Array): void
  publishAwareness(frame: Uint8Array): void
  /** The ids this instance just committed (encoded id ranges), after each commit of the room. */
  publishPersisted(ranges: Uint8Array): void
}

/** Transaction origin of updates from other instances: broadcast, not published, not stored. */
const REMOTE = Symbol('remote instance')

export interface RoomDeps {
  storage: Storage
  limits: Limits
  persistence: PersistenceOptions
  metrics: Metrics
  logger: Logger
  merge: MergeUpdates
  /** The server-wide group commit every room's updates go through. */
  commit: GroupCommit
  /** Called when the last client leaves and nobody is about to join (the registry unloads). */
  onEmpty: (room: Room) => void
  /** Called when a client joins an empty room (cancels a pending unload). */
  onOccupied: (room: Room) => void
  /** The room's link to other instances; absent without a Redis bus. */
  link?: ClusterLink | undefined
}

/** `doc` holds what storage held (relay/load-document.ts); the room owns it from here on. */
export const createRoom = (name: string, stored: StoredRoom, doc: Y.Doc, deps: RoomDeps): Room => {
  const { storage, limits, persistence, metrics, logger } = deps
  const clients = new Set<RelayClient>()
  let reservations = 0
  const checkEmpty = () => {
    if (clients.size === 0 && reservations === 0) deps.onEmpty(room)
  }
  const awareness = createAwarenessRegistry()
  /**
   * What is in storage: what was loaded, what this instance committed, and what other instances
   * announced they committed. Never the whole document: updates received from other instances
   * are theirs to store, and "saved" must not cover them before they are (R22).
   */
  const persisted = createPersistedView()
  for (const [client, clock] of Y.decodeStateVector(Y.encodeStateVector(doc))) {
    persisted.add(client, 0, clock)
  }
  /**
   * Ids of the updates queued here for storage, `[client, start, end]`, in queueing order;
   * `localLogBase` counts entries already durable and dropped. A batch captures the count, so
   * its commit knows exactly which ids it made durable (a failed batch's ids stay queued).
   */
  let localLog: [number, number, number][] = []
  let localLogBase = 0
  /** Per client, the end of what was missing from `persisted` at the last `adoptUnpersisted`. */
  let lastMissing = new Map<number, number>()
  let storedBytes = stored.bytes
  let logRows = stored.logCount
  let logBytes = stored.bytes
  let snapshotBytes = 0

  /**
   * The frame being applied, forwarded verbatim when it is safe (saves re-encoding), and the
   * effective updates it produced, broadcast once Yjs is done with it.
   */
  let applying: { frame: Uint8Array; forwardable: boolean; effective: Uint8Array[] } | null = null

  const traffic = metrics.traffic.relay
  /** Sends one frame to every client: framed once, counted once (see connection/frame.ts). */
  const broadcast = (frame: Uint8Array) => {
    if (clients.size === 0) return
    const prepared = prepareBinaryFrame(frame)
    const now = performance.now()
    for (const client of clients) client.peer.sendPrepared(prepared, now)
    traffic.messagesOut += clients.size
    traffic.bytesOut += clients.size * frame.length
  }

  const sendSaved = (client: RelayClient) => {
    client.peer.send(encodeCoeditSaved(persisted.stateVector, client.durable))
  }
  const sendSavedToAll = () => {
    for (const client of clients) if (client.coedit) sendSaved(client)
  }

  let compaction: Promise<void> | null = null

  /** Merges the stored log into the snapshot (single flight; failures are logged and retried). */
  const compact = (): Promise<void> => {
    if (compaction !== null) return compaction
    const started = performance.now()
    compaction = storage
      .compact(name, deps.merge)
      .then((result) => {
        metrics.compactions.labels(result.compacted ? 'merged' : 'skipped').inc()
        if (!result.compacted) return
        logRows = Math.max(0, logRows - result.mergedRows)
        snapshotBytes = result.snapshotBytes
        logBytes = result.storedBytes - result.snapshotBytes
        storedBytes = result.storedBytes
        logger.debug(
          { room: name, rows: result.mergedRows, ms: performance.now() - started },
          'compacted',
        )
      })
      .catch((error: unknown) => {
        metrics.compactions.labels('failed').inc()
        logger.warn({ room: name, err: error }, 'compaction failed; will retry later')
      })
      .finally(() => {
        compaction = null
      })
    return compaction
  }

  // Compact after many rows, or once the log outgrows twice the snapshot: stored bytes then stay
  // within about 3× the merged state (R23).
  const maybeCompact = () => {
    const due =
      logRows >= persistence.compactAfterRows ||
      (logBytes >= persistence.compactAfterBytes && logBytes > 2 * snapshotBytes)
    if (due) void compact()
  }

  const onDurable = ({ updates, acks, state }: FlushResult<RelayClient, number>) => {
    const durable = localLog.slice(0, state - localLogBase)
    localLog = localLog.slice(state - localLogBase)
    localLogBase = state
    if (durable.length > 0) {
      const committed: IdRanges = new Map()
      for (const [client, start, end] of durable) {
        persisted.add(client, start, end)
        pushRange(committed, client, start, end)
      }
      deps.link?.publishPersisted(encodeIdRanges(committed))
    }
    for (const [client, seq] of acks) client.durable = Math.max(client.durable, seq)
    sendSavedToAll()
    if (updates.length > 0) {
      logRows += updates.length
      for (const update of updates) logBytes += update.length
      maybeCompact()
    }
  }

  const persister: RoomPersister<RelayClient> = createRoomPersister<RelayClient, number>({
    room: name,
    commit: deps.commit,
    // The ids made durable by a flush are those queued when its batch was taken: updates that
    // arrive while a write is in flight belong to the next batch.
    captureState: () => localLogBase + localLog.length,
    onDurable,
  })

  /** Queues an update for storage with the ids it carries. */
  const store = (update: Uint8Array, ids: Iterable<[number, number, number]>) => {
    for (const id of ids) localLog.push(id)
    persister.append(update)
  }

  /** The ids a transaction added: per client, `[clock before, clock after)`. */
  function* idsOf(transaction: Y.Transaction): Generator<[number, number, number]> {
    for (const [client, after] of transaction.afterState) {
      const before = transaction.beforeState.get(client) ?? 0
      if (after > before) yield [client, before, after]
    }
  }

  /** The ids a raw update carries (from its first to its last clock per client). */
  function* idsOfUpdate(update: Uint8Array): Generator<[number, number, number]> {
    const { from, to } = Y.parseUpdateMeta(update)
    for (const [client, start] of from) yield [client, start, to.get(client) ?? start]
  }

  doc.on('update', (update: Uint8Array, origin: unknown, _doc: Y.Doc, tr: Y.Transaction) => {
    storedBytes += update.length
    if (origin !== REMOTE) {
      store(update, idsOf(tr))
      deps.link?.publishUpdate(update)
    }
    if (applying !== null) applying.effective.push(update)
    else broadcast(encodeSyncUpdate(update))
  })
  /** Owner of awareness states learnt from other instances (they announce removals). */
  const remoteOwner = {}

  const hasPending = () => doc.store.pendingStructs !== null || doc.store.pendingDs !== null

  const applyDocumentUpdate = (
    client: RelayClient,
    update: Uint8Array,
    frame: Uint8Array,
    isUpdate: boolean,
  ) => {
    if (client.readOnly) {
      metrics.drops.labels('read-only').inc()
      return
    }
    if (storedBytes + update.length > limits.maxDocumentBytes) {
      metrics.drops.labels('document-too-large').inc()
      client.peer.close('documentTooLarge', `room would exceed ${limits.maxDocumentBytes} bytes`)
      return
    }
    // Throws bad-message (caught in `receive`) before the document is touched.
    validateUpdate(doc, update)
    // Forwarding the received frame is exact only when nothing was pending before: then the
    // effective update is contained in what was received.
    const current = { frame, forwardable: isUpdate && !hasPending(), effective: [] as Uint8Array[] }
    applying = current
    let applied = false
    try {
      Y.applyUpdate(doc, update, client)
      applied = true
    } finally {
      applying = null
      // Yjs can integrate an update's structs and then throw on its delete set (a corrupt or
      // truncated update): the received frame must then not reach anyone (R32), but what the
      // document did take must, re-encoded, or the other clients would diverge until a resync.
      if (applied && current.forwardable && current.effective.length === 1) broadcast(frame)
      else for (const effective of current.effective) broadcast(encodeSyncUpdate(effective))
    }
    if (hasPending()) {
      // Yjs keeps updates with missing dependencies in memory only; store the raw update so
      // that nothing acknowledged lives only in memory.
      store(update, idsOfUpdate(update))
      storedBytes += update.length
    }
    client.received++
    persister.acknowledge(client, client.received)
  }

  const handle = (client: RelayClient, message: RelayMessage, frame: Uint8Array) => {
    switch (message.type) {
      case 'sync-step1':
        metrics.resyncs.inc()
        answerSyncStep1(doc, client.peer, message.stateVector, logger)
        return
      case 'sync-step2':
        applyDocumentUpdate(client, message.update, frame, false)
        return
      case 'sync-update':
        applyDocumentUpdate(client, message.update, frame, true)
        return
      case 'awareness':
        awareness.apply(client, message.entries, performance.now())
        broadcast(frame)
        deps.link?.publishAwareness(frame)
        return
      case 'query-awareness':
        client.peer.send(encodeAwarenessFrame(encodeAwarenessUpdate(awareness.all())))
        return
      case 'auth-denied':
      case 'coedit-hello':
      case 'coedit-saved':
        // Server-to-client messages: a client has no business sending them.
        metrics.drops.labels('unexpected').inc()
        return
    }
  }

  const room: Room = {
    name,
    doc,
    clients,
    awareness,
    get busy() {
      return clients.size > 0 || reservations > 0
    },
    get storageFailing() {
      return persister.failing
    },
    reserve() {
      reservations++
      deps.onOccupied(room)
    },
    release() {
      reservations = Math.max(0, reservations - 1)
      checkEmpty()
    },
    join(client) {
      reservations = Math.max(0, reservations - 1)
      clients.add(client)
      deps.onOccupied(room)
      if (client.coedit) {
        client.peer.send(
          encodeCoeditHello(COEDIT_PROTOCOL_VERSION.major, COEDIT_PROTOCOL_VERSION.minor),
        )
      }
      client.peer.send(encodeSyncStep1(Y.encodeStateVector(doc)))
      if (awareness.size > 0) {
        client.peer.send(encodeAwarenessFrame(encodeAwarenessUpdate(awareness.all())))
      }
      if (client.coedit && !persister.failing) sendSaved(client)
    },
    receive(client, frame) {
      if (!client.peer.admit(frame.length)) return
      let message: RelayMessage
      try {
        message = decodeRelayFrame(frame)
        handle(client, message, frame)
      } catch (error) {
        metrics.drops.labels('bad-message').inc()
        logger.info({ room: name, conn: client.peer.id, err: error }, 'malformed relay message')
        client.peer.close('badMessage', 'malformed message')
      }
    },
    leave(client) {
      if (!clients.delete(client)) return
      const removed = awareness.removeOwner(client)
      if (removed.length > 0) {
        const frame = encodeAwarenessFrame(encodeAwarenessUpdate(removed))
        broadcast(frame)
        deps.link?.publishAwareness(frame)
      }
      checkEmpty()
    },
    keepAlive(now, idleMs) {
      awareness.sweep(now)
      for (const client of clients) {
        if (now - client.peer.lastSentAt >= idleMs) client.peer.send(KEEPALIVE_FRAME)
      }
    },
    flush: () => persister.flush(),
    async compact() {
      // An in-flight compaction may have read the log before the latest rows: go again.
      if (compaction !== null) await compaction
      if (logRows > 0) await compact()
    },
    destroy() {
      if (persister.backlog > 0) {
        logger.error({ room: name, backlog: persister.backlog }, 'room closed with unsaved updates')
      }
      doc.destroy()
    },
    applyRemoteUpdate(update) {
      try {
        Y.applyUpdate(doc, update, REMOTE)
      } catch (error) {
        metrics.drops.labels('bad-cluster-message').inc()
        logger.error({ room: name, err: error }, 'update from another instance fails to apply')
      }
    },
    applyRemoteAwareness(frame) {
      try {
        const message = decodeRelayFrame(frame)
        if (message.type !== 'awareness') throw new Error(`not awareness: ${message.type}`)
        awareness.apply(remoteOwner, message.entries, performance.now())
        broadcast(frame)
      } catch (error) {
        metrics.drops.labels('bad-cluster-message').inc()
        logger.error({ room: name, err: error }, 'bad awareness from another instance')
      }
    },
    applyRemotePersisted(ranges) {
      try {
        if (persisted.merge(decodeIdRanges(ranges))) sendSavedToAll()
      } catch (error) {
        metrics.drops.labels('bad-cluster-message').inc()
        logger.error({ room: name, err: error }, 'bad persisted ids from another instance')
      }
    },
    persistedPrefix: () => encodeIdRanges(persisted.prefixRanges()),
    adoptUnpersisted() {
      if (persister.failing) return 0
      const missing = new Map<number, number>()
      const target = new Map<number, number>()
      const adopted: [number, number, number][] = []
      for (const [client, clock] of Y.decodeStateVector(Y.encodeStateVector(doc))) {
        const start = persisted.prefix(client)
        target.set(client, clock)
        if (clock <= start) continue
        missing.set(client, clock)
        // Adopted only when it was already missing a whole period ago: normally the instance
        // that received it has committed and announced it within one group-commit window.
        if ((lastMissing.get(client) ?? 0) > start) {
          target.set(client, start)
          adopted.push([client, start, clock])
        }
      }
      lastMissing = missing
      if (adopted.length === 0) return 0
      const queued = new Set(localLog.map(([client]) => client))
      const orphans = adopted.filter(([client]) => !queued.has(client))
      if (orphans.length === 0) return 0
      logger.info({ room: name, clients: orphans.length }, 'storing updates no instance committed')
      store(Y.encodeStateAsUpdate(doc, Y.encodeStateVector(target)), orphans)
      return orphans.length
    },
  }
  return room
}
