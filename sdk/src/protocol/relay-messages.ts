/**
 * Encoders and the decoder for relay frames (y-websocket wire format plus Coedit's extension).
 *
 * One message per frame: stock y-websocket v3 clients read only the first message of a frame,
 * so encoders never batch. The decoder is strict (trailing bytes, unknown sub-types and
 * truncation are errors) because everything it reads is untrusted; it throws only
 * {@link CoeditError} with code `bad-message`, for the caller's single boundary to catch.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { decodeAwarenessUpdate, type AwarenessEntry } from './awareness-update.js'
import { malformed } from './errors.js'
import { CoeditMessageKind, RelayMessageType, SyncMessageType } from './message-types.js'

export type RelayMessage =
  | { readonly type: 'sync-step1'; readonly stateVector: Uint8Array }
  | { readonly type: 'sync-step2'; readonly update: Uint8Array }
  | { readonly type: 'sync-update'; readonly update: Uint8Array }
  | {
      readonly type: 'awareness'
      /** The awareness payload exactly as received (forwardable without re-encoding). */
      readonly update: Uint8Array
      readonly entries: readonly AwarenessEntry[]
    }
  | { readonly type: 'auth-denied'; readonly reason: string }
  | { readonly type: 'query-awareness' }
  | { readonly type: 'coedit-hello'; readonly major: number; readonly minor: number }
  | {
      readonly type: 'coedit-saved'
      /** State vector (Yjs v1 encoding) of everything the server has made durable in this room. */
      readonly stateVector: Uint8Array
      /** How many of this connection's document messages are durable (see PROTOCOL.md). */
      readonly acked: number
    }

const finish = <T>(decoder: decoding.Decoder, message: T): T => {
  if (decoding.hasContent(decoder)) throw malformed('trailing bytes after message')
  return message
}

const decodeSync = (decoder: decoding.Decoder): RelayMessage => {
  const sub = decoding.readVarUint(decoder)
  const payload = decoding.readVarUint8Array(decoder)
  switch (sub) {
    case SyncMessageType.step1:
      return finish(decoder, { type: 'sync-step1', stateVector: payload })
    case SyncMessageType.step2:
      return finish(decoder, { type: 'sync-step2', update: payload })
    case SyncMessageType.update:
      return finish(decoder, { type: 'sync-update', update: payload })
    default:
      throw malformed(`unknown sync message type ${sub}`)
  }
}

const decodeCoedit = (decoder: decoding.Decoder): RelayMessage => {
  const kind = decoding.readVarUint(decoder)
  switch (kind) {
    case CoeditMessageKind.hello: {
      const major = decoding.readVarUint(decoder)
      const minor = decoding.readVarUint(decoder)
      return finish(decoder, { type: 'coedit-hello', major, minor })
    }
    case CoeditMessageKind.saved: {
      const stateVector = decoding.readVarUint8Array(decoder)
      const acked = decoding.readVarUint(decoder)
      return finish(decoder, { type: 'coedit-saved', stateVector, acked })
    }
    default:
      throw malformed(`unknown coedit message kind ${kind}`)
  }
}

/**
 * Decodes one relay frame. Throws `CoeditError('bad-message')` on anything malformed, including
 * lib0's out-of-bounds reads on truncated input.
 */
export const decodeRelayFrame = (frame: Uint8Array): RelayMessage => {
  try {
    const decoder = decoding.createDecoder(frame)
    const type = decoding.readVarUint(decoder)
    switch (type) {
      case RelayMessageType.sync:
        return decodeSync(decoder)
      case RelayMessageType.awareness: {
        const update = decoding.readVarUint8Array(decoder)
        const entries = decodeAwarenessUpdate(update)
        return finish(decoder, { type: 'awareness', update, entries })
      }
      case RelayMessageType.auth: {
        const sub = decoding.readVarUint(decoder)
        if (sub !== 0) throw malformed(`unknown auth message type ${sub}`)
        return finish(decoder, { type: 'auth-denied', reason: decoding.readVarString(decoder) })
      }
      case RelayMessageType.queryAwareness:
        return finish(decoder, { type: 'query-awareness' })
      case RelayMessageType.coedit:
        return decodeCoedit(decoder)
      default:
        throw malformed(`unknown message type ${type}`)
    }
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'bad-message') throw error
    throw malformed('truncated or malformed frame', error)
  }
}

const frame = (write: (encoder: encoding.Encoder) => void): Uint8Array => {
  const encoder = encoding.createEncoder()
  write(encoder)
  return encoding.toUint8Array(encoder)
}

const encodeSync = (sub: SyncMessageType, payload: Uint8Array): Uint8Array =>
  frame((encoder) => {
    encoding.writeVarUint(encoder, RelayMessageType.sync)
    encoding.writeVarUint(encoder, sub)
    encoding.writeVarUint8Array(encoder, payload)
  })

/** `[0, 0, stateVector]`: "here is what I have; send me the rest". */
export const encodeSyncStep1 = (stateVector: Uint8Array): Uint8Array =>
  encodeSync(SyncMessageType.step1, stateVector)

/** `[0, 1, update]`: the answer to a step 1. */
export const encodeSyncStep2 = (update: Uint8Array): Uint8Array =>
  encodeSync(SyncMessageType.step2, update)

/** `[0, 2, update]`: an incremental document update. */
export const encodeSyncUpdate = (update: Uint8Array): Uint8Array =>
  encodeSync(SyncMessageType.update, update)

/** `[1, awarenessUpdate]`. */
export const encodeAwarenessFrame = (awarenessUpdate: Uint8Array): Uint8Array =>
  frame((encoder) => {
    encoding.writeVarUint(encoder, RelayMessageType.awareness)
    encoding.writeVarUint8Array(encoder, awarenessUpdate)
  })

/** `[3]`: asks the other side for every awareness state it knows. */
export const encodeQueryAwareness = (): Uint8Array =>
  frame((encoder) => encoding.writeVarUint(encoder, RelayMessageType.queryAwareness))

/** `[2, 0, reason]`: stock "permission denied" (stock clients only log it). */
export const encodeAuthDenied = (reason: string): Uint8Array =>
  frame((encoder) => {
    encoding.writeVarUint(encoder, RelayMessageType.auth)
    encoding.writeVarUint(encoder, 0)
    encoding.writeVarString(encoder, reason)
  })

/** `[100, 0, major, minor]`: the server's Coedit protocol version. */
export const encodeCoeditHello = (major: number, minor: number): Uint8Array =>
  frame((encoder) => {
    encoding.writeVarUint(encoder, RelayMessageType.coedit)
    encoding.writeVarUint(encoder, CoeditMessageKind.hello)
    encoding.writeVarUint(encoder, major)
    encoding.writeVarUint(encoder, minor)
  })

/** `[100, 1, stateVector, acked]`: what is durable (see PROTOCOL.md, "saved"). */
export const encodeCoeditSaved = (stateVector: Uint8Array, acked: number): Uint8Array =>
  frame((encoder) => {
    encoding.writeVarUint(encoder, RelayMessageType.coedit)
    encoding.writeVarUint(encoder, CoeditMessageKind.saved)
    encoding.writeVarUint8Array(encoder, stateVector)
    encoding.writeVarUint(encoder, acked)
  })

/** Whether a decoded message carries document content (what read-only connections may not send). */
export const isDocumentWrite = (message: RelayMessage): boolean =>
  message.type === 'sync-step2' || message.type === 'sync-update'
