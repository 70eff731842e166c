/**
 * y-webrtc signaling messages (JSON text frames), as stock y-webrtc 10.x sends and expects them.
 *
 * The server never reads `data` of a publish (it may be an encrypted string when the room has a
 * password); it only forwards it. {@link parseSignalingMessage} validates the envelope and throws
 * `CoeditError('bad-message')` for anything else.
 */
import { malformed } from './errors.js'

/** Longest accepted topic (room) name, in UTF-16 code units. */
export const MAX_TOPIC_LENGTH = 512

export type SignalingClientMessage =
  | {
      readonly type: 'subscribe'
      readonly topics: readonly string[]
      /** Coedit extension: a token for these topics (stock clients put theirs in the URL). */
      readonly token?: string
    }
  | { readonly type: 'unsubscribe'; readonly topics: readonly string[] }
  | { readonly type: 'publish'; readonly topic: string; readonly data: unknown }
  | { readonly type: 'ping' }

export interface SignalingPublication {
  readonly type: 'publish'
  readonly topic: string
  readonly data: unknown
  /** Number of subscribers of the topic at delivery time (stock clients use it). */
  readonly clients: number
}

export interface SignalingPong {
  readonly type: 'pong'
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const readTopic = (value: unknown): string => {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_TOPIC_LENGTH) {
    throw malformed('topic must be a non-empty string of at most 512 characters')
  }
  return value
}

const readTopics = (value: unknown): string[] => {
  if (!Array.isArray(value)) throw malformed('topics must be an array')
  return value.map(readTopic)
}

/** Parses and validates one signaling frame's text. */
export const parseSignalingMessage = (text: string): SignalingClientMessage => {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw malformed('signaling frame is not JSON', error)
  }
  if (!isRecord(value)) throw malformed('signaling message must be an object')
  switch (value['type']) {
    case 'subscribe': {
      const token = value['token']
      if (token !== undefined && typeof token !== 'string')
        throw malformed('token must be a string')
      const topics = readTopics(value['topics'])
      return token === undefined
        ? { type: 'subscribe', topics }
        : { type: 'subscribe', topics, token }
    }
    case 'unsubscribe':
      return { type: 'unsubscribe', topics: readTopics(value['topics']) }
    case 'publish':
      return { type: 'publish', topic: readTopic(value['topic']), data: value['data'] }
    case 'ping':
      return { type: 'ping' }
    default:
      throw malformed('unknown signaling message type')
  }
}

/** The text a server sends to every subscriber of a topic (sender included). */
export const encodeSignalingPublication = (publication: SignalingPublication): string =>
  JSON.stringify(publication)

export const SIGNALING_PONG: string = JSON.stringify({ type: 'pong' } satisfies SignalingPong)
