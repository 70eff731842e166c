/**
 * Load generator: R rooms × C WebSocket clients per room speaking the y-websocket protocol (or
 * Hocuspocus' framing of it), W writers per room typing small Y.Text inserts at a fixed rate.
 * Measures, per server and round: fan-out latency (send time inside the inserted text, arrival
 * timed in this same process: one clock), delivered updates/s, server CPU over the measured phase
 * (from /proc/<pid>/stat), RSS per idle socket, and checks correctness. Servers are interleaved
 * (A B C A B C …) and medians reported; see bench/README.md for the method.
 *
 *   npm run bench -- [--loads 100x10,20x5] [--writers 2] [--rate 5] [--warmup 4] [--duration 15]
 *                    [--rounds 3] [--servers coedit,y-websocket,hocuspocus] [--write-readme]
 *                    [--profile coedit]
 */
import { writeFileSync, mkdirSync } from 'node:fs'
import { cpus, release, totalmem } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { WebSocket } from 'ws'
import * as Y from 'yjs'
import { EMPTY_STATE_VECTOR, EMPTY_UPDATE, createCodec, type Codec } from './protocol.js'
import {
  BENCH_DIR,
  DEFAULT_SERVERS,
  SERVER_NAMES,
  machineBusyMs,
  serverInfo,
  snapshotCoeditBuild,
  startServer,
  type CoeditBuild,
  type RunningServer,
  type ServerName,
} from './servers.js'
import { writeReadmeSection } from './readme-section.js'

// ---------------------------------------------------------------------------------------------
// Options

interface Load {
  readonly rooms: number
  readonly clients: number
}

interface Options {
  readonly loads: readonly Load[]
  readonly writers: number
  /** Updates per second per writer. */
  readonly rate: number
  readonly warmupMs: number
  readonly durationMs: number
  readonly rounds: number
  readonly servers: readonly ServerName[]
  /** Wait after all sockets are connected before reading the idle RSS. */
  readonly settleMs: number
  /** Awareness renewal period per client (y-protocols renews every 15 s). */
  readonly awarenessMs: number
  readonly insertBytes: number
  readonly writeReadme: boolean
  readonly profile: readonly ServerName[]
  /** Longest wait, before each run, for other processes to leave the cores alone. */
  readonly quietWaitMs: number
  readonly coeditArgs: readonly string[]
  readonly serverNodeFlags: readonly string[]
}

const USAGE = `Usage: npm run bench -- [options]
  --loads <RxC,...>     rooms x clients per room, one load after the other (default 100x10,20x5)
  --rooms <n> --clients <n>   a single load instead of --loads
  --writers <n>         writers per room (default 2)
  --rate <n>            updates per second per writer (default 5)
  --insert-bytes <n>    size of each Y.Text insert (default 25)
  --warmup <s>          discarded warm-up (default 4)
  --duration <s>        measured phase (default 15)
  --settle <s>          idle wait before reading RSS (default 3)
  --rounds <n>          interleaved rounds (default 3)
  --servers <a,b>       coedit,y-websocket,hocuspocus (default), or the diagnostics
                        coedit-memory (Coedit with in-memory storage) and floor (the cheapest
                        relay: raw node:http WebSocket framing, no ws, no Yjs document, one
                        write per delivery; its fresh-socket sync check is skipped, as it keeps
                        no document)
  --server-node-flags="<flags>"  extra node flags for every server, e.g. "--perf-basic-prof"
  --coedit-args="<flags>"  extra coedit-server flags, e.g. --coedit-args="--batch-window-ms 200"
  --profile <a,b>       run these servers under node --cpu-prof (bench/results/profiles)
  --quiet-wait <s>      before each run, wait up to this long for other processes to use
                        < 30 % of a core (default 30; the machine is shared)
  --write-readme        write the results table into bench/README.md
`

const parseOptions = (argv: readonly string[]): Options => {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      loads: { type: 'string', default: '100x10,20x5' },
      rooms: { type: 'string' },
      clients: { type: 'string' },
      writers: { type: 'string', default: '2' },
      rate: { type: 'string', default: '5' },
      'insert-bytes': { type: 'string', default: '25' },
      warmup: { type: 'string', default: '4' },
      duration: { type: 'string', default: '15' },
      settle: { type: 'string', default: '3' },
      rounds: { type: 'string', default: '3' },
      servers: { type: 'string', default: DEFAULT_SERVERS.join(',') },
      'coedit-args': { type: 'string', default: '' },
      'server-node-flags': { type: 'string', default: '' },
      profile: { type: 'string', default: '' },
      'quiet-wait': { type: 'string', default: '30' },
      'write-readme': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  })
  if (values.help) {
    process.stdout.write(USAGE)
    process.exit(0)
  }
  const positive = (name: string, text: string): number => {
    const value = Number(text)
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be > 0: ${text}`)
    return value
  }
  const names = (flag: string, text: string): ServerName[] =>
    text
      .split(',')
      .filter(Boolean)
      .map((name) => {
        if (!(SERVER_NAMES as readonly string[]).includes(name)) {
          throw new Error(`--${flag}: unknown server "${name}" (${SERVER_NAMES.join(', ')})`)
        }
        return name as ServerName
      })
  const loads: Load[] =
    values.rooms !== undefined || values.clients !== undefined
      ? [
          {
            rooms: positive('rooms', values.rooms ?? '100'),
            clients: positive('clients', values.clients ?? '10'),
          },
        ]
      : values.loads.split(',').map((text) => {
          const [rooms = '', clients = ''] = text.split('x')
          return { rooms: positive('loads', rooms), clients: positive('loads', clients) }
        })
  const writers = positive('writers', values.writers)
  for (const load of loads) {
    if (writers > load.clients) throw new Error('--writers must not exceed clients per room')
  }
  return {
    loads,
    writers,
    rate: positive('rate', values.rate),
    insertBytes: positive('insert-bytes', values['insert-bytes']),
    warmupMs: positive('warmup', values.warmup) * 1000,
    durationMs: positive('duration', values.duration) * 1000,
    settleMs: positive('settle', values.settle) * 1000,
    rounds: positive('rounds', values.rounds),
    servers: names('servers', values.servers),
    profile: names('profile', values.profile),
    awarenessMs: 15_000,
    quietWaitMs: Number(values['quiet-wait']) * 1000,
    coeditArgs: values['coedit-args'].split(/\s+/).filter(Boolean),
    serverNodeFlags: values['server-node-flags'].split(/\s+/).filter(Boolean),
    writeReadme: values['write-readme'],
  }
}

// ---------------------------------------------------------------------------------------------
// Measurement state shared by every client of one run

/** Send time and identity live inside the inserted text: `[room:writer:seq@microseconds]`. */
const MARKER = /\[(\d+):(\d+):(\d+)@(\d+)\]/g
const markerId = (writer: number, seq: number) => writer * 1_000_000 + seq
const LOCAL = Symbol('local')
const REMOTE = Symbol('remote')

class Samples {
  private data = new Float64Array(1 << 16)
  length = 0
  push(value: number) {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2)
      grown.set(this.data)
      this.data = grown
    }
    this.data[this.length++] = value
  }
  sorted(): Float64Array {
    return this.data.slice(0, this.length).sort()
  }
}

const quantile = (sorted: Float64Array, q: number): number => {
  if (sorted.length === 0) return Number.NaN
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[index] ?? Number.NaN
}

interface Window {
  /** performance.now() bounds of the measured phase; updates sent inside it are counted. */
  start: number
  end: number
}

interface RunState {
  readonly window: Window
  readonly latencies: Samples
  deliveries: number
  /** Frames received by all clients during the measured phase. */
  frames: number
}

class Writer {
  readonly doc = new Y.Doc()
  readonly text = this.doc.getText('text')
  seq = 0
  timer: ReturnType<typeof setTimeout> | undefined
  constructor(readonly index: number) {}
}

class RoomState {
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

class Client {
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
    private readonly run: RunState,
  ) {
    this.kept = keep ? [] : undefined
    this.synced = new Promise<void>((resolve, reject) => {
      this.resolveSynced = resolve
      this.rejectSynced = reject
    })
    // Unhandled until awaited; a failed connection is reported by `connect`.
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
    const { window } = this.run
    const now = performance.now()
    if (now >= window.start && now < window.end) this.run.frames++
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
        this.run.deliveries++
        this.run.latencies.push(arrivedAt - sentAt)
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

// ---------------------------------------------------------------------------------------------
// One run: one server, one load

interface Correctness {
  readonly ok: boolean
  readonly problems: readonly string[]
  /** Checks not run for this server, with the reason (e.g. `floor` keeps no document). */
  readonly skipped: readonly string[]
}

/** Why the fresh-socket sync check is skipped for a server that keeps no document. */
const NO_DOCUMENT = 'fresh-socket sync not checked: diagnostic server that keeps no document'

interface RunResult {
  readonly server: ServerName
  readonly label: string
  readonly round: number
  readonly load: Load
  readonly connections: number
  readonly offeredPerS: number
  readonly sentPerS: number
  readonly deliveriesPerS: number
  /** Frames received per second by all clients (updates, echoes, awareness, acknowledgements). */
  readonly framesPerS: number
  readonly p50: number
  readonly p95: number
  readonly p99: number
  readonly max: number
  readonly cpuPct: number
  /** Kernel share of the server's CPU, %. */
  readonly sysShare: number
  readonly cpuMsPer1000: number
  readonly rssBeforeKb: number
  readonly rssIdleKb: number
  readonly rssPerSocketKb: number
  readonly rssAfterLoadKb: number
  readonly loadgenCpuPct: number
  /** CPU used by everything else on the machine during the measured phase, % of a core. */
  readonly otherCpuPct: number
  readonly correctness: Correctness
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Runs `task` over `items` with at most `limit` in flight. */
const inParallel = async <T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
) => {
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T
      await task(item)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}

const withTimeout = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms)
    promise.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error instanceof Error ? error : new Error(String(error)))
      },
    )
  })

/** A fresh client: connects, asks for everything (empty state vector), returns the text. */
const freshSync = async (server: RunningServer, room: RoomState): Promise<string> => {
  const ws = new WebSocket(server.url(room.name), { perMessageDeflate: false })
  const doc = new Y.Doc()
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        ws.on('open', () => {
          for (const frame of room.codec.hello()) ws.send(frame)
          ws.send(room.codec.syncStep1(EMPTY_STATE_VECTOR))
        })
        ws.on('message', (data: Buffer) => {
          const message = room.codec.decode(data)
          if (message.kind === 'sync-step1') ws.send(room.codec.syncStep2(EMPTY_UPDATE))
          if (message.kind === 'sync-step2') {
            Y.applyUpdate(doc, message.update)
            resolve()
          }
        })
        ws.on('error', reject)
        ws.on('close', (code) => reject(new Error(`fresh socket closed (${code})`)))
      }),
      10_000,
      `fresh sync of ${room.name}`,
    )
    return doc.getText('text').toString()
  } finally {
    ws.terminate()
    doc.destroy()
  }
}

const checkCorrectness = async (
  server: RunningServer,
  rooms: readonly RoomState[],
  writersPerRoom: number,
): Promise<Correctness> => {
  const problems: string[] = []
  const note = (problem: string) => {
    if (problems.length < 8) problems.push(problem)
  }
  let missing = 0
  let unexpected = 0
  let duplicates = 0
  for (const room of rooms) {
    for (const client of room.clients) {
      missing += client.expectedOthers - client.receivedOthers
      unexpected += client.unexpected
      duplicates += client.duplicates
    }
  }
  if (missing > 0) note(`${missing} deliveries missing after the drain`)
  if (unexpected > 0) note(`${unexpected} updates not sent to that room`)
  if (duplicates > 0) note(`${duplicates} duplicate deliveries`)
  const texts = new Map<RoomState, string>()
  for (const room of rooms) {
    const writers = room.clients.slice(0, writersPerRoom)
    const text = writers[0]?.writer?.text.toString() ?? ''
    texts.set(room, text)
    for (const other of writers.slice(1)) {
      if (other.writer?.text.toString() !== text) note(`${room.name}: writers' texts differ`)
    }
    // The text holds exactly what was sent: every marker once, nothing else.
    const seen = new Set<number>()
    MARKER.lastIndex = 0
    for (let match = MARKER.exec(text); match !== null; match = MARKER.exec(text)) {
      const id = markerId(Number(match[2]), Number(match[3]))
      if (Number(match[1]) !== room.index || !room.sent.has(id) || seen.has(id)) {
        note(`${room.name}: text holds an unexpected or repeated insert`)
      }
      seen.add(id)
    }
    if (seen.size !== room.sent.size || text.length !== room.sentChars) {
      note(
        `${room.name}: text has ${seen.size}/${room.sent.size} inserts, ${text.length}/${room.sentChars} chars`,
      )
    }
    // A reader's received updates rebuild the same document.
    const reader = room.clients.find((client) => client.kept !== undefined)
    if (reader?.kept !== undefined) {
      const doc = new Y.Doc()
      for (const update of reader.kept) Y.applyUpdate(doc, update)
      if (doc.getText('text').toString() !== text) note(`${room.name}: a reader's document differs`)
      doc.destroy()
    }
  }
  // A fresh socket syncs to the same text (only where the server keeps the document).
  const skipped = server.info.keepsDocument ? [] : [NO_DOCUMENT]
  let freshMismatches = 0
  await inParallel(server.info.keepsDocument ? rooms : [], 20, async (room) => {
    try {
      if ((await freshSync(server, room)) !== texts.get(room)) freshMismatches++
    } catch (error) {
      freshMismatches++
      note(`${room.name}: ${String(error)}`)
    }
  })
  if (freshMismatches > 0) note(`${freshMismatches} rooms: a fresh socket synced to another text`)
  return {
    ok: missing === 0 && unexpected === 0 && freshMismatches === 0 && problems.length === 0,
    problems,
    skipped,
  }
}

/** Waits (up to `maxMs`) until the rest of the machine uses less than 30 % of a core. */
const waitForQuiet = async (maxMs: number) => {
  const deadline = performance.now() + maxMs
  for (;;) {
    const busy = machineBusyMs()
    const own = process.cpuUsage()
    await sleep(1_000)
    const ownUsage = process.cpuUsage(own)
    const ownMs = (ownUsage.user + ownUsage.system) / 1000
    const othersPct = (machineBusyMs() - busy - ownMs) / 10
    if (othersPct < 30 || performance.now() >= deadline) return othersPct
  }
}

const runOnce = async (
  name: ServerName,
  round: number,
  load: Load,
  options: Options,
  coedit: CoeditBuild,
): Promise<RunResult> => {
  if (options.quietWaitMs > 0) await waitForQuiet(options.quietWaitMs)
  const server = await startServer(name, {
    coedit,
    profile: options.profile.includes(name),
    coeditArgs: options.coeditArgs,
    nodeFlags: options.serverNodeFlags,
  })
  const run: RunState = {
    window: { start: Infinity, end: -Infinity },
    latencies: new Samples(),
    deliveries: 0,
    frames: 0,
  }
  const rooms: RoomState[] = []
  let awarenessTicker: ReturnType<typeof setInterval> | undefined
  try {
    await sleep(1_000)
    const before = server.stats()

    // Connect every client and complete the sync handshake.
    const clients: Client[] = []
    for (let r = 0; r < load.rooms; r++) {
      const roomName = `bench-${r}`
      const room = new RoomState(r, roomName, createCodec(server.info.dialect, roomName))
      rooms.push(room)
      for (let c = 0; c < load.clients; c++) {
        const writer = c < options.writers ? new Writer(c) : undefined
        const client = new Client(room, c, writer, c === load.clients - 1, run)
        room.clients.push(client)
        clients.push(client)
      }
    }
    await inParallel(clients, 50, async (client) => {
      client.connect(server.url(client.room.name))
      await withTimeout(client.synced, 15_000, `${server.info.label}: client sync`)
    })
    const connectedAt = performance.now()
    for (const client of clients) {
      client.nextAwarenessAt = connectedAt + Math.random() * options.awarenessMs
    }
    awarenessTicker = setInterval(() => {
      const now = performance.now()
      for (const client of clients) {
        if (now < client.nextAwarenessAt) continue
        client.nextAwarenessAt += options.awarenessMs
        client.sendAwareness()
      }
    }, 100)

    await sleep(options.settleMs)
    const idle = server.stats()

    // Writers: a fixed schedule per writer (no drift), phases spread over one period.
    const period = 1000 / options.rate
    const writingStartedAt = performance.now()
    for (const room of rooms) {
      for (const client of room.clients) {
        const writer = client.writer
        if (writer === undefined) continue
        const phase = Math.random() * period
        let n = 0
        const tick = () => {
          sendInsert(room, writer, options.insertBytes)
          n++
          writer.timer = setTimeout(
            tick,
            Math.max(0, writingStartedAt + phase + n * period - performance.now()),
          )
        }
        writer.timer = setTimeout(tick, phase)
      }
    }
    const stopWriters = () => {
      for (const client of clients) clearTimeout(client.writer?.timer)
    }

    await sleep(options.warmupMs)
    run.window.start = performance.now()
    run.window.end = Infinity
    const cpuStart = server.stats()
    const machineStart = machineBusyMs()
    const loadgenStart = process.cpuUsage()
    const sentStart = rooms.reduce((sum, room) => sum + room.sent.size, 0)
    await sleep(options.durationMs)
    const cpuEnd = server.stats()
    const loadgenCpu = process.cpuUsage(loadgenStart)
    const machineMs = machineBusyMs() - machineStart
    run.window.end = performance.now()
    stopWriters()
    const measuredMs = run.window.end - run.window.start
    const sentInWindow = rooms.reduce((sum, room) => sum + room.sent.size, 0) - sentStart

    // Drain: wait until every client holds every update (or give up after 10 s).
    const drainDeadline = performance.now() + 10_000
    const outstanding = () =>
      clients.reduce(
        (sum, client) => sum + Math.max(0, client.expectedOthers - client.receivedOthers),
        0,
      )
    while (outstanding() > 0 && performance.now() < drainDeadline) await sleep(50)
    const afterLoad = server.stats()
    if (!server.alive) throw new Error(`${server.info.label} exited during the run`)

    const correctness = await checkCorrectness(server, rooms, options.writers)

    const sorted = run.latencies.sorted()
    const deliveriesPerS = (run.deliveries * 1000) / measuredMs
    const cpuMs = cpuEnd.cpuMs - cpuStart.cpuMs
    const loadgenMs = (loadgenCpu.user + loadgenCpu.system) / 1000
    const connections = load.rooms * load.clients
    return {
      server: name,
      label: server.info.label,
      round,
      load,
      connections,
      offeredPerS: load.rooms * options.writers * options.rate,
      sentPerS: (sentInWindow * 1000) / measuredMs,
      deliveriesPerS,
      framesPerS: (run.frames * 1000) / measuredMs,
      p50: quantile(sorted, 0.5),
      p95: quantile(sorted, 0.95),
      p99: quantile(sorted, 0.99),
      max: quantile(sorted, 1),
      cpuPct: (cpuMs / measuredMs) * 100,
      sysShare: cpuMs === 0 ? Number.NaN : ((cpuEnd.sysMs - cpuStart.sysMs) / cpuMs) * 100,
      cpuMsPer1000: run.deliveries === 0 ? Number.NaN : (cpuMs * 1000) / run.deliveries,
      rssBeforeKb: before.rssKb,
      rssIdleKb: idle.rssKb,
      rssPerSocketKb: (idle.rssKb - before.rssKb) / connections,
      rssAfterLoadKb: afterLoad.rssKb,
      loadgenCpuPct: (loadgenMs / measuredMs) * 100,
      otherCpuPct: Math.max(0, ((machineMs - cpuMs - loadgenMs) / measuredMs) * 100),
      correctness,
    }
  } finally {
    clearInterval(awarenessTicker)
    for (const room of rooms) {
      for (const client of room.clients) {
        clearTimeout(client.writer?.timer)
        client.close()
        client.writer?.doc.destroy()
      }
    }
    await server.stop()
  }
}

// ---------------------------------------------------------------------------------------------
// Summaries

const median = (values: readonly number[]): number => {
  const sorted = values.filter((value) => !Number.isNaN(value)).sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2
}

interface Summary {
  readonly server: ServerName
  readonly label: string
  readonly runs: readonly RunResult[]
  readonly deliveriesPerS: number
  readonly sentPerS: number
  readonly p50: number
  readonly p95: number
  readonly p99: number
  readonly cpuPct: number
  readonly cpuMsPer1000: number
  readonly rssPerSocketKb: number
  readonly loadgenCpuPct: number
  readonly correct: number
}

const summarize = (server: ServerName, runs: readonly RunResult[]): Summary => {
  const of = (pick: (run: RunResult) => number) => median(runs.map(pick))
  return {
    server,
    label: runs[0]?.label ?? serverInfo(server).label,
    runs,
    deliveriesPerS: of((run) => run.deliveriesPerS),
    sentPerS: of((run) => run.sentPerS),
    p50: of((run) => run.p50),
    p95: of((run) => run.p95),
    p99: of((run) => run.p99),
    cpuPct: of((run) => run.cpuPct),
    cpuMsPer1000: of((run) => run.cpuMsPer1000),
    rssPerSocketKb: of((run) => run.rssPerSocketKb),
    loadgenCpuPct: of((run) => run.loadgenCpuPct),
    correct: runs.filter((run) => run.correctness.ok).length,
  }
}

const fixed = (value: number, digits: number) =>
  Number.isFinite(value) ? value.toFixed(digits) : '–'
const ratio = (value: number, reference: number | undefined) =>
  reference === undefined ||
  !Number.isFinite(value) ||
  !Number.isFinite(reference) ||
  reference === 0
    ? '–'
    : `${(value / reference).toFixed(2)}×`

const REFERENCE: ServerName = 'y-websocket'

const loadTitle = (load: Load, options: Options) => {
  const connections = load.rooms * load.clients
  const offered = load.rooms * options.writers * options.rate
  const deliveries = offered * (load.clients - 1)
  return (
    `${load.rooms} rooms × ${load.clients} sockets = ${connections.toLocaleString('en-US')} connections, ` +
    `${options.writers} writers a room at ${options.rate} updates/s: ${offered.toLocaleString('en-US')} updates/s offered, ` +
    `≈ ${deliveries.toLocaleString('en-US')} deliveries/s`
  )
}

const correctnessText = (correctness: Correctness, yes: string, no: string): string => {
  const verdict = correctness.ok ? yes : `${no}: ${correctness.problems.join('; ')}`
  return correctness.skipped.length === 0
    ? verdict
    : `${verdict} (${correctness.skipped.join('; ')})`
}

const summaryTable = (summaries: readonly Summary[]): string => {
  const reference = summaries.find((summary) => summary.server === REFERENCE)
  const lines = [
    '| server | delivered updates/s | p50 / p95 / p99 ms | server CPU, % of a core | CPU ms per 1,000 deliveries | vs reference | KB RSS per idle socket | vs reference | correct runs |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ]
  for (const summary of summaries) {
    lines.push(
      `| ${summary.label} | ${fixed(summary.deliveriesPerS, 0)} | ` +
        `${fixed(summary.p50, 2)} / ${fixed(summary.p95, 2)} / ${fixed(summary.p99, 2)} | ` +
        `${fixed(summary.cpuPct, 1)} % | ${fixed(summary.cpuMsPer1000, 1)} | ` +
        `${ratio(summary.cpuMsPer1000, reference?.cpuMsPer1000)} | ${fixed(summary.rssPerSocketKb, 1)} | ` +
        `${ratio(summary.rssPerSocketKb, reference?.rssPerSocketKb)} | ${summary.correct}/${summary.runs.length}` +
        `${summary.runs.some((run) => run.correctness.skipped.length > 0) ? ' (partly checked)' : ''} |`,
    )
  }
  return lines.join('\n')
}

const roundsTable = (summaries: readonly Summary[]): string => {
  const lines = [
    '| round | server | sent/s | delivered/s | frames in/s | p50 / p95 / p99 / max ms | CPU % (kernel share) | CPU ms / 1k | RSS before → idle → after load, MB | KB/socket | load generator CPU % | other processes CPU % | correct |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ]
  const runs = summaries.flatMap((summary) => summary.runs).sort((a, b) => a.round - b.round)
  for (const run of runs) {
    lines.push(
      `| ${run.round} | ${run.server} | ${fixed(run.sentPerS, 0)} | ${fixed(run.deliveriesPerS, 0)} | ${fixed(run.framesPerS, 0)} | ` +
        `${fixed(run.p50, 2)} / ${fixed(run.p95, 2)} / ${fixed(run.p99, 2)} / ${fixed(run.max, 1)} | ` +
        `${fixed(run.cpuPct, 1)} (${fixed(run.sysShare, 0)} %) | ${fixed(run.cpuMsPer1000, 1)} | ` +
        `${fixed(run.rssBeforeKb / 1024, 1)} → ${fixed(run.rssIdleKb / 1024, 1)} → ${fixed(run.rssAfterLoadKb / 1024, 1)} | ` +
        `${fixed(run.rssPerSocketKb, 1)} | ${fixed(run.loadgenCpuPct, 0)} | ${fixed(run.otherCpuPct, 0)} | ` +
        `${correctnessText(run.correctness, 'yes', '**no**')} |`,
    )
  }
  return lines.join('\n')
}

/** The issue's target, for Coedit against the reference and Hocuspocus. */
const verdict = (summaries: readonly Summary[]): string[] => {
  const coedit = summaries.find((summary) => summary.server === 'coedit')
  const reference = summaries.find((summary) => summary.server === REFERENCE)
  if (coedit === undefined || reference === undefined) return []
  const others = summaries.filter(
    (summary) => summary.server === 'y-websocket' || summary.server === 'hocuspocus',
  )
  const cpuRatio = reference.cpuMsPer1000 / coedit.cpuMsPer1000
  const cpuMet = cpuRatio >= 2
  const p99Met = coedit.p99 <= reference.p99
  const rssMet = others.every((other) => coedit.rssPerSocketKb < other.rssPerSocketKb)
  const mark = (met: boolean) => (met ? 'met' : '**not met**')
  return [
    `- CPU per delivery: the reference uses ${fixed(cpuRatio, 2)}× Coedit's (target ≥ 2×): ${mark(cpuMet)}.`,
    `- p99: Coedit ${fixed(coedit.p99, 2)} ms vs reference ${fixed(reference.p99, 2)} ms (target ≤): ${mark(p99Met)}.`,
    `- RSS per idle socket: Coedit ${fixed(coedit.rssPerSocketKb, 1)} KB vs ` +
      others.map((other) => `${other.server} ${fixed(other.rssPerSocketKb, 1)} KB`).join(', ') +
      ` (target: less than both): ${mark(rssMet)}.`,
    `- Correctness: ${summaries.map((summary) => `${summary.server} ${summary.correct}/${summary.runs.length}`).join(', ')} runs passed.`,
  ]
}

/** Diagnostic servers whose correctness is only partly checked, and why. */
const diagnosticNotes = (summaries: readonly Summary[]): string[] =>
  summaries
    .filter((summary) => !serverInfo(summary.server).keepsDocument)
    .map(
      (summary) =>
        `- ${summary.server} is a diagnostic, not a usable server: it keeps no document, so a fresh ` +
        `socket syncs to nothing and that check is skipped; deliveries (each once, none missing, ` +
        `none from another room), the writers' texts and a reader's rebuild are still checked.`,
    )

const machine = () => {
  const cpu = cpus()
  return (
    `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ` +
    `Linux ${release()}, Node ${process.versions.node} (load generator and servers share the cores)`
  )
}

// ---------------------------------------------------------------------------------------------

const main = async () => {
  const argv = process.argv.slice(2)
  const options = parseOptions(argv)
  const command = ['npm run bench', ...(argv.length > 0 ? ['--', ...argv] : [])].join(' ')
  const startedAt = new Date()
  const sections: string[] = []
  const allRuns: RunResult[] = []
  const coedit = snapshotCoeditBuild()
  process.stdout.write(`Coedit build ${coedit.fingerprint} (frozen copy for this run)\n`)
  try {
    for (const load of options.loads) {
      process.stdout.write(`\n## ${loadTitle(load, options)}\n`)
      const runs: RunResult[] = []
      for (let round = 1; round <= options.rounds; round++) {
        for (const name of options.servers) {
          const result = await runOnce(name, round, load, options, coedit)
          runs.push(result)
          process.stdout.write(
            `round ${round} ${name.padEnd(11)} delivered ${fixed(result.deliveriesPerS, 0)}/s ` +
              `frames ${fixed(result.framesPerS, 0)}/s ` +
              `p50/p95/p99 ${fixed(result.p50, 2)}/${fixed(result.p95, 2)}/${fixed(result.p99, 2)} ms ` +
              `cpu ${fixed(result.cpuPct, 1)}% (sys ${fixed(result.sysShare, 0)}%, ${fixed(result.cpuMsPer1000, 1)} ms/1k) ` +
              `rss/socket ${fixed(result.rssPerSocketKb, 1)} KB loadgen ${fixed(result.loadgenCpuPct, 0)}% others ${fixed(result.otherCpuPct, 0)}% ` +
              `${correctnessText(result.correctness, 'ok', 'FAILED')}\n`,
          )
        }
      }
      allRuns.push(...runs)
      const summaries = options.servers.map((name) =>
        summarize(
          name,
          runs.filter((run) => run.server === name),
        ),
      )
      const section = [
        `### ${loadTitle(load, options)}`,
        '',
        `Medians of ${options.rounds} interleaved rounds; "vs reference" is the median divided by ` +
          `${serverInfo(REFERENCE).label}'s (lower is better).`,
        '',
        summaryTable(summaries),
        '',
        ...verdict(summaries),
        ...diagnosticNotes(summaries),
        '',
        '<details><summary>Every run</summary>',
        '',
        roundsTable(summaries),
        '',
        '</details>',
      ].join('\n')
      sections.push(section)
      process.stdout.write(
        `\n${summaryTable(summaries)}\n\n` +
          `${[...verdict(summaries), ...diagnosticNotes(summaries)].join('\n')}\n`,
      )
    }
  } finally {
    coedit.remove()
  }
  const markdown = [
    `Measured ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machine()}.`,
    `Coedit build ${coedit.fingerprint} (SHA-256 prefix of its compiled JavaScript, frozen for the whole run).`,
    `Each run: ${options.warmupMs / 1000} s warm-up (discarded), ${options.durationMs / 1000} s measured, ` +
      `${options.insertBytes}-byte inserts, awareness renewed every ${options.awarenessMs / 1000} s.`,
    '',
    'Reproduce with:',
    '',
    '```sh',
    command,
    '```',
    '',
    ...sections.flatMap((section) => [section, '']),
  ].join('\n')
  const resultsDir = join(BENCH_DIR, 'results')
  mkdirSync(resultsDir, { recursive: true })
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-')
  writeFileSync(
    join(resultsDir, `${stamp}.json`),
    JSON.stringify({ command, options, runs: allRuns }, null, 2),
  )
  writeFileSync(join(resultsDir, `${stamp}.md`), markdown)
  if (options.writeReadme) writeReadmeSection('results', markdown)
  process.stdout.write(
    `\nResults: bench/results/${stamp}.md${options.writeReadme ? ' and bench/README.md' : ''}\n`,
  )
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  )
  process.exit(1)
})
