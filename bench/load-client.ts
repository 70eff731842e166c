/**
 * The load generator's clients, shared by bench/load.ts (one server) and bench/cluster.ts
 * (several instances): R rooms × C raw `ws` sockets per room speaking the y-websocket protocol
 * (or Hocuspocus' framing of it: see `Codec`), W writers per room appending small inserts to a
 * `Y.Text` at a fixed rate. Every insert names its room, writer, sequence number and send time,
 * so a client can tell a delivery from a duplicate or a stray and time it on this process's clock.
 */
import { WebSocket } from 'ws'
import * as Y from 'yjs'
import { inParallel, sleep, withTimeout } from './async.js'
import { EMPTY_STATE_VECTOR, EMPTY_UPDATE, type Codec } from './protocol.js'

/** Send time and identity live inside the inserted text: `[room:writer:seq@microseconds]`. */
export const MARKER = /\[(\d+):(\d+):(\d+)@(\d+)\]/g
export const markerId = (writer: number, seq: number) => writer * 1_000_000 + seq
const LOCAL = Symbol('local')
const REMOTE = Symbol('remote')

/**
 * What one run measures, fed by every client. Only inserts sent inside `window` count; the
 * benchmark's `delivered` decides where each latency goes (cluster.ts splits them by whether the
 * reader is on the writer's instance).
 */
export class Measurement {
  /** performance.now() bounds of the measured phase; nothing counts before `open()`. */
  readonly window = { start: Infinity, end: -Infinity }
  /** Frames received by all clients inside the window (updates, echoes, awareness, acks). */
  frames = 0

  constructor(
    /** An insert from `writer`, sent inside the window, reached `reader` after `latency` ms. */
    readonly delivered: (latency: number, reader: Client, writer: number) => void,
    /** Whether to count `frames`: a clock read per frame, spared where nobody reports it. */
    readonly countFrames: boolean,
  ) {}

  open() {
    this.window.start = performance.now()
    this.window.end = Infinity
  }

  /** Ends the measured phase; returns its length, ms. */
  close(): number {
    this.window.end = performance.now()
    return this.window.end - this.window.start
  }
}

export class Writer {
  readonly doc = new Y.Doc()
  readonly text = this.doc.getText('text')
  seq = 0
  timer: ReturnType<typeof setTimeout> | undefined
  constructor(readonly index: number) {}
}

export class RoomState {
  readonly clients: Client[] = []
  /** Marker ids of every update sent to this room. */
  readonly sent = new Set<number>()
  sentChars = 0
  constructor(
    readonly index: number,
    readonly name: string,
    readonly codec: Codec,
  ) {}
}

const latin1 = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')

export class Client {
  readonly received = new Set<number>()
  /** Unique updates received from other clients (the sender's own echo excluded). */
  receivedOthers = 0
  duplicates = 0
  unexpected = 0
  /** Raw updates received, kept for one client per room to rebuild its document afterwards. */
  readonly kept: Uint8Array[] | undefined
  readonly awarenessId = (Math.random() * 0x7fffffff) >>> 0
  awarenessClock = 0
  nextAwarenessAt = 0
  ws: WebSocket | undefined
  private resolveSynced: (() => void) | undefined
  private rejectSynced: ((error: Error) => void) | undefined
  readonly synced: Promise<void>

  constructor(
    readonly room: RoomState,
    readonly index: number,
    readonly writer: Writer | undefined,
    keep: boolean,
    private readonly run: Measurement,
  ) {
    this.kept = keep ? [] : undefined
    this.synced = new Promise<void>((resolve, reject) => {
      this.resolveSynced = resolve
      this.rejectSynced = reject
    })
    // Unhandled until awaited; a failed connection is reported by `connect`'s caller.
    this.synced.catch(() => undefined)
  }

  get sentOwn(): number {
    return this.writer?.seq ?? 0
  }

  connect(url: string) {
    const { codec } = this.room
    const ws = new WebSocket(url, { perMessageDeflate: false })
    this.ws = ws
    ws.binaryType = 'nodebuffer'
    ws.on('open', () => {
      for (const frame of codec.hello()) ws.send(frame)
      const stateVector =
        this.writer === undefined ? EMPTY_STATE_VECTOR : Y.encodeStateVector(this.writer.doc)
      ws.send(codec.syncStep1(stateVector))
      this.sendAwareness()
    })
    ws.on('message', (data: Buffer) => this.onMessage(data))
    ws.on('error', (error) => this.rejectSynced?.(error))
    ws.on('close', (code) => this.rejectSynced?.(new Error(`closed before sync (${code})`)))
    if (this.writer !== undefined) {
      this.writer.doc.on('update', (update: Uint8Array, origin: unknown) => {
        if (origin === LOCAL) ws.send(codec.update(update))
      })
    }
  }

  sendAwareness() {
    const ws = this.ws
    if (ws === undefined || ws.readyState !== WebSocket.OPEN) return
    this.awarenessClock++
    const state = `{"user":{"name":"bench ${this.room.index}.${this.index}","color":"#30bced"}}`
    ws.send(this.room.codec.awareness(this.awarenessId, this.awarenessClock, state))
  }

  private onMessage(data: Buffer) {
    if (this.run.countFrames) {
      const { window } = this.run
      const now = performance.now()
      if (now >= window.start && now < window.end) this.run.frames++
    }
    const message = this.room.codec.decode(data)
    switch (message.kind) {
      case 'sync-step1': {
        const update =
          this.writer === undefined
            ? EMPTY_UPDATE
            : Y.encodeStateAsUpdate(this.writer.doc, message.stateVector)
        this.ws?.send(this.room.codec.syncStep2(update))
        return
      }
      case 'sync-step2':
        this.onUpdate(message.update)
        this.resolveSynced?.()
        this.resolveSynced = undefined
        this.rejectSynced = undefined
        return
      case 'update':
        this.onUpdate(message.update)
        return
      case 'denied':
        this.rejectSynced?.(new Error(`permission denied: ${message.reason}`))
        return
      default:
        return
    }
  }

  private onUpdate(update: Uint8Array) {
    const arrivedAt = performance.now()
    if (this.writer !== undefined) Y.applyUpdate(this.writer.doc, update, REMOTE)
    this.kept?.push(update)
    const text = latin1(update)
    const { window } = this.run
    MARKER.lastIndex = 0
    for (let match = MARKER.exec(text); match !== null; match = MARKER.exec(text)) {
      const room = Number(match[1])
      const writer = Number(match[2])
      const id = markerId(writer, Number(match[3]))
      if (room !== this.room.index || !this.room.sent.has(id)) {
        this.unexpected++
        continue
      }
      if (this.received.has(id)) {
        this.duplicates++
        continue
      }
      this.received.add(id)
      if (writer === this.writer?.index) continue
      this.receivedOthers++
      const sentAt = Number(match[4]) / 1000
      if (sentAt >= window.start && sentAt < window.end) {
        this.run.delivered(arrivedAt - sentAt, this, writer)
      }
    }
  }

  /** Updates from other clients this client should have received by now. */
  get expectedOthers(): number {
    return this.room.sent.size - this.sentOwn
  }

  close() {
    this.ws?.terminate()
  }
}

const sendInsert = (room: RoomState, writer: Writer, insertBytes: number) => {
  const seq = ++writer.seq
  const sentAt = performance.now()
  const marker = `[${room.index}:${writer.index}:${seq}@${Math.round(sentAt * 1000)}]`
  const insert = marker.padEnd(insertBytes, '.')
  room.sent.add(markerId(writer.index, seq))
  room.sentChars += insert.length
  writer.doc.transact(() => writer.text.insert(writer.text.length, insert), LOCAL)
}

export interface LoadShape {
  readonly rooms: number
  /** Sockets per room. */
  readonly clients: number
  /** Writers per room. */
  readonly writers: number
}

/**
 * Every client of one run. Client c of a room writes when c < W; the last one keeps the raw
 * updates it receives, so that the correctness check can rebuild a reader's document.
 */
export class LoadClients {
  readonly rooms: RoomState[] = []
  readonly clients: Client[] = []
  private awarenessTicker: ReturnType<typeof setInterval> | undefined

  constructor(
    shape: LoadShape,
    roomName: (index: number) => string,
    codec: (roomName: string) => Codec,
    run: Measurement,
  ) {
    for (let r = 0; r < shape.rooms; r++) {
      const name = roomName(r)
      const room = new RoomState(r, name, codec(name))
      this.rooms.push(room)
      for (let c = 0; c < shape.clients; c++) {
        const writer = c < shape.writers ? new Writer(c) : undefined
        const client = new Client(room, c, writer, c === shape.clients - 1, run)
        room.clients.push(client)
        this.clients.push(client)
      }
    }
  }

  /**
   * Connects every client to `url(client)`, 50 at a time, and waits for each to complete the
   * sync handshake (15 s each at most; the error names `what(client)`).
   */
  async connect(url: (client: Client) => string, what: (client: Client) => string) {
    await inParallel(this.clients, 50, async (client) => {
      client.connect(url(client))
      await withTimeout(client.synced, 15_000, what(client))
    })
  }

  /** Renews every client's awareness each `periodMs`, the clients' phases spread at random. */
  startAwareness(periodMs: number) {
    const connectedAt = performance.now()
    for (const client of this.clients) {
      client.nextAwarenessAt = connectedAt + Math.random() * periodMs
    }
    this.awarenessTicker = setInterval(() => {
      const now = performance.now()
      for (const client of this.clients) {
        if (now < client.nextAwarenessAt) continue
        client.nextAwarenessAt += periodMs
        client.sendAwareness()
      }
    }, 100)
  }

  /** Writers: `rate` inserts/s each on a fixed schedule (no drift), phases spread over a period. */
  startWriters(rate: number, insertBytes: number) {
    const period = 1000 / rate
    const writingStartedAt = performance.now()
    for (const room of this.rooms) {
      for (const client of room.clients) {
        const writer = client.writer
        if (writer === undefined) continue
        const phase = Math.random() * period
        let n = 0
        const tick = () => {
          sendInsert(room, writer, insertBytes)
          n++
          writer.timer = setTimeout(
            tick,
            Math.max(0, writingStartedAt + phase + n * period - performance.now()),
          )
        }
        writer.timer = setTimeout(tick, phase)
      }
    }
  }

  stopWriters() {
    for (const client of this.clients) clearTimeout(client.writer?.timer)
  }

  /** Inserts sent so far, all rooms. */
  sentCount(): number {
    return this.rooms.reduce((sum, room) => sum + room.sent.size, 0)
  }

  /** Waits until every client holds every update from the others (or gives up after 10 s). */
  async drain() {
    const deadline = performance.now() + 10_000
    const outstanding = () =>
      this.clients.reduce(
        (sum, client) => sum + Math.max(0, client.expectedOthers - client.receivedOthers),
        0,
      )
    while (outstanding() > 0 && performance.now() < deadline) await sleep(50)
  }

  /** Stops the timers, drops the sockets and frees the writers' documents (may run twice). */
  close() {
    clearInterval(this.awarenessTicker)
    for (const client of this.clients) {
      clearTimeout(client.writer?.timer)
      client.close()
      client.writer?.doc.destroy()
    }
  }
}

/**
 * The load in words, for titles: "100 rooms × 10 sockets = 1,000 connections, 2 writers a room at
 * 5 updates/s: 1,000 updates/s offered, ≈ 9,000 deliveries/s". `count` writes the counts.
 */
export const describeLoad = (
  shape: LoadShape,
  rate: number,
  count: (value: number) => string,
): string => {
  const connections = shape.rooms * shape.clients
  const offered = shape.rooms * shape.writers * rate
  return (
    `${shape.rooms} rooms × ${shape.clients} sockets = ${count(connections)} connections, ` +
    `${shape.writers} writers a room at ${rate} updates/s: ${count(offered)} updates/s ` +
    `offered, ≈ ${count(offered * (shape.clients - 1))} deliveries/s`
  )
}
