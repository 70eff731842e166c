/**
 * y-webrtc signaling: topics (room names) → subscribed connections.
 *
 * Behaves as stock y-webrtc's server does — `publish` goes to every subscriber of the topic, the
 * sender included, with `clients` set to the subscriber count; `ping` gets `pong`; a closed
 * connection leaves all its topics — plus what the reference server lacks: validated input,
 * a topic limit per connection, and, when auth is on, a `write` token for every topic before
 * subscribing or publishing (read-only users never join the writer mesh, R29).
 */
import {
  SIGNALING_PONG,
  encodeSignalingPublication,
  parseSignalingMessage,
  type SignalingClientMessage,
} from '@coedit/sdk/protocol'
import type { Logger } from 'pino'
import type { RevocationList } from '../auth/revocation-list.js'
import type { SignalCluster } from '../cluster/signal-channel.js'
import { AuthError, type TokenGrant, type TokenVerifier } from '../auth/token-verifier.js'
import type { PeerSocket } from '../connection/peer-socket.js'
import type { Limits } from '../config.js'
import type { Metrics } from '../metrics.js'

export interface SignalClient {
  readonly peer: PeerSocket
  /** Token presented at connect time (query or subprotocol); never logged. */
  readonly token: string | undefined
  readonly topics: Set<string>
  /** Grants that admitted this connection's topics (checked again when revocations change). */
  readonly grants: TokenGrant[]
  /** Serialises message handling while token checks are in flight. */
  queue: Promise<void>
}

export interface SignalHub {
  join(peer: PeerSocket, token: string | undefined): SignalClient
  receive(client: SignalClient, data: Buffer, isBinary: boolean): void
  leave(client: SignalClient): void
  /** Closes connections holding a revoked grant. */
  enforceRevocations(): void
  readonly topicCount: number
}

export const createSignalHub = (deps: {
  limits: Limits
  metrics: Metrics
  logger: Logger
  auth: TokenVerifier | undefined
  revocations: RevocationList | undefined
  /** Other instances' subscribers, through Redis; absent: this instance is alone. */
  cluster?: SignalCluster | undefined
}): SignalHub => {
  const { limits, metrics, logger, auth, revocations, cluster } = deps
  const clients = new Set<SignalClient>()
  const topics = new Map<string, Set<SignalClient>>()

  /** Sends a publication to this instance's subscribers of `topic`. */
  const deliver = (topic: string, data: unknown) => {
    const subscribers = topics.get(topic)
    if (subscribers === undefined) return
    const text = encodeSignalingPublication({
      type: 'publish',
      topic,
      data,
      clients: subscribers.size,
    })
    for (const subscriber of subscribers) subscriber.peer.send(text)
  }

  const unsubscribe = (client: SignalClient, topic: string) => {
    const subscribers = topics.get(topic)
    client.topics.delete(topic)
    if (subscribers === undefined) return
    subscribers.delete(client)
    if (subscribers.size > 0) return
    topics.delete(topic)
    cluster?.leave(topic)
  }

  /** Throws AuthError unless `token` grants write access to `topic`. */
  const authorise = async (client: SignalClient, token: string | undefined, topic: string) => {
    if (auth === undefined) return
    if (token === undefined) throw new AuthError('unauthorized', 'a token is required')
    const grant = await auth.verify(token, topic)
    if (grant.perm !== 'write') {
      throw new AuthError('forbidden', 'signaling requires write permission')
    }
    if (revocations?.isRevoked(grant)) throw new AuthError('forbidden', 'token revoked')
    client.grants.push(grant)
  }

  const handle = async (client: SignalClient, message: SignalingClientMessage) => {
    switch (message.type) {
      case 'ping':
        client.peer.send(SIGNALING_PONG)
        return
      case 'subscribe': {
        const fresh = message.topics.filter((topic) => !client.topics.has(topic))
        if (client.topics.size + fresh.length > limits.maxTopicsPerConnection) {
          client.peer.close('tooManyTopics', `at most ${limits.maxTopicsPerConnection} topics`)
          return
        }
        if (auth !== undefined) {
          // Only with auth does subscribing wait: without it, a publish in the same TCP chunk
          // must see the subscription (stock clients subscribe and announce back to back).
          for (const topic of fresh) await authorise(client, message.token ?? client.token, topic)
          if (!client.peer.open) return
        }
        for (const topic of fresh) {
          client.topics.add(topic)
          let subscribers = topics.get(topic)
          if (subscribers === undefined) {
            topics.set(topic, (subscribers = new Set()))
            cluster?.join(topic, (data) => deliver(topic, data))
          }
          subscribers.add(client)
        }
        return
      }
      case 'unsubscribe':
        for (const topic of message.topics) unsubscribe(client, topic)
        return
      case 'publish': {
        if (auth !== undefined && !client.topics.has(message.topic)) {
          throw new AuthError('forbidden', 'publish requires a subscription')
        }
        // Other instances may have subscribers even when this one has none.
        cluster?.publish(message.topic, message.data)
        deliver(message.topic, message.data)
        return
      }
    }
  }

  const fail = (client: SignalClient, error: unknown) => {
    if (error instanceof AuthError) {
      metrics.drops.labels(error.code).inc()
      client.peer.close(error.code, error.message)
      return
    }
    metrics.drops.labels('bad-message').inc()
    logger.info({ conn: client.peer.id, err: error }, 'malformed signaling message')
    client.peer.close('badMessage', 'malformed message')
  }

  return {
    join(peer, token) {
      const client: SignalClient = {
        peer,
        token,
        topics: new Set(),
        grants: [],
        queue: Promise.resolve(),
      }
      clients.add(client)
      return client
    },
    receive(client, data, isBinary) {
      if (!client.peer.admit(data.length)) return
      let message: SignalingClientMessage
      try {
        if (isBinary) throw new Error('signaling frames are JSON text')
        message = parseSignalingMessage(data.toString('utf8'))
      } catch (error) {
        fail(client, error)
        return
      }
      if (auth === undefined) {
        // No awaits without auth: handle synchronously, in order.
        handle(client, message).catch((error: unknown) => fail(client, error))
        return
      }
      client.queue = client.queue
        .then(() => (client.peer.open ? handle(client, message) : undefined))
        .catch((error: unknown) => fail(client, error))
    },
    leave(client) {
      clients.delete(client)
      for (const topic of [...client.topics]) unsubscribe(client, topic)
    },
    enforceRevocations() {
      if (revocations === undefined) return
      for (const client of clients) {
        if (client.grants.some((grant) => revocations.isRevoked(grant))) {
          client.peer.close('forbidden', 'token revoked')
        }
      }
    },
    get topicCount() {
      return topics.size
    },
  }
}
