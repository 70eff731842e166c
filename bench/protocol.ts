/**
 * The two wire dialects the load generator speaks, reduced to what a benchmark client needs.
 *
 * - `y-websocket`: the stock protocol (y-protocols `sync` + `awareness`), one message per frame.
 *   Coedit's relay and `@y/websocket-server` speak it.
 * - `hocuspocus`: the same messages, each frame prefixed with `varString(documentName)`; message
 *   type 4 (SyncReply) is a sync message too, 8 is a sync-status acknowledgement, and the first
 *   frame for a document must be an Auth frame (`2 • 0 (Token) • varString(token)`): the server
 *   queues everything else until that arrives, even without an `onAuthenticate` hook
 *   (`ClientConnection.handleQueueingMessage` in `@hocuspocus/server` 4.x).
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

export type Dialect = 'y-websocket' | 'hocuspocus'

export type Incoming =
  | { readonly kind: 'sync-step1'; readonly stateVector: Uint8Array }
  | { readonly kind: 'sync-step2'; readonly update: Uint8Array }
  | { readonly kind: 'update'; readonly update: Uint8Array }
  | { readonly kind: 'awareness' }
  | { readonly kind: 'authenticated' }
  | { readonly kind: 'denied'; readonly reason: string }
  | { readonly kind: 'other'; readonly type: number }

export interface Codec {
  /** Frames a client sends before anything else (Hocuspocus: its Auth message). */
  hello(): Uint8Array[]
  syncStep1(stateVector: Uint8Array): Uint8Array
  syncStep2(update: Uint8Array): Uint8Array
  update(update: Uint8Array): Uint8Array
  /** An awareness update carrying one client's state. */
  awareness(clientID: number, clock: number, state: string): Uint8Array
  decode(frame: Uint8Array): Incoming
}

const MESSAGE_SYNC = 0
const MESSAGE_AWARENESS = 1
const MESSAGE_AUTH = 2
const HOCUSPOCUS_SYNC_REPLY = 4
const SYNC_STEP1 = 0
const SYNC_STEP2 = 1
const SYNC_UPDATE = 2
const AUTH_TOKEN = 0
const AUTH_DENIED = 1
const AUTH_AUTHENTICATED = 2

/** `Y.encodeStateAsUpdate` of an empty document. */
export const EMPTY_UPDATE = new Uint8Array([0, 0])
/** `Y.encodeStateVector` of an empty document. */
export const EMPTY_STATE_VECTOR = new Uint8Array([0])

export const createCodec = (dialect: Dialect, documentName: string): Codec => {
  const prefixed = dialect === 'hocuspocus'
  const frame = (write: (encoder: encoding.Encoder) => void): Uint8Array => {
    const encoder = encoding.createEncoder()
    if (prefixed) encoding.writeVarString(encoder, documentName)
    write(encoder)
    return encoding.toUint8Array(encoder)
  }
  const sync = (subtype: number, payload: Uint8Array) =>
    frame((encoder) => {
      encoding.writeVarUint(encoder, MESSAGE_SYNC)
      encoding.writeVarUint(encoder, subtype)
      encoding.writeVarUint8Array(encoder, payload)
    })

  return {
    hello: () =>
      prefixed
        ? [
            frame((encoder) => {
              encoding.writeVarUint(encoder, MESSAGE_AUTH)
              encoding.writeVarUint(encoder, AUTH_TOKEN)
              encoding.writeVarString(encoder, '')
            }),
          ]
        : [],
    syncStep1: (stateVector) => sync(SYNC_STEP1, stateVector),
    syncStep2: (update) => sync(SYNC_STEP2, update),
    update: (update) => sync(SYNC_UPDATE, update),
    awareness: (clientID, clock, state) =>
      frame((encoder) => {
        const inner = encoding.createEncoder()
        encoding.writeVarUint(inner, 1)
        encoding.writeVarUint(inner, clientID)
        encoding.writeVarUint(inner, clock)
        encoding.writeVarString(inner, state)
        encoding.writeVarUint(encoder, MESSAGE_AWARENESS)
        encoding.writeVarUint8Array(encoder, encoding.toUint8Array(inner))
      }),
    decode: (data) => {
      const decoder = decoding.createDecoder(data)
      if (prefixed) decoding.readVarString(decoder)
      const type = decoding.readVarUint(decoder)
      if (type === MESSAGE_SYNC || (prefixed && type === HOCUSPOCUS_SYNC_REPLY)) {
        const subtype = decoding.readVarUint(decoder)
        const payload = decoding.readVarUint8Array(decoder)
        if (subtype === SYNC_STEP1) return { kind: 'sync-step1', stateVector: payload }
        if (subtype === SYNC_STEP2) return { kind: 'sync-step2', update: payload }
        if (subtype === SYNC_UPDATE) return { kind: 'update', update: payload }
        return { kind: 'other', type }
      }
      if (type === MESSAGE_AWARENESS) return { kind: 'awareness' }
      if (type === MESSAGE_AUTH) {
        const subtype = decoding.readVarUint(decoder)
        if (prefixed && subtype === AUTH_AUTHENTICATED) return { kind: 'authenticated' }
        // y-protocols `auth`: 0 = permission denied; Hocuspocus: 1 = permission denied.
        if (subtype === (prefixed ? AUTH_DENIED : 0)) {
          return { kind: 'denied', reason: decoding.readVarString(decoder) }
        }
      }
      return { kind: 'other', type }
    },
  }
}
