/**
 * y-webrtc signaling across instances: a `publish` on a topic reaches the topic's subscribers on
 * every instance, so two peers of one room find each other whichever instance each reached.
 *
 * One channel per topic (`coedit:signal:<topic>`), subscribed while the topic has a local
 * subscriber (see cluster/redis-bus.ts for why per topic). The message is the publication's
 * `data` as JSON; each instance frames it for its own subscribers (`clients` is then the local
 * subscriber count — stock y-webrtc does not rely on it). Signaling is ephemeral: what is lost
 * while Redis is down is not replayed (y-webrtc announces itself again periodically).
 */
import type { Logger } from 'pino'
import { signalChannel, type RedisBus, type Subscription } from './redis-bus.js'

export interface SignalCluster {
  /** Starts delivering other instances' publications on `topic` to `deliver`. */
  join(topic: string, deliver: (data: unknown) => void): void
  /** Stops it (the topic's last local subscriber left). */
  leave(topic: string): void
  /** Sends a local publication to the other instances. */
  publish(topic: string, data: unknown): void
  /** Drops every subscription. */
  destroy(): void
}

export const createSignalCluster = (deps: { bus: RedisBus; logger: Logger }): SignalCluster => {
  const { bus, logger } = deps
  const subscriptions = new Map<string, Subscription>()
  return {
    join(topic, deliver) {
      subscriptions.get(topic)?.stop()
      const subscription = bus.subscribe(signalChannel(topic), (payload) => {
        let data: unknown
        try {
          data = JSON.parse(payload.toString('utf8'))
        } catch (error) {
          logger.warn({ topic, err: error }, 'bad signaling message from another instance')
          return
        }
        deliver(data)
      })
      subscriptions.set(topic, subscription)
    },
    leave(topic) {
      subscriptions.get(topic)?.stop()
      subscriptions.delete(topic)
    },
    publish(topic, data) {
      bus.publish(signalChannel(topic), Buffer.from(JSON.stringify(data) ?? 'null'))
    },
    destroy() {
      for (const subscription of subscriptions.values()) subscription.stop()
      subscriptions.clear()
    },
  }
}
