/**
 * The Redis pub/sub bus several server instances share (R10): two connections — a dedicated
 * subscriber (a connection in subscribe mode can run nothing else) and a publisher — and the
 * envelope that makes echo suppression a property of the bus rather than of each user.
 *
 * Channels: one per room (`coedit:room:<room>`) and one per signaling topic
 * (`coedit:signal:<topic>`), never one shared channel. Redis delivers a message to every
 * connection subscribed to its channel, so its cost grows with subscribers per channel: with one
 * channel per room an instance receives only the traffic of rooms it serves, and an instance
 * that serves no client of a room pays nothing for it. Subscriptions are opened when a room is
 * loaded (a topic gets its first local subscriber) and closed when it unloads (loses its last).
 * Sharding is by room, never by tenant (R27).
 *
 * Envelope: `u8 idLength • instance id (ASCII) • payload`. Every instance ignores messages
 * carrying its own id, so nothing it publishes comes back to it (no echo loops, no duplicates).
 * Payloads are binary (Yjs updates): node-redis publishes a `Buffer` as is and delivers
 * `Buffer`s to listeners subscribed in buffer mode — no base64, which would cost a third more
 * bytes on every hop and an encode/decode per message.
 *
 * Failure: the bus never makes an instance unavailable. While Redis is unreachable, `publish`
 * drops (no offline queue: the resync after reconnecting carries what was missed, and a queue
 * would replay stale traffic) and subscribing is recorded and done once the connection returns;
 * node-redis reconnects with jittered exponential backoff. Listeners of `onUp` run every time
 * both connections become ready — after node-redis resubscribed — so rooms can resync.
 */
import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import { Gauge } from 'prom-client'
import { createClient } from 'redis'
import type { Metrics } from '../metrics.js'

/** Channel of a relay room. */
export const roomChannel = (room: string): string => `coedit:room:${room}`
/** Channel of a y-webrtc signaling topic. */
export const signalChannel = (topic: string): string => `coedit:signal:${topic}`

/** Longest reconnect delay, ms: bounds how long the bus stays down after Redis returns. */
const RECONNECT_MAX_MS = 2_000

export interface RedisBus {
  /** This instance's id, carried by everything it publishes. */
  readonly instanceId: string
  /** Whether both connections are ready. */
  readonly up: boolean
  /**
   * Delivers messages of `channel` published by other instances to `handler`. Resolves once
   * Redis confirmed the subscription, or at once while Redis is down (subscribed on reconnect).
   * Returns the subscription's undo with `stop`; a newer subscription to the same channel
   * replaces this one, and then `stop` does nothing.
   */
  subscribe(channel: string, handler: (payload: Buffer) => void): Subscription
  /** Publishes to other instances; returns false (dropped) while Redis is down. */
  publish(channel: string, payload: Uint8Array): boolean
  /** Runs `listener` whenever the bus becomes up (initial connect and every reconnect). */
  onUp(listener: () => void): () => void
  /** Closes both connections. */
  destroy(): Promise<void>
}

export interface Subscription {
  readonly ready: Promise<void>
  stop(): void
}

export interface RedisBusOptions {
  /** `redis://[user:password@]host:port[/db]` */
  url: string
  logger: Logger
  metrics: Metrics
  /** Fault injection for tests: publications for which this returns true are dropped. */
  dropPublish?: ((channel: string, payload: Uint8Array) => boolean) | undefined
}

/** Full-jitter exponential backoff, 50 ms doubling up to {@link RECONNECT_MAX_MS}. */
const reconnectDelay = (retries: number): number =>
  Math.round(Math.random() * Math.min(RECONNECT_MAX_MS, 50 * 2 ** Math.min(retries, 10))) + 20

export const createRedisBus = (options: RedisBusOptions): RedisBus => {
  const { logger } = options
  const instanceId = randomUUID()
  const header = Buffer.concat([Buffer.from([instanceId.length]), Buffer.from(instanceId)])
  const publisher = createClient({
    url: options.url,
    disableOfflineQueue: true,
    socket: { reconnectStrategy: reconnectDelay, connectTimeout: 2_000 },
  })
  const subscriber = publisher.duplicate()
  const handlers = new Map<string, (payload: Buffer) => void>()
  const upListeners = new Set<() => void>()
  let destroyed = false
  let wasUp = false

  const isUp = () => publisher.isReady && subscriber.isReady

  /** One listener for every channel, so subscribing twice to one channel is a no-op. */
  const dispatch = (message: Buffer, channel: Buffer) => {
    const idLength = message[0]
    if (idLength === undefined || message.length < 1 + idLength) return
    if (message.toString('latin1', 1, 1 + idLength) === instanceId) return
    const handler = handlers.get(channel.toString())
    if (handler === undefined) return
    try {
      handler(message.subarray(1 + idLength))
    } catch (error) {
      logger.error({ channel: channel.toString(), err: error }, 'cluster message handler failed')
    }
  }

  const sendSubscribe = (channel: string): Promise<void> =>
    subscriber.subscribe(channel, dispatch, true).catch((error: unknown) => {
      // Retried by `resubscribeAll` when the connection is back.
      logger.debug({ channel, err: error }, 'redis subscribe failed')
    })

  const resubscribeAll = async () => {
    // node-redis resubscribes what it had confirmed; this covers subscriptions requested while
    // the connection was down (and is free for the others: same listener, no command sent).
    await Promise.all([...handlers.keys()].map(sendSubscribe))
  }

  const checkUp = () => {
    const up = isUp()
    if (up === wasUp || destroyed) return
    wasUp = up
    if (!up) {
      logger.warn('redis bus down: serving local clients only until it returns')
      return
    }
    logger.info('redis bus up')
    void resubscribeAll().then(() => {
      if (!isUp()) return
      for (const listener of upListeners) {
        try {
          listener()
        } catch (error) {
          logger.error({ err: error }, 'redis up listener failed')
        }
      }
    })
  }

  let lastError = ''
  const onError = (error: Error) => {
    // Every reconnect attempt fails with the same error while Redis is down: log changes only.
    if (error.message !== lastError) logger.warn({ err: error }, 'redis connection error')
    lastError = error.message
    checkUp()
  }
  for (const client of [publisher, subscriber]) {
    client.on('error', onError)
    client.on('ready', () => {
      lastError = ''
      checkUp()
    })
    client.on('reconnecting', checkUp)
    client.on('end', checkUp)
  }

  const connect = (client: typeof publisher) =>
    client.connect().catch((error: unknown) => {
      if (!destroyed) logger.error({ err: error }, 'redis connect failed')
    })
  void connect(publisher)
  void connect(subscriber)

  const gauge = new Gauge({
    name: 'coedit_redis_up',
    help: 'Whether the Redis bus shared with other instances is connected (1) or not (0)',
    registers: [options.metrics.registry],
    collect() {
      this.set(isUp() ? 1 : 0)
    },
  })
  void gauge

  return {
    instanceId,
    get up() {
      return isUp()
    },
    subscribe(channel, handler) {
      handlers.set(channel, handler)
      const ready = subscriber.isReady ? sendSubscribe(channel) : Promise.resolve()
      return {
        ready,
        stop() {
          if (handlers.get(channel) !== handler) return
          handlers.delete(channel)
          if (!subscriber.isReady) return
          subscriber.unsubscribe(channel, dispatch, true).catch((error: unknown) => {
            logger.debug({ channel, err: error }, 'redis unsubscribe failed')
          })
        },
      }
    },
    publish(channel, payload) {
      if (!publisher.isReady) return false
      if (options.dropPublish?.(channel, payload) === true) return true
      publisher.publish(channel, Buffer.concat([header, payload])).catch((error: unknown) => {
        logger.debug({ channel, err: error }, 'redis publish failed')
      })
      return true
    },
    onUp(listener) {
      upListeners.add(listener)
      return () => upListeners.delete(listener)
    },
    async destroy() {
      destroyed = true
      handlers.clear()
      upListeners.clear()
      await Promise.all(
        [publisher, subscriber].map((client) =>
          client.isOpen ? client.close().catch(() => client.destroy()) : undefined,
        ),
      )
    },
  }
}
