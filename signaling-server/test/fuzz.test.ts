/**
 * Fuzzing the server's untrusted-input boundaries (R32): random and mutated frames against the
 * relay (`/relay/<room>`) and signaling (`/signal`) endpoints, while healthy clients keep
 * editing — in the fuzzed room itself and in another room — and a healthy signaling pair keeps
 * publishing.
 *
 * Seeded and replayable: the seed is printed; run again with `FUZZ_SEED=<seed>` to get the same
 * frames (`FUZZ_FRAMES` changes how many). Each fuzzing connection sends one frame, then a
 * WebSocket ping: the server handles frames in order and answers the ping only if it did not
 * close the connection, so "pong" means the frame was accepted and "close" that it was refused.
 *
 * Bit-flipped updates that still decode go to the fuzzed room too: the relay validates updates
 * against the document before applying them (relay/validate-update.ts), so a corrupt one closes
 * its sender and leaves the room intact. Seeds 1795659745, 1519297217 and 1169031994 broke rooms
 * before that check existed; `FUZZ_QUARANTINE=1` sends such updates to a room of their own.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'
import {
  CloseCode,
  RelayMessageType,
  decodeRelayFrame,
  isDocumentWrite,
  parseSignalingMessage,
  type RelayMessage,
} from '@coedit/sdk/protocol'
import { metricValue, startServer, type TestServer } from './helpers/server.js'
import { until } from './helpers/wait.js'

const SEED = (() => {
  const given = process.env['FUZZ_SEED']
  if (given === undefined || given === '') return Math.floor(Math.random() * 2 ** 32)
  const seed = Number(given)
  if (!Number.isSafeInteger(seed)) throw new Error(`FUZZ_SEED must be an integer, got ${given}`)
  return seed
})()
const FRAMES = Number(process.env['FUZZ_FRAMES'] ?? 3000)
if (!Number.isSafeInteger(FRAMES) || FRAMES < 100) throw new Error('FUZZ_FRAMES must be ≥ 100')
/** Small, so that oversize frames are cheap to send. */
const MAX_FRAME_BYTES = 64 * 1024
/** Concurrent fuzzing connections per path (relay room or signaling). */
const WORKERS = 6
/** A connection that keeps accepting frames is replaced after this many (fresh rate budgets). */
const FRAMES_PER_CONNECTION = 16
const FUZZ_ROOM = 'fuzzed-room'
/** Where decodable but corrupt updates go with FUZZ_QUARANTINE=1 (see the module header). */
const QUARANTINE_ROOM = 'quarantined-room'
const SHARE_CORRUPT_UPDATES = process.env['FUZZ_QUARANTINE'] !== '1'
const CALM_ROOM = 'calm-room'
const CALM_TOPIC = 'calm-topic'

/** mulberry32: a tiny, good-enough seeded PRNG. */
const mulberry32 = (seed: number) => {
  let a = seed >>> 0
  return (): number => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

type Rng = () => number
const int = (rng: Rng, n: number): number => Math.floor(rng() * n)
const pick = <T>(rng: Rng, items: readonly T[]): T => items[int(rng, items.length)] as T
const bytes = (rng: Rng, n: number): Uint8Array =>
  Uint8Array.from({ length: n }, () => int(rng, 256))

const CHARS = [
  'a',
  'Z',
  '0',
  ' ',
  '"',
  '\\',
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '\n',
  '\u0000',
  'é',
  '😀',
]
const randomString = (rng: Rng, max = 24): string => {
  let text = ''
  const length = int(rng, max)
  for (let i = 0; i < length; i++) {
    // Now and then an arbitrary code unit, lone surrogates included.
    text += rng() < 0.2 ? String.fromCharCode(int(rng, 0x10000)) : pick(rng, CHARS)
  }
  return text
}

const randomJson = (rng: Rng, depth = 0): unknown => {
  switch (int(rng, depth > 2 ? 4 : 6)) {
    case 0:
      return null
    case 1:
      return rng() < 0.5
    case 2:
      return pick(rng, [0, -1, 1.5, 2 ** 53, -1e308, int(rng, 1000)])
    case 3:
      return randomString(rng)
    case 4:
      return Array.from({ length: int(rng, 4) }, () => randomJson(rng, depth + 1))
    default: {
      const value: Record<string, unknown> = {}
      const keys = ['type', 'topics', 'topic', 'data', 'token', randomString(rng, 6)]
      for (let i = int(rng, 4); i > 0; i--) value[pick(rng, keys)] = randomJson(rng, depth + 1)
      return value
    }
  }
}

/** Signaling-shaped JSON: right envelope, fields that are right or wrong at random. */
const nearSignalingMessage = (rng: Rng): Record<string, unknown> => {
  const topic = () =>
    pick(rng, [`fz-${int(rng, 8)}`, '', 'x'.repeat(513), randomString(rng), int(rng, 9)])
  const message: Record<string, unknown> = {
    type: pick(rng, ['subscribe', 'unsubscribe', 'publish', 'ping', 'pong', randomString(rng, 8)]),
  }
  if (rng() < 0.8) {
    message['topics'] = rng() < 0.7 ? Array.from({ length: int(rng, 4) }, topic) : randomJson(rng)
  }
  if (rng() < 0.6) message['topic'] = topic()
  if (rng() < 0.6) message['data'] = randomJson(rng)
  if (rng() < 0.2) message['token'] = rng() < 0.5 ? randomString(rng) : randomJson(rng)
  return message
}

/**
 * Real y-websocket frames (as y-protocols encodes them) from a few source documents, to truncate
 * and corrupt. Several documents, so that many updates are new to the server: a corrupt update
 * whose structs the server already has changes nothing, whatever its damage.
 */
const realRelayFrames = (rng: Rng): Uint8Array[] => {
  const frames: Uint8Array[] = [Uint8Array.of(RelayMessageType.queryAwareness)]
  for (let source = 0; source < 6; source++) {
    const doc = new Y.Doc()
    doc.clientID = 1 + int(rng, 2 ** 30)
    const syncFrame = (write: (encoder: encoding.Encoder) => void) => {
      const encoder = encoding.createEncoder()
      encoding.writeVarUint(encoder, RelayMessageType.sync)
      write(encoder)
      frames.push(encoding.toUint8Array(encoder))
    }
    doc.on('update', (update: Uint8Array) =>
      syncFrame((encoder) => syncProtocol.writeUpdate(encoder, update)),
    )
    const text = doc.getText('t')
    for (let i = 0; i < 12; i++) {
      if (text.length > 0 && rng() < 0.3) {
        const at = int(rng, text.length)
        text.delete(at, 1 + int(rng, Math.min(5, text.length - at)))
      } else if (text.length > 0 && rng() < 0.2) {
        text.format(0, 1 + int(rng, text.length), { bold: rng() < 0.5 ? true : null })
      } else {
        text.insert(int(rng, text.length + 1), randomString(rng, 12))
      }
      if (rng() < 0.3) doc.getMap('m').set(randomString(rng, 4), randomJson(rng))
    }
    syncFrame((encoder) => syncProtocol.writeSyncStep1(encoder, doc))
    syncFrame((encoder) => syncProtocol.writeSyncStep2(encoder, doc))
    const awareness = new awarenessProtocol.Awareness(doc)
    awareness.setLocalState({
      user: { name: randomString(rng, 8), color: '#0af' },
      n: int(rng, 99),
    })
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, RelayMessageType.awareness)
    encoding.writeVarUint8Array(
      encoder,
      awarenessProtocol.encodeAwarenessUpdate(awareness, [doc.clientID]),
    )
    frames.push(encoding.toUint8Array(encoder))
    awareness.destroy()
    doc.destroy()
  }
  return frames
}

/** A sync update from a new client: new to the server, unlike most of the corpus after a while. */
const freshUpdateFrame = (rng: Rng): Uint8Array => {
  const doc = new Y.Doc()
  doc.clientID = 1 + int(rng, 2 ** 30)
  let frame: Uint8Array = new Uint8Array()
  doc.on('update', (update: Uint8Array) => {
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, RelayMessageType.sync)
    syncProtocol.writeUpdate(encoder, update)
    frame = encoding.toUint8Array(encoder)
  })
  doc.getText('t').insert(0, randomString(rng, 8) || 'x')
  doc.destroy()
  return frame
}

/** Re-wraps a frame's payload (update or awareness update) after `mutate`: a valid envelope. */
const rewrap = (frame: Uint8Array, mutate: (payload: Uint8Array) => Uint8Array): Uint8Array => {
  const decoder = decoding.createDecoder(frame)
  const type = decoding.readVarUint(decoder)
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, type)
  if (type === RelayMessageType.sync) encoding.writeVarUint(encoder, decoding.readVarUint(decoder))
  encoding.writeVarUint8Array(encoder, mutate(decoding.readVarUint8Array(decoder)))
  return encoding.toUint8Array(encoder)
}

const flip = (rng: Rng, input: Uint8Array): Uint8Array => {
  const out = input.slice()
  for (let i = 1 + int(rng, 3); i > 0 && out.length > 0; i--) {
    const at = int(rng, out.length)
    out[at] = (out[at] as number) ^ (1 + int(rng, 255))
  }
  return out
}

type Endpoint = 'relay' | 'signal'

interface FuzzFrame {
  readonly index: number
  readonly endpoint: Endpoint
  /** The relay room the frame is sent to (relay frames only). */
  readonly room?: string
  readonly kind: string
  readonly data: Uint8Array | string
  readonly binary: boolean
  /** Larger than the server's frame limit: must close with 1009. */
  readonly oversize: boolean
  /** Malformed by the protocol's own decoder (or wrong frame type): must close with 4400. */
  readonly malformed: boolean
}

const relayFrame = (rng: Rng, corpus: readonly Uint8Array[]): Omit<FuzzFrame, 'index'> => {
  const real = pick(rng, corpus)
  let kind: string
  let data: Uint8Array
  const roll = rng()
  if (roll < 0.2) {
    kind = 'random'
    data = bytes(rng, int(rng, 2) === 0 ? int(rng, 8) : int(rng, 200))
    // Steer half of them past the first switch of the decoder.
    if (data.length > 0 && rng() < 0.5) data[0] = pick(rng, [0, 1, 2, 3, 100])
    if (data.length > 1 && rng() < 0.5) data[1] = int(rng, 3)
  } else if (roll < 0.45) {
    kind = 'truncated'
    data = real.slice(0, int(rng, real.length))
  } else if (roll < 0.7) {
    kind = 'flipped'
    data = flip(rng, real)
  } else if (roll < 0.9) {
    // A valid envelope around a damaged payload, often an update the server has never seen: Yjs
    // may integrate its structs before failing on its delete set.
    const source = rng() < 0.5 || real.length < 2 ? freshUpdateFrame(rng) : real
    const mutation = int(rng, 3)
    kind = mutation === 2 ? 'payload-flipped' : 'payload-truncated'
    data = rewrap(source, (payload) =>
      mutation === 0
        ? payload.slice(0, int(rng, payload.length))
        : mutation === 1
          ? payload.slice(0, Math.max(0, payload.length - 1 - int(rng, 3)))
          : flip(rng, payload),
    )
  } else {
    kind = 'trailing-bytes'
    data = Uint8Array.from([...real, ...bytes(rng, 1 + int(rng, 8))])
  }
  let message: RelayMessage | undefined
  try {
    message = decodeRelayFrame(data)
  } catch {
    message = undefined
  }
  // A truncated update fails before Yjs takes anything it should not; a corrupted one may not.
  const corruptUpdate =
    message !== undefined &&
    isDocumentWrite(message) &&
    (kind === 'random' || kind === 'flipped' || kind === 'payload-flipped')
  const room = corruptUpdate && !SHARE_CORRUPT_UPDATES ? QUARANTINE_ROOM : FUZZ_ROOM
  const malformed = message === undefined
  return { endpoint: 'relay', room, kind, data, binary: true, oversize: false, malformed }
}

const signalFrame = (rng: Rng): Omit<FuzzFrame, 'index'> => {
  const roll = rng()
  if (roll < 0.15) {
    const data = rng() < 0.5 ? bytes(rng, int(rng, 64)) : Buffer.from('{"type":"ping"}')
    return {
      endpoint: 'signal',
      kind: 'binary',
      data,
      binary: true,
      oversize: false,
      malformed: true,
    }
  }
  let kind: string
  let text: string
  if (roll < 0.45) {
    kind = 'json'
    text = JSON.stringify(randomJson(rng)) ?? 'null'
  } else if (roll < 0.8) {
    kind = 'near-valid-json'
    text = JSON.stringify(nearSignalingMessage(rng))
  } else if (roll < 0.9) {
    kind = 'truncated-json'
    const whole = JSON.stringify(nearSignalingMessage(rng))
    text = whole.slice(0, int(rng, whole.length))
  } else {
    kind = 'text'
    text = randomString(rng, 64)
  }
  let malformed = false
  try {
    parseSignalingMessage(text)
  } catch {
    malformed = true
  }
  return { endpoint: 'signal', kind, data: text, binary: false, oversize: false, malformed }
}

const generateFrames = (seed: number, count: number): FuzzFrame[] => {
  const rng = mulberry32(seed)
  const corpus = realRelayFrames(rng)
  const frames: Omit<FuzzFrame, 'index'>[] = []
  for (let i = 0; i < count; i++) {
    const roll = rng()
    if (roll < 0.55) frames.push(relayFrame(rng, corpus))
    else if (roll < 0.6) {
      const text = rng() < 0.5 ? randomString(rng, 40) : JSON.stringify(randomJson(rng))
      frames.push({
        endpoint: 'relay',
        room: FUZZ_ROOM,
        kind: 'text',
        data: text,
        binary: false,
        oversize: false,
        malformed: true,
      })
    } else frames.push(signalFrame(rng))
  }
  // A few frames over the size limit on each endpoint, binary and text, at random places.
  for (const endpoint of ['relay', 'signal'] as const) {
    for (const binary of [true, false]) {
      const size = MAX_FRAME_BYTES + 1 + int(rng, 1024)
      const data = binary ? bytes(rng, size) : 'x'.repeat(size)
      const at = int(rng, frames.length + 1)
      frames.splice(at, 0, {
        endpoint,
        ...(endpoint === 'relay' ? { room: FUZZ_ROOM } : {}),
        kind: 'oversize',
        data,
        binary,
        oversize: true,
        malformed: true,
      })
    }
  }
  return frames.map((frame, index) => ({ ...frame, index }))
}

const pathOf = (frame: FuzzFrame): string =>
  frame.endpoint === 'relay' ? `/relay/${frame.room ?? FUZZ_ROOM}` : '/signal'

const describeFrame = (frame: FuzzFrame): string => {
  const shown =
    typeof frame.data === 'string'
      ? JSON.stringify(frame.data.slice(0, 200))
      : Buffer.from(frame.data.subarray(0, 200)).toString('hex')
  return `#${frame.index} ${pathOf(frame)} ${frame.kind} (${frame.data.length} bytes): ${shown}`
}

/** A well-behaved relay client that reads frames exactly as stock y-websocket does. */
interface HealthyRelay {
  readonly ws: WebSocket
  readonly doc: Y.Doc
  readonly awareness: awarenessProtocol.Awareness
  /** Errors a stock client would have hit on frames the server sent it. */
  readonly errors: unknown[]
  closeCode: number | undefined
  readonly opened: Promise<void>
}

const connectHealthyRelay = (wsUrl: string, room: string): HealthyRelay => {
  const ws = new WebSocket(`${wsUrl}/relay/${room}`)
  const doc = new Y.Doc()
  const awareness = new awarenessProtocol.Awareness(doc)
  const remote = Symbol('remote')
  const send = (write: (encoder: encoding.Encoder) => void) => {
    if (ws.readyState !== WebSocket.OPEN) return
    const encoder = encoding.createEncoder()
    write(encoder)
    ws.send(encoding.toUint8Array(encoder))
  }
  const client: HealthyRelay = {
    ws,
    doc,
    awareness,
    errors: [],
    closeCode: undefined,
    opened: new Promise((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
    }),
  }
  doc.on('update', (update: Uint8Array, origin: unknown) => {
    if (origin === remote) return
    send((encoder) => {
      encoding.writeVarUint(encoder, RelayMessageType.sync)
      syncProtocol.writeUpdate(encoder, update)
    })
  })
  awareness.on(
    'update',
    ({ added, updated, removed }: Record<string, number[]>, origin: unknown) => {
      if (origin === remote) return
      const changed = [...(added ?? []), ...(updated ?? []), ...(removed ?? [])]
      send((encoder) => {
        encoding.writeVarUint(encoder, RelayMessageType.awareness)
        encoding.writeVarUint8Array(
          encoder,
          awarenessProtocol.encodeAwarenessUpdate(awareness, changed),
        )
      })
    },
  )
  ws.on('open', () => {
    send((encoder) => {
      encoding.writeVarUint(encoder, RelayMessageType.sync)
      syncProtocol.writeSyncStep1(encoder, doc)
    })
    awareness.setLocalState({ user: { name: `healthy-${doc.clientID}` } })
  })
  ws.on('message', (data: Buffer) => {
    try {
      const decoder = decoding.createDecoder(new Uint8Array(data))
      const type = decoding.readVarUint(decoder)
      if (type === RelayMessageType.sync) {
        const reply = encoding.createEncoder()
        encoding.writeVarUint(reply, RelayMessageType.sync)
        syncProtocol.readSyncMessage(decoder, reply, doc, remote, (error) =>
          client.errors.push(error),
        )
        if (encoding.length(reply) > 1) ws.send(encoding.toUint8Array(reply))
      } else if (type === RelayMessageType.awareness) {
        awarenessProtocol.applyAwarenessUpdate(
          awareness,
          decoding.readVarUint8Array(decoder),
          remote,
        )
      }
    } catch (error) {
      client.errors.push(error)
    }
  })
  ws.on('close', (code: number) => {
    client.closeCode = code
  })
  ws.on('error', (error) => client.errors.push(error))
  return client
}

interface HealthySignal {
  readonly ws: WebSocket
  readonly received: string[]
  readonly events: WebSocket
  closeCode: number | undefined
  readonly opened: Promise<void>
}

const connectHealthySignal = (wsUrl: string): HealthySignal => {
  const ws = new WebSocket(`${wsUrl}/signal`)
  const client: HealthySignal = {
    ws,
    received: [],
    events: ws,
    closeCode: undefined,
    opened: new Promise((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
    }),
  }
  ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', topics: [CALM_TOPIC] })))
  ws.on('message', (data: Buffer) => client.received.push(data.toString('utf8')))
  ws.on('close', (code: number) => {
    client.closeCode = code
  })
  return client
}

interface Outcome {
  readonly frame: FuzzFrame
  /** Close code, or 'accepted' when the server answered the ping after this frame. */
  readonly result: number | 'accepted'
}

/** One fuzzing connection at a time per worker, all on one path; see the module header. */
const fuzzWorker = async (
  wsUrl: string,
  frames: readonly FuzzFrame[],
  outcomes: Outcome[],
  sockets: Set<WebSocket>,
) => {
  let ws: WebSocket | undefined
  let closed: Promise<number> | undefined
  let sent = 0
  for (const frame of frames) {
    if (ws === undefined || closed === undefined || sent >= FRAMES_PER_CONNECTION) {
      ws?.close()
      const socket = new WebSocket(`${wsUrl}${pathOf(frame)}`)
      sockets.add(socket)
      // Errors are expected here (e.g. the server ending the socket while a frame is in flight);
      // what counts is the close code.
      socket.on('error', () => undefined)
      closed = new Promise((resolve) => socket.once('close', (code: number) => resolve(code)))
      await new Promise<void>((resolve, reject) => {
        socket.once('open', () => resolve())
        socket.once('unexpected-response', (_request, response) =>
          reject(new Error(`fuzz connection refused with HTTP ${response.statusCode}`)),
        )
      })
      ws = socket
      sent = 0
    }
    const socket: WebSocket = ws
    ws.send(frame.data, { binary: frame.binary })
    ws.ping()
    sent++
    const result = await Promise.race([
      new Promise<'accepted'>((resolve) => socket.once('pong', () => resolve('accepted'))),
      closed,
    ])
    outcomes.push({ frame, result })
    if (result !== 'accepted') {
      sockets.delete(socket)
      ws = undefined
      closed = undefined
    }
  }
  ws?.close()
}

const servers: TestServer[] = []
const cleanups: (() => void)[] = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup()
  for (const server of servers.splice(0)) await server.close()
})

describe('fuzzed frames', () => {
  it('close only the offending connection, with 4400 (or 1009 when oversize), while other clients keep syncing', async () => {
    console.log(`fuzz seed ${SEED} (replay: FUZZ_SEED=${SEED}), ${FRAMES} frames`)
    const frames = generateFrames(SEED, FRAMES)

    const server = await startServer({
      limits: {
        maxFrameBytes: MAX_FRAME_BYTES,
        // Thousands of short connections in a few seconds; connection rates and the topic limit
        // are tested in limits.test.ts, not here.
        connectionsPerSecond: 100_000,
        connectionBurst: 100_000,
        maxTopicsPerConnection: 100_000,
      },
    })
    servers.push(server)
    const sockets = new Set<WebSocket>()
    const healthyRelays = [
      connectHealthyRelay(server.wsUrl, FUZZ_ROOM),
      connectHealthyRelay(server.wsUrl, FUZZ_ROOM),
      connectHealthyRelay(server.wsUrl, CALM_ROOM),
      connectHealthyRelay(server.wsUrl, CALM_ROOM),
    ]
    const healthySignals = [connectHealthySignal(server.wsUrl), connectHealthySignal(server.wsUrl)]
    cleanups.push(() => {
      for (const socket of sockets) socket.terminate()
      for (const client of healthyRelays) {
        client.awareness.destroy()
        client.ws.terminate()
      }
      for (const client of healthySignals) client.ws.terminate()
    })
    await Promise.all([...healthyRelays, ...healthySignals].map((client) => client.opened))

    const drops = await metricValue(server.server, 'coedit_drops_total', { reason: 'bad-message' })
    const badMessageCloses = await metricValue(server.server, 'coedit_closes_total', {
      reason: 'badMessage',
    })

    // Healthy traffic throughout the fuzzing: typing, cursor moves, signaling announcements.
    let tick = 0
    const typing = setInterval(() => {
      const client = healthyRelays[tick % healthyRelays.length]
      if (client !== undefined) {
        client.doc.getText('t').insert(0, String(tick % 10))
        client.awareness.setLocalStateField('cursor', tick)
      }
      const signal = healthySignals[tick % healthySignals.length]
      signal?.ws.send(
        JSON.stringify({
          type: 'publish',
          topic: CALM_TOPIC,
          data: { type: 'announce', from: tick },
        }),
      )
      tick++
    }, 20)
    cleanups.push(() => clearInterval(typing))

    const outcomes: Outcome[] = []
    const lanes = new Map<string, FuzzFrame[]>()
    for (const frame of frames) {
      const lane = lanes.get(pathOf(frame))
      if (lane === undefined) lanes.set(pathOf(frame), [frame])
      else lane.push(frame)
    }
    await Promise.all(
      [...lanes.values()].flatMap((lane) =>
        Array.from({ length: WORKERS }, (_, worker) =>
          fuzzWorker(
            server.wsUrl,
            lane.filter((_, i) => i % WORKERS === worker),
            outcomes,
            sockets,
          ),
        ),
      ),
    )
    clearInterval(typing)
    expect(outcomes).toHaveLength(frames.length)

    // Every malformed frame closed its connection with the documented code…
    const wrong = outcomes
      .filter(({ frame, result }) =>
        frame.oversize
          ? result !== CloseCode.frameTooLarge
          : frame.malformed && result !== CloseCode.badMessage,
      )
      .map(({ frame, result }) => `${describeFrame(frame)} → ${result}`)
    expect(wrong, `seed ${SEED}`).toEqual([])
    // …and nothing closed any connection with another code (frames the protocol decoder accepts
    // may still be refused, e.g. an update Yjs cannot apply, but only as bad-message).
    const codes = new Set(outcomes.map(({ result }) => result))
    codes.delete('accepted')
    expect(
      [...codes].filter(
        (code) => code !== CloseCode.badMessage && code !== CloseCode.frameTooLarge,
      ),
      `seed ${SEED}`,
    ).toEqual([])
    const refused = outcomes.filter(({ result }) => result === CloseCode.badMessage).length
    expect(refused).toBeGreaterThan(frames.length / 2)
    expect(outcomes.filter(({ result }) => result === CloseCode.frameTooLarge)).toHaveLength(4)

    // No healthy client was closed or sent anything a stock client could not read.
    for (const client of [...healthyRelays, ...healthySignals]) {
      expect(client.closeCode, `seed ${SEED}`).toBeUndefined()
    }
    for (const client of healthyRelays) expect(client.errors, `seed ${SEED}`).toEqual([])

    // The server counted each refusal.
    expect(await metricValue(server.server, 'coedit_closes_total', { reason: 'badMessage' })).toBe(
      badMessageCloses + refused,
    )
    expect(
      await metricValue(server.server, 'coedit_drops_total', { reason: 'bad-message' }),
    ).toBeGreaterThanOrEqual(drops + refused)

    // The healthy clients still converge on new edits.
    for (const [i, client] of healthyRelays.entries()) {
      client.doc.getText('t').insert(0, `<end-${i}>`)
    }
    const converged = (a: HealthyRelay, b: HealthyRelay, markers: string[]) => {
      const text = a.doc.getText('t').toString()
      return text === b.doc.getText('t').toString() && markers.every((m) => text.includes(m))
    }
    const [a1, a2, b1, b2] = healthyRelays as [
      HealthyRelay,
      HealthyRelay,
      HealthyRelay,
      HealthyRelay,
    ]
    await until(
      'the pair in the fuzzed room converges',
      () => converged(a1, a2, ['<end-0>', '<end-1>']),
      [
        [a1.doc, 'update'],
        [a2.doc, 'update'],
      ],
    )
    await until(
      'the pair in the calm room converges',
      () => converged(b1, b2, ['<end-2>', '<end-3>']),
      [
        [b1.doc, 'update'],
        [b2.doc, 'update'],
      ],
    )
    const [s1, s2] = healthySignals as [HealthySignal, HealthySignal]
    s1.ws.send(
      JSON.stringify({
        type: 'publish',
        topic: CALM_TOPIC,
        data: { type: 'announce', from: 'end' },
      }),
    )
    s2.ws.send(JSON.stringify({ type: 'ping' }))
    await until(
      'the signaling pair still hears publications and pongs',
      () =>
        s2.received.some((text) => text.includes('"from":"end"')) &&
        s2.received.includes('{"type":"pong"}'),
      [[s2.events, 'message']],
    )
    for (const client of [...healthyRelays, ...healthySignals]) {
      expect(client.ws.readyState).toBe(WebSocket.OPEN)
    }
    for (const client of healthyRelays) expect(client.errors).toEqual([])

    const health = await fetch(`${server.url}/healthz`)
    expect(health.status).toBe(200)
    expect(await health.json()).toMatchObject({ status: 'ok' })
  })

  it('refuses a corrupt update before applying any of it, and the room keeps syncing', async () => {
    const server = await startServer()
    servers.push(server)
    const observer = connectHealthyRelay(server.wsUrl, 'partly-applied')
    const writer = connectHealthyRelay(server.wsUrl, 'partly-applied')
    const sender = new WebSocket(`${server.wsUrl}/relay/partly-applied`)
    cleanups.push(() => {
      observer.awareness.destroy()
      observer.ws.terminate()
      writer.awareness.destroy()
      writer.ws.terminate()
      sender.terminate()
    })
    const senderClosed = new Promise<number>((resolve) =>
      sender.once('close', (code: number) => resolve(code)),
    )
    await Promise.all([
      observer.opened,
      writer.opened,
      new Promise((resolve) => sender.once('open', resolve)),
    ])

    // An insert whose last byte (the delete set's client count) is cut off: unchecked, Yjs would
    // integrate the insert and then throw reading the delete set.
    const source = new Y.Doc()
    let update: Uint8Array = new Uint8Array()
    source.on('update', (u: Uint8Array) => {
      update = u
    })
    source.getText('t').insert(0, 'corrupt')
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, RelayMessageType.sync)
    syncProtocol.writeUpdate(encoder, update.slice(0, -1))
    sender.send(encoding.toUint8Array(encoder))
    expect(await senderClosed).toBe(CloseCode.badMessage)

    // The server handles frames in order: had it taken or relayed any of the corrupt update,
    // the observer would hold it before the writer's edit.
    writer.doc.getText('t').insert(0, 'ok')
    await until('the observer has the valid edit', () => observer.doc.getText('t').length > 0, [
      [observer.doc, 'update'],
    ])
    expect(observer.doc.getText('t').toString()).toBe('ok')
    expect(observer.errors).toEqual([])
  })
})
