/**
 * A minimal relay client speaking the y-websocket protocol over `ws`, with the Coedit extension
 * when asked: it counts the document messages it sends and records the server's `saved`
 * acknowledgements, so tests can check exactly which edits the server declared durable.
 * Stock-client behaviour is tested with the real `y-websocket` provider elsewhere.
 */
import { EventEmitter } from 'node:events'
import {
  decodeRelayFrame,
  decodeStateVectorMap,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeSyncUpdate,
  isCoveredBy,
} from '@coedit/sdk/protocol'
import WebSocket from 'ws'
import * as Y from 'yjs'

export interface TestRelayClient {
  readonly ws: WebSocket
  readonly doc: Y.Doc
  readonly events: EventEmitter
  /** Document messages sent (step 2 and updates). */
  sent: number
  /** Last acknowledged count from a `saved` message. */
  acked: number
  /** Last persisted state vector from a `saved` message. */
  persisted: Map<number, number>
  synced: boolean
  closeCode: number | undefined
  /** Everything the server has acknowledged as durable covers this client's state. */
  isSaved(): boolean
  opened: Promise<void>
  closed: Promise<{ code: number; reason: string }>
  close(): void
}

export const connectRelay = (
  wsUrl: string,
  room: string,
  options: { coedit?: boolean; token?: string; doc?: Y.Doc; query?: Record<string, string> } = {},
): TestRelayClient => {
  const params = new URLSearchParams(options.query)
  if (options.coedit) params.set('coedit', '1')
  if (options.token !== undefined) params.set('token', options.token)
  const search = params.size > 0 ? `?${params}` : ''
  const ws = new WebSocket(`${wsUrl}/relay/${encodeURIComponent(room)}${search}`)
  const doc = options.doc ?? new Y.Doc()
  const events = new EventEmitter()
  const client: TestRelayClient = {
    ws,
    doc,
    events,
    sent: 0,
    acked: 0,
    persisted: new Map(),
    synced: false,
    closeCode: undefined,
    isSaved() {
      return (
        client.acked >= client.sent &&
        isCoveredBy(decodeStateVectorMap(Y.encodeStateVector(doc)), client.persisted)
      )
    },
    opened: new Promise((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
    }),
    closed: new Promise((resolve) => {
      ws.once('close', (code, reason) => {
        client.closeCode = code
        resolve({ code, reason: reason.toString() })
        events.emit('close', code)
      })
    }),
    close() {
      ws.close()
    },
  }
  const send = (frame: Uint8Array, isDocument: boolean) => {
    if (ws.readyState !== WebSocket.OPEN) return
    if (isDocument) client.sent++
    ws.send(frame)
  }
  doc.on('update', (update: Uint8Array, origin: unknown) => {
    if (origin !== client) send(encodeSyncUpdate(update), true)
  })
  ws.on('open', () => send(encodeSyncStep1(Y.encodeStateVector(doc)), false))
  ws.on('message', (data: Buffer) => {
    const message = decodeRelayFrame(new Uint8Array(data))
    switch (message.type) {
      case 'sync-step1':
        send(encodeSyncStep2(Y.encodeStateAsUpdate(doc, message.stateVector)), true)
        break
      case 'sync-step2':
        Y.applyUpdate(doc, message.update, client)
        client.synced = true
        events.emit('synced')
        break
      case 'sync-update':
        Y.applyUpdate(doc, message.update, client)
        break
      case 'coedit-saved':
        client.acked = message.acked
        client.persisted = decodeStateVectorMap(message.stateVector)
        events.emit('saved')
        break
      default:
        break
    }
    events.emit('message', message)
  })
  // Tests that care await `opened`; for the rest a failed connect shows up as `closed`, and must
  // not surface as an unhandled rejection.
  client.opened.catch(() => undefined)
  return client
}

/**
 * Sends a sync step 1 and waits for the step 2 that answers it: the server handles a
 * connection's frames in order, so whatever it sent in reply to earlier frames has arrived by
 * then. (Awareness is no good for this: the server also echoes a client's own presence.)
 */
export const roundTrip = async (client: TestRelayClient): Promise<void> => {
  const answered = new Promise<void>((resolve) => {
    const onMessage = (message: { type: string }) => {
      if (message.type !== 'sync-step2') return
      client.events.off('message', onMessage)
      resolve()
    }
    client.events.on('message', onMessage)
  })
  client.ws.send(encodeSyncStep1(Y.encodeStateVector(client.doc)))
  await answered
}
