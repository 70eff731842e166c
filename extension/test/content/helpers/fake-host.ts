/**
 * The session host's side of the `coedit-doc` port protocol over a fake port, on a plain Y.Doc:
 * answers `hello` with `sync`, applies the content script's `sync`/`update` with the port as
 * origin, posts `update` for every other change once the exchange is done, and records the
 * `cursor` the content script publishes. Remote presence is sent with `sendAwareness`.
 */
import { encodeAwarenessUpdate, type Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import {
  fromBase64,
  readContentToHost,
  toBase64,
  type CursorJson,
  type HostToContent,
} from '../../../src/shared/messages.js'
import type { FakePort } from './fake-port.js'

export interface FakeHost {
  readonly doc: Y.Doc
  readonly port: FakePort
  /** Messages received from the content script, validated. */
  readonly received: string[]
  /** The last `cursor` the content script published. */
  readonly cursor: CursorJson | null | undefined
  status(overrides?: Partial<Extract<HostToContent, { type: 'status' }>>): void
  sendAwareness(awareness: Awareness, clients?: number[]): void
  end(reason: string): void
  destroy(): void
}

export const createFakeHost = (port: FakePort, doc = new Y.Doc()): FakeHost => {
  const received: string[] = []
  let cursor: CursorJson | null | undefined
  let open = false
  const post = (message: HostToContent) => port.postMessage(message)

  port.onMessage.addListener((data) => {
    const message = readContentToHost(data)
    if (message === undefined) throw new Error(`fake host: malformed ${JSON.stringify(data)}`)
    received.push(message.type)
    switch (message.type) {
      case 'hello':
        post({
          type: 'sync',
          update: toBase64(Y.encodeStateAsUpdate(doc, fromBase64(message.stateVector))),
          stateVector: toBase64(Y.encodeStateVector(doc)),
        })
        open = true
        return
      case 'sync':
      case 'update':
        Y.applyUpdate(doc, fromBase64(message.update), port)
        return
      case 'cursor':
        cursor = message.cursor
        return
    }
  })
  const onUpdate = (update: Uint8Array, origin: unknown) => {
    if (open && origin !== port && !port.disconnected) {
      post({ type: 'update', update: toBase64(update) })
    }
  }
  doc.on('update', onUpdate)

  return {
    doc,
    port,
    received,
    get cursor() {
      return cursor
    },
    status(overrides = {}) {
      post({
        type: 'status',
        relay: 'connected',
        webrtc: 'connected',
        saved: true,
        synced: true,
        peers: [],
        ...overrides,
      })
    },
    sendAwareness(awareness, clients = [awareness.clientID]) {
      post({ type: 'awareness', update: toBase64(encodeAwarenessUpdate(awareness, clients)) })
    },
    end(reason) {
      post({ type: 'ended', reason })
    },
    destroy() {
      doc.off('update', onUpdate)
    },
  }
}
