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
 *
 * A hello is published when a room loads and, for every room, whenever the bus comes back after
 * an outage: instances that edited apart then exchange exactly their differences (R12, R25).
 * Answers go to the whole channel; applying an update twice is a no-op in Yjs.
 *
 * Load order: subscribe, buffer what arrives, load from storage, apply the buffer, say hello —
 * so nothing published between the storage read and the subscription is lost.
 *
 * Persistence stays with the instance whose client sent an update: remote updates are applied
 * with a distinct origin that is broadcast locally but neither stored nor re-published
 * (relay/room.ts, `ClusterLink`).
 */
import type { Logger } from 'pino'
import * as Y from 'yjs'
import type { ClusterLink, Room } from '../relay/room.js'
import { roomChannel, type RedisBus, type Subscription } from './redis-bus.js'

const KIND_UPDATE = 0
const KIND_AWARENESS = 1
const KIND_SYNC_HELLO = 2
const KIND_SYNC_REQUEST = 3

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

const frameOf = (kind: number, body: Uint8Array): Buffer => {
  const frame = Buffer.allocUnsafe(1 + body.length)
  frame[0] = kind
  frame.set(body, 1)
  return frame
}

export const createRoomCluster = (deps: { bus: RedisBus; logger: Logger }): RoomCluster => {
  const { bus, logger } = deps
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

      const publish = (kind: number, body: Uint8Array) => {
        if (!closed) bus.publish(channel, frameOf(kind, body))
      }
      const answer = (stateVector: Uint8Array, loaded: Room) => {
        publish(KIND_UPDATE, Y.encodeStateAsUpdate(loaded.doc, stateVector))
      }
      const hello = () => {
        if (room !== null) publish(KIND_SYNC_HELLO, Y.encodeStateVector(room.doc))
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
            return
          case KIND_SYNC_REQUEST:
            answer(body, room)
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
        bind(loaded) {
          room = loaded
          const pending = buffered ?? []
          buffered = null
          for (const payload of pending) handle(payload)
          bound.set(name, { room: loaded, hello })
          hello()
        },
        close() {
          closed = true
          buffered = null
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
