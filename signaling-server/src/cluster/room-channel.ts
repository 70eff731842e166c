/**
 * A loaded room's channel on the Redis bus (`coedit:room:<room>`): what makes every instance's
 * copy of a room converge, whichever instance each client reached (R10: no sticky routing).
 *
 * Messages (after the bus envelope): `u8 kind • bytes`.
 * - `update`: an effective document update, published by the instance whose client sent it.
 * - `awareness`: an awareness frame as the relay forwards it (forwarded verbatim).
 * - `sync-hello`: a state vector; every instance serving the room answers with the `update` the
 *   sender lacks, and with a `sync-request` of its own state vector.
 * - `sync-request`: a state vector; answered with the missing `update` only (no loop).
 * - `persisted`: ids (client clock ranges, cluster/persisted-view.ts) that the sender now knows
 *   to be in storage: after each of its commits of the room, the ids that commit wrote; in answer
 *   to a hello, all it knows. Merged into the receiver's view of what is saved (R22).
 * - `digest`: the periodic anti-entropy message (R13): `varUint8Array state vector •
 *   varUint8Array delete-set digest • varUint8Array persisted prefixes`. A receiver merges the
 *   prefixes, publishes the `update` the sender lacks if it has structs the sender lacks, and a
 *   `sync-request` if the sender has structs it lacks; differing delete-set digests (a lost
 *   delete-only update: deletions carry no clock) trigger both. Instances in sync send nothing
 *   back: in steady state a room costs one small message per instance per period.
 *
 * A hello is published when a room loads and, for every room, whenever the bus comes back after
 * an outage: instances that edited apart then exchange exactly their differences (R12, R25).
 * Answers go to the whole channel; applying an update twice is a no-op in Yjs.
 *
 * Why ids for `persisted`, rather than the committer's state vector: see persisted-view.ts (a
 * union of state vectors over-claims when one client's clocks were committed by two instances).
 * Each period also lets the room adopt (store itself) what no instance announced for a whole
 * period — the update of an instance killed inside its group-commit window, still held in the
 * memory of the others (relay/room.ts, `adoptUnpersisted`).
 *
 * Load order: subscribe, buffer what arrives, load from storage, apply the buffer, say hello —
 * so nothing published between the storage read and the subscription is lost.
 *
 * Persistence stays with the instance whose client sent an update: remote updates are applied
 * with a distinct origin that is broadcast locally but neither stored nor re-published
 * (relay/room.ts, `ClusterLink`).
 */
import { createHash } from 'node:crypto'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import type { Logger } from 'pino'
import * as Y from 'yjs'
import type { ClusterLink, Room } from '../relay/room.js'
import { roomChannel, type RedisBus, type Subscription } from './redis-bus.js'

const KIND_UPDATE = 0
const KIND_AWARENESS = 1
const KIND_SYNC_HELLO = 2
const KIND_SYNC_REQUEST = 3
const KIND_PERSISTED = 4
const KIND_DIGEST = 5

/** How long a room load waits for Redis to confirm its subscription before going ahead, ms. */
const SUBSCRIBE_WAIT_MS = 2_000

/** A room's channel, opened before the room is loaded. */
export interface RoomChannel extends ClusterLink {
  /** Resolves once the subscription is in place (or Redis is down, or it took too long). */
  readonly ready: Promise<void>
  /** Hands over the loaded room: buffered messages are applied, then a hello is published. */
  bind(room: Room): void
  /** Unsubscribes (the room unloaded or failed to load). */
  close(): void
}

export interface RoomCluster {
  open(name: string): RoomChannel
  /** Stops listening for reconnects (the bus itself is closed by its owner). */
  destroy(): void
}

/**
 * A digest of the document's delete set (8 bytes of SHA-1 over its sorted ranges). The set
 * merges adjacent deleted structs, so two replicas that deleted the same ids agree however their
 * items were split.
 */
const deleteSetDigest = (doc: Y.Doc): Uint8Array => {
  const deleteSet = Y.createDeleteSetFromStructStore(doc.store)
  const encoder = encoding.createEncoder()
  for (const client of [...deleteSet.clients.keys()].sort((a, b) => a - b)) {
    encoding.writeVarUint(encoder, client)
    for (const item of deleteSet.clients.get(client) ?? []) {
      encoding.writeVarUint(encoder, item.clock)
      encoding.writeVarUint(encoder, item.len)
    }
  }
  return createHash('sha1').update(encoding.toUint8Array(encoder)).digest().subarray(0, 8)
}

/** Whether `a` has a clock above `b`'s for some client. */
const hasMore = (a: Map<number, number>, b: Map<number, number>): boolean => {
  for (const [client, clock] of a) if (clock > (b.get(client) ?? 0)) return true
  return false
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((byte, index) => byte === b[index])

const frameOf = (kind: number, body: Uint8Array): Buffer => {
  const frame = Buffer.allocUnsafe(1 + body.length)
  frame[0] = kind
  frame.set(body, 1)
  return frame
}

export const createRoomCluster = (deps: {
  bus: RedisBus
  logger: Logger
  /** Mean anti-entropy period per room, ms (jittered ±50 %). Default 10 000. */
  syncIntervalMs?: number
}): RoomCluster => {
  const { bus, logger } = deps
  const syncIntervalMs = deps.syncIntervalMs ?? 10_000
  const bound = new Map<string, { room: Room; hello(): void }>()

  const stopUp = bus.onUp(() => {
    for (const { hello } of bound.values()) hello()
  })

  return {
    open(name) {
      const channel = roomChannel(name)
      let room: Room | null = null
      let buffered: Buffer[] | null = []
      let closed = false
      let tick: ReturnType<typeof setTimeout> | undefined
      /** The delete-set digest, recomputed only after the document changed. */
      let digestCache: Uint8Array | null = null
      const invalidate = () => {
        digestCache = null
      }
      const currentDigest = (loaded: Room) => (digestCache ??= deleteSetDigest(loaded.doc))

      const publish = (kind: number, body: Uint8Array) => {
        if (!closed) bus.publish(channel, frameOf(kind, body))
      }
      const answer = (stateVector: Uint8Array, loaded: Room) => {
        publish(KIND_UPDATE, Y.encodeStateAsUpdate(loaded.doc, stateVector))
      }
      const hello = () => {
        if (room !== null) publish(KIND_SYNC_HELLO, Y.encodeStateVector(room.doc))
      }
      const publishDigest = (loaded: Room) => {
        const encoder = encoding.createEncoder()
        encoding.writeVarUint8Array(encoder, Y.encodeStateVector(loaded.doc))
        encoding.writeVarUint8Array(encoder, currentDigest(loaded))
        encoding.writeVarUint8Array(encoder, loaded.persistedPrefix())
        publish(KIND_DIGEST, encoding.toUint8Array(encoder))
      }
      const onDigest = (body: Uint8Array, loaded: Room) => {
        const decoder = decoding.createDecoder(body)
        const theirVector = decoding.readVarUint8Array(decoder)
        const theirDigest = decoding.readVarUint8Array(decoder)
        loaded.applyRemotePersisted(decoding.readVarUint8Array(decoder))
        const theirs = Y.decodeStateVector(theirVector)
        const ourVector = Y.encodeStateVector(loaded.doc)
        const ours = Y.decodeStateVector(ourVector)
        const deletesDiffer = !sameBytes(theirDigest, currentDigest(loaded))
        if (deletesDiffer || hasMore(ours, theirs)) answer(theirVector, loaded)
        if (deletesDiffer || hasMore(theirs, ours)) publish(KIND_SYNC_REQUEST, ourVector)
      }
      /** One anti-entropy period: digest, then adopt what nobody stored for a whole period. */
      const schedule = () => {
        tick = setTimeout(
          () => {
            if (room === null || closed) return
            try {
              publishDigest(room)
              room.adoptUnpersisted()
            } catch (error) {
              logger.error({ room: name, err: error }, 'anti-entropy tick failed')
            }
            schedule()
          },
          syncIntervalMs * (0.5 + Math.random()),
        )
        tick.unref()
      }

      const handle = (payload: Buffer) => {
        if (room === null) {
          buffered?.push(payload)
          return
        }
        const body = payload.subarray(1)
        switch (payload[0]) {
          case KIND_UPDATE:
            room.applyRemoteUpdate(body)
            return
          case KIND_AWARENESS:
            room.applyRemoteAwareness(body)
            return
          case KIND_SYNC_HELLO:
            answer(body, room)
            publish(KIND_SYNC_REQUEST, Y.encodeStateVector(room.doc))
            publish(KIND_PERSISTED, room.persistedPrefix())
            return
          case KIND_SYNC_REQUEST:
            answer(body, room)
            return
          case KIND_PERSISTED:
            room.applyRemotePersisted(body)
            return
          case KIND_DIGEST:
            onDigest(body, room)
            return
          default:
            logger.warn({ room: name, kind: payload[0] }, 'unknown cluster message kind')
        }
      }

      const subscription: Subscription = bus.subscribe(channel, (payload) => {
        try {
          handle(payload)
        } catch (error) {
          // A state vector that does not decode, say: one bad message, not a broken room.
          logger.error({ room: name, err: error }, 'bad cluster message')
        }
      })
      let timer: ReturnType<typeof setTimeout> | undefined
      const ready = Promise.race([
        subscription.ready,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, SUBSCRIBE_WAIT_MS)
          timer.unref()
        }),
      ]).finally(() => clearTimeout(timer))

      return {
        ready,
        publishUpdate: (update) => publish(KIND_UPDATE, update),
        publishAwareness: (frame) => publish(KIND_AWARENESS, frame),
        publishPersisted: (ranges) => publish(KIND_PERSISTED, ranges),
        bind(loaded) {
          room = loaded
          loaded.doc.on('update', invalidate)
          const pending = buffered ?? []
          buffered = null
          for (const payload of pending) handle(payload)
          bound.set(name, { room: loaded, hello })
          hello()
          schedule()
        },
        close() {
          closed = true
          buffered = null
          clearTimeout(tick)
          room?.doc.off('update', invalidate)
          if (room !== null && bound.get(name)?.room === room) bound.delete(name)
          room = null
          subscription.stop()
        },
      }
    },
    destroy() {
      stopUp()
      bound.clear()
    },
  }
}
