/**
 * Large rooms (R37): loading applies a large room in pieces, one per event-loop turn, to the same
 * document the inline load gives, skipping rows Yjs cannot apply; a client joining one through a
 * real server is answered in pieces and receives all of it, a stock client included.
 */
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { decodeRelayFrame, encodeSyncStep1 } from '@coedit/sdk/protocol'
import { createDocumentLoader } from '../src/relay/load-document.js'
import { createMetrics } from '../src/metrics.js'
import { createLoadWorker, type LoadWorker } from '../src/storage/load-worker.js'
import { splitState } from '../src/storage/split-state.js'
import { createSqliteStorage } from '../src/storage/sqlite-storage.js'
import { makeDataDir, startServer, type TestServer } from './helpers/server.js'
import { until } from './helpers/wait.js'

const logger = pino({ level: 'silent' })

/** A document of `paragraphs` paragraphs typed at scattered places by two writers. */
const largeHistory = (paragraphs: number): { doc: Y.Doc; rows: Uint8Array[] } => {
  const doc = new Y.Doc()
  const other = new Y.Doc()
  const rows: Uint8Array[] = []
  for (const [index, writer] of [doc, other].entries()) {
    const peer = index === 0 ? other : doc
    writer.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === 'peer') return
      rows.push(update)
      Y.applyUpdate(peer, update, 'peer')
    })
  }
  for (let k = 0; k < paragraphs; k++) {
    const text = (k % 2 === 0 ? doc : other).getText('t')
    text.insert(Math.floor((k * 7_919) % (text.length + 1)), `paragraph ${k} `.repeat(20))
    if (k % 5 === 0) text.delete(Math.floor(text.length / 3), 10)
  }
  return { doc, rows }
}

const workers: LoadWorker[] = []
const servers: TestServer[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close()
  for (const worker of workers.splice(0)) await worker.destroy()
})

describe('createDocumentLoader', () => {
  it('applies a large room piece by piece, letting the event loop turn between pieces', async () => {
    const { doc: expected, rows } = largeHistory(300)
    const pieces = splitState(Y, expected, 2_000)
    expect(pieces.length).toBeGreaterThan(20)
    // A worker that answers at once (a microtask): every turn seen below is the loader's.
    const worker: LoadWorker = {
      split: () => Promise.resolve({ updates: pieces, failed: [] }),
      destroy: () => Promise.resolve(),
    }
    const load = createDocumentLoader({
      worker,
      metrics: createMetrics(),
      logger,
      largeRoomBytes: 1,
    })
    let turns = 0
    let turning = true
    const tick = () => {
      turns++
      if (turning) setImmediate(tick)
    }
    setImmediate(tick)
    const bytes = rows.reduce((sum, row) => sum + row.length, 0)
    const doc = await load('room', { updates: rows, bytes, logCount: rows.length })
    turning = false
    expect(turns).toBeGreaterThanOrEqual(pieces.length - 1)
    expect(doc.getText('t').toString()).toBe(expected.getText('t').toString())
    expect(Y.encodeStateVector(doc)).toEqual(Y.encodeStateVector(expected))
  })

  it('gives the inline document through the real worker, skipping rows Yjs cannot apply', async () => {
    const worker = createLoadWorker()
    workers.push(worker)
    const metrics = createMetrics()
    const { doc: expected, rows } = largeHistory(200)
    const stored = [...rows.slice(0, 5), new Uint8Array([255, 255, 255, 255]), ...rows.slice(5)]
    const bytes = stored.reduce((sum, row) => sum + row.length, 0)
    const viaWorker = createDocumentLoader({
      worker,
      metrics,
      logger,
      largeRoomBytes: 1,
      pieceLength: 3_000,
    })
    const inline = createDocumentLoader({ metrics: createMetrics(), logger })
    const room = { updates: stored, bytes, logCount: stored.length }
    const [pieced, whole] = [await viaWorker('room', room), await inline('room', room)]
    expect(pieced.getText('t').toString()).toBe(expected.getText('t').toString())
    expect(Y.encodeStateAsUpdate(pieced)).toEqual(Y.encodeStateAsUpdate(whole))
    const drops = await metrics.drops.get()
    expect(
      drops.values.find((value) => value.labels.reason === 'corrupt-stored-update')?.value,
    ).toBe(1)
  })
})

/** Joins `room` with an empty document; counts the update pieces before the sync step 2. */
const joinRaw = (server: TestServer, room: string) =>
  new Promise<{ doc: Y.Doc; pieces: number }>((resolve, reject) => {
    const ws = new WebSocket(`${server.wsUrl}/relay/${room}`)
    const doc = new Y.Doc()
    let pieces = 0
    ws.on('open', () => ws.send(encodeSyncStep1(Y.encodeStateVector(new Y.Doc()))))
    ws.on('message', (data: Buffer) => {
      const message = decodeRelayFrame(new Uint8Array(data))
      if (message.type === 'sync-update') {
        pieces++
        Y.applyUpdate(doc, message.update)
      } else if (message.type === 'sync-step2') {
        Y.applyUpdate(doc, message.update)
        ws.close()
        resolve({ doc, pieces })
      }
    })
    ws.on('close', (code) => reject(new Error(`closed (${code}) before the sync step 2`)))
    ws.on('error', reject)
  })

describe('a large stored room through the server', () => {
  it('answers a client joining a 9 MB room in pieces, past the 8 MB send-buffer cap', async () => {
    const dir = makeDataDir()
    const source = new Y.Doc()
    const rows: Uint8Array[] = []
    source.on('update', (update: Uint8Array) => rows.push(update))
    const text = source.getText('t')
    // 9,000 pastes of 1,000 characters at scattered places: 9 MB in thousands of items. (Pieces
    // end between items, so one 9 MB item could still only be sent whole.)
    for (let k = 0; k < 9_000; k++) {
      text.insert((k * 7_919) % (text.length + 1), String(k % 10).repeat(1_000))
    }
    const seed = createSqliteStorage({ dir })
    await seed.appendUpdates('huge', rows)
    await seed.close()

    const server = await startServer({ dataDir: dir })
    servers.push(server)
    const { doc, pieces } = await joinRaw(server, 'huge')
    // One 9 MB frame would exceed the cap and close the client as a slow consumer.
    expect(pieces).toBeGreaterThan(50)
    expect(doc.store.pendingStructs).toBeNull()
    expect(doc.getText('t').toString()).toBe(text.toString())
  })

  it('reaches a stock client whole', async () => {
    const dir = makeDataDir()
    const { doc: expected, rows } = largeHistory(3_600)
    const seed = createSqliteStorage({ dir })
    await seed.appendUpdates('large', rows)
    const { bytes } = await seed.roomStats('large')
    await seed.close()
    expect(bytes).toBeGreaterThan(1_000_000)

    const server = await startServer({ dataDir: dir })
    servers.push(server)
    const doc = new Y.Doc()
    const provider = new WebsocketProvider(`${server.wsUrl}/relay`, 'large', doc, {
      WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
      disableBc: true,
    })
    try {
      await until('provider synced', () => provider.synced, [[provider, 'sync']])
      expect(doc.getText('t').toString()).toBe(expected.getText('t').toString())
    } finally {
      provider.destroy()
    }
  })
})
