/**
 * Limits and safe defaults (R15, R16, R20, R33, R34, R35): slow consumers, frame and document
 * size, message rates, signaling topics, connections per IP, dead connections, keepalives for
 * idle rooms, Origin checks, HTTP caching headers, metrics, and refusing to listen insecurely.
 *
 * Limits are set small here to keep the tests fast; the defaults are documented in
 * `src/config.ts`. Where a client must misbehave in a way `ws` will not (never reading, never
 * answering pings), the test speaks WebSocket by hand over a raw TCP socket.
 */
import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { connect, type Socket } from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import {
  CloseCode,
  CoeditError,
  decodeRelayFrame,
  encodeAwarenessFrame,
  encodeAwarenessUpdate,
} from '@coedit/sdk/protocol'
import { createServer } from '../src/index.js'
import type { ServerOptions } from '../src/config.js'
import { connectRelay, type TestRelayClient } from './helpers/relay-client.js'
import { makeDataDir, metricValue, startServer, type TestServer } from './helpers/server.js'
import { once, until } from './helpers/wait.js'

const servers: TestServer[] = []
const cleanups: (() => void)[] = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup()
  for (const server of servers.splice(0)) await server.close()
})

const start = async (options: ServerOptions = {}): Promise<TestServer> => {
  const server = await startServer(options)
  servers.push(server)
  return server
}

const portOf = (server: TestServer): number => {
  const address = server.server.address()
  if (address === null) throw new Error('server is not listening')
  return address.port
}

const relay = (
  server: TestServer,
  room: string,
  options?: Parameters<typeof connectRelay>[2],
): TestRelayClient => {
  const client = connectRelay(server.wsUrl, room, options)
  // Server-initiated closes are what several tests provoke; a socket error must not crash them.
  client.ws.on('error', () => undefined)
  cleanups.push(() => client.ws.terminate())
  return client
}

const synced = (client: TestRelayClient) =>
  until('relay client synced', () => client.synced, [[client.events, 'synced']])

/** The code the server closed a relay client with (fails after 20 s if it stays open). */
const closeCodeOf = async (client: TestRelayClient): Promise<number | undefined> => {
  await until('the server to close the connection', () => client.closeCode !== undefined, [
    [client.events, 'close'],
  ])
  return client.closeCode
}

const textIs = (client: TestRelayClient, name: string, expected: (text: string) => boolean) =>
  until(`text "${name}" to match`, () => expected(client.doc.getText(name).toString()), [
    [client.doc, 'update'],
  ])

/** Opens a `ws` client; resolves with it once open, or with the HTTP status it was refused with. */
const upgrade = (
  url: string,
  options: WebSocket.ClientOptions = {},
): Promise<{ ws: WebSocket; status: 101 } | { status: number; headers: Record<string, unknown> }> =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options)
    cleanups.push(() => ws.terminate())
    ws.once('open', () => resolve({ ws, status: 101 }))
    ws.once('unexpected-response', (request, response) => {
      resolve({ status: response.statusCode ?? 0, headers: { ...response.headers } })
      request.destroy()
    })
    // After a refusal `ws` may still report the aborted request; only an error before either
    // outcome fails the attempt.
    ws.on('error', (error) => reject(error))
  })

// --- A WebSocket client written by hand, for clients that misbehave at the frame level. ---

interface RawFrame {
  readonly opcode: number
  readonly length: number
  /** Kept for control frames (close, ping, pong) only, so that a long stream costs nothing. */
  readonly payload: Buffer | undefined
}

interface RawWebSocket {
  readonly socket: Socket
  readonly frames: RawFrame[]
  /** Emits `frame` for each complete frame received, and `end` when the server closed. */
  readonly events: EventEmitter
  ended: boolean
  /** Sends one masked frame (clients must mask, RFC 6455 §5.3). */
  send(opcode: number, payload: Uint8Array): void
}

const OPCODE_BINARY = 0x2
const OPCODE_CLOSE = 0x8
const OPCODE_PING = 0x9

const encodeClientFrame = (opcode: number, payload: Uint8Array): Buffer => {
  const length = payload.length
  const header =
    length < 126
      ? Buffer.from([0x80 | opcode, 0x80 | length])
      : Buffer.from([0x80 | opcode, 0x80 | 126, length >> 8, length & 0xff])
  if (length >= 65_536) throw new Error('the test encoder only writes frames under 64 KiB')
  const mask = randomBytes(4)
  const masked = Buffer.alloc(length)
  for (let i = 0; i < length; i++) masked[i] = (payload[i] as number) ^ (mask[i % 4] as number)
  return Buffer.concat([header, mask, masked])
}

/**
 * Performs the WebSocket handshake over a raw TCP socket. With `paused`, the socket stops
 * reading the moment the handshake is complete (a client whose tab froze, say).
 */
const openRawWebSocket = (
  port: number,
  path: string,
  options: { paused?: boolean } = {},
): Promise<RawWebSocket> =>
  new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    cleanups.push(() => socket.destroy())
    const events = new EventEmitter()
    const raw: RawWebSocket = {
      socket,
      frames: [],
      events,
      ended: false,
      send: (opcode, payload) => socket.write(encodeClientFrame(opcode, payload)),
    }
    let buffered: Buffer = Buffer.alloc(0)
    let handshaken = false
    const parseFrames = () => {
      for (;;) {
        if (buffered.length < 2) return
        const opcode = (buffered[0] as number) & 0x0f
        let length = (buffered[1] as number) & 0x7f
        let offset = 2
        if (length === 126) {
          if (buffered.length < 4) return
          length = buffered.readUInt16BE(2)
          offset = 4
        } else if (length === 127) {
          if (buffered.length < 10) return
          length = Number(buffered.readBigUInt64BE(2))
          offset = 10
        }
        if (buffered.length < offset + length) return
        const payload =
          opcode >= OPCODE_CLOSE
            ? Buffer.from(buffered.subarray(offset, offset + length))
            : undefined
        const frame = { opcode, length, payload }
        buffered = buffered.subarray(offset + length)
        raw.frames.push(frame)
        events.emit('frame', frame)
      }
    }
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk])
      if (!handshaken) {
        const end = buffered.indexOf('\r\n\r\n')
        if (end < 0) return
        const status = buffered.subarray(0, end).toString('latin1').split('\r\n')[0] ?? ''
        if (!status.startsWith('HTTP/1.1 101')) {
          socket.destroy()
          reject(new Error(`handshake refused: ${status}`))
          return
        }
        handshaken = true
        buffered = buffered.subarray(end + 4)
        if (options.paused) socket.pause()
        resolve(raw)
      }
      parseFrames()
    })
    socket.on('close', () => {
      raw.ended = true
      events.emit('end')
    })
    socket.once('error', (error) => {
      if (!handshaken) reject(error)
    })
    socket.once('connect', () =>
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n` +
          'Sec-WebSocket-Version: 13\r\n\r\n',
      ),
    )
  })

/**
 * Live (reachable) heap and buffer memory, after full garbage collections until it settles
 * (V8 frees buffers' memory on a background thread, so one collection is not enough). RSS is not
 * used: the allocator keeps freed pages, so RSS mostly shows the test's own garbage peaks.
 */
const liveMemory = (() => {
  // Test-only: expose V8's collector so that the measurement is of live objects.
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  const sample = () => {
    gc()
    const { heapUsed, external } = process.memoryUsage()
    return heapUsed + external
  }
  return async (): Promise<number> => {
    let last = sample()
    for (let i = 0; i < 50; i++) {
      await new Promise((resolve) => setImmediate(resolve))
      const now = sample()
      if (Math.abs(now - last) < 256 * 1024) return now
      last = now
    }
    return last
  }
})()

describe('limits', () => {
  it('disconnects a client that stops reading once its send buffer passes the cap, with memory staying bounded', async () => {
    const cap = 256 * 1024
    const server = await start({
      limits: { maxBufferedBytes: cap, bytesPerSecond: 64 * 1024 * 1024, messageBurst: 1000 },
    })
    const writer = relay(server, 'laggards', { coedit: true })
    const reader = relay(server, 'laggards')
    await Promise.all([synced(writer), synced(reader)])
    const slow = await openRawWebSocket(portOf(server), '/relay/laggards', { paused: true })
    const before = await liveMemory()

    // Each round replaces one 64 KiB value, so the documents stay small while the bytes sent to
    // every client add up to 32 MiB: far more than the cap plus what the kernel buffers.
    const chunkBytes = 64 * 1024
    const rounds = 512
    let detectedAfter: number | undefined
    for (let round = 0; round < rounds; round++) {
      const value = String(round % 10).repeat(chunkBytes - 8) + String(round).padStart(8, '-')
      writer.doc.getMap('m').set('blob', value)
      // Paced by the reader, so that no healthy connection ever has more than a frame queued.
      await until(`reader has round ${round}`, () => reader.doc.getMap('m').get('blob') === value, [
        [reader.doc, 'update'],
      ])
      if (
        detectedAfter === undefined &&
        (await metricValue(server.server, 'coedit_closes_total', { reason: 'slowConsumer' })) > 0
      ) {
        detectedAfter = (round + 1) * chunkBytes
        // Reading again now lets the laggard see how the server ended things.
        slow.socket.resume()
      }
    }
    // Measured with nothing in flight: every update is durable (and so out of the persister).
    await until('the writer is saved', () => writer.isSaved(), [[writer.events, 'saved']])
    const grown = (await liveMemory()) - before
    const pushed = rounds * chunkBytes

    expect(detectedAfter, 'the slow consumer was closed').toBeDefined()
    expect(detectedAfter).toBeLessThan(pushed / 2)
    // Had the server kept queueing for the laggard, it would hold most of the 32 MiB now.
    expect(grown).toBeLessThan(pushed / 4)
    expect(
      await metricValue(server.server, 'coedit_closes_total', { reason: 'slowConsumer' }),
    ).toBe(1)

    // The laggard receives what was queued, the slow-consumer close frame, then the end of the
    // connection: the server ends it after a grace period since a laggard never answers.
    await until('the laggard connection ended', () => slow.ended, [[slow.events, 'end']])
    const close = slow.frames.find((frame) => frame.opcode === OPCODE_CLOSE)
    expect(close?.payload?.readUInt16BE(0)).toBe(CloseCode.slowConsumer)

    // The writer and the reader were never affected.
    writer.doc.getText('t').insert(0, 'still here')
    await textIs(reader, 't', (text) => text === 'still here')
    expect(writer.closeCode).toBeUndefined()
    expect(reader.closeCode).toBeUndefined()
    expect(reader.doc.getMap('m').get('blob')).toBe(writer.doc.getMap('m').get('blob'))
  })

  it('closes a connection sending a frame over maxFrameBytes with 1009 and syncs one just under it', async () => {
    const maxFrameBytes = 2 * 1024 * 1024
    const server = await start({ limits: { maxFrameBytes } })
    const a = relay(server, 'big-frames')
    const b = relay(server, 'big-frames')
    const tooBig = relay(server, 'big-frames')
    await Promise.all([synced(a), synced(b), synced(tooBig)])

    tooBig.doc.getText('t').insert(0, 'y'.repeat(maxFrameBytes + 1024))
    expect(await closeCodeOf(tooBig)).toBe(CloseCode.frameTooLarge)

    const megabyte = 'x'.repeat(1_000_000)
    a.doc.getText('t').insert(0, megabyte)
    await textIs(b, 't', (text) => text === megabyte)
    b.doc.getText('t').insert(0, 'b>')
    await textIs(a, 't', (text) => text === `b>${megabyte}`)
    expect(a.closeCode).toBeUndefined()
    expect(b.closeCode).toBeUndefined()
  })

  it('closes a flooding client with 4529 while a client typing 20 updates/s is never throttled', async () => {
    // Small limits keep the test fast; the defaults (100/s, burst 500) are in src/config.ts.
    const server = await start({ limits: { messagesPerSecond: 50, messageBurst: 100 } })
    const typist = relay(server, 'rates')
    const reader = relay(server, 'rates')
    const flooder = relay(server, 'rates')
    await Promise.all([synced(typist), synced(reader), synced(flooder)])

    const keystrokes = 60
    const typed = 'the quick brown fox jumps over the lazy dog, and keeps typing.'.slice(
      0,
      keystrokes,
    )
    const typing = new Promise<void>((resolve) => {
      let i = 0
      const timer = setInterval(() => {
        typist.doc.getText('typed').insert(i, typed[i] as string)
        if (++i === keystrokes) {
          clearInterval(timer)
          resolve()
        }
      }, 50)
      cleanups.push(() => clearInterval(timer))
    })
    // 1,000 updates at once from the flooder, while the typist types.
    const flood = flooder.doc.getText('flood')
    for (let i = 0; i < 1000; i++) flood.insert(i, 'f')
    expect(await closeCodeOf(flooder)).toBe(CloseCode.rateLimited)

    await typing
    await textIs(reader, 'typed', (text) => text === typed)
    expect(typist.closeCode).toBeUndefined()
    expect(reader.closeCode).toBeUndefined()
    expect(await metricValue(server.server, 'coedit_closes_total', { reason: 'rateLimited' })).toBe(
      1,
    )
  })

  it('closes a signaling connection that subscribes to more than maxTopicsPerConnection topics with 4431', async () => {
    const server = await start({ limits: { maxTopicsPerConnection: 4 } })
    const ws = new WebSocket(`${server.wsUrl}/signal`)
    cleanups.push(() => ws.terminate())
    let closeCode: number | undefined
    ws.once('close', (code: number) => {
      closeCode = code
    })
    await once(ws, 'open')
    ws.send(JSON.stringify({ type: 'subscribe', topics: ['t1', 't2'] }))
    // Re-subscribing to a known topic does not count twice: four topics in all, the limit.
    ws.send(JSON.stringify({ type: 'subscribe', topics: ['t2', 't3', 't4'] }))
    ws.send(
      JSON.stringify({ type: 'publish', topic: 't4', data: { type: 'announce', from: 'me' } }),
    )
    const [publication] = await once<[Buffer]>(ws, 'message')
    expect(JSON.parse(publication.toString())).toMatchObject({ topic: 't4', clients: 1 })

    ws.send(JSON.stringify({ type: 'subscribe', topics: ['t5'] }))
    await until('the server to close the connection', () => closeCode !== undefined, [
      [ws, 'close'],
    ])
    expect(closeCode).toBe(CloseCode.tooManyTopics)
  })

  it('answers the WebSocket upgrade past maxConnectionsPerIp with HTTP 429, and accepts again after a close', async () => {
    const server = await start({ limits: { maxConnectionsPerIp: 3 } })
    const url = `${server.wsUrl}/signal`
    const open: WebSocket[] = []
    for (let i = 0; i < 3; i++) {
      const result = await upgrade(url)
      if (!('ws' in result)) throw new Error(`connection ${i + 1} refused with ${result.status}`)
      open.push(result.ws)
    }
    const fourth = await upgrade(url)
    expect(fourth.status).toBe(429)

    const first = open[0] as WebSocket
    first.close()
    await once(first, 'close')
    // The server learns of the close on its own socket, possibly a moment after the client:
    // retry on each refusal (event-driven, bounded), never on a timer.
    let accepted = false
    for (let attempt = 0; attempt < 100 && !accepted; attempt++) {
      const result = await upgrade(url)
      if (result.status === 101) accepted = true
      else expect(result.status).toBe(429)
    }
    expect(accepted).toBe(true)
    expect(
      await metricValue(server.server, 'coedit_rejected_upgrades_total', { reason: 'per-ip' }),
    ).toBeGreaterThanOrEqual(1)
  })

  it('drops a connection that never answers pings, and its presence disappears for others', async () => {
    // The default is 15 s; 400 ms keeps the test short while leaving healthy clients (which
    // answer pings on the same busy event loop) plenty of margin.
    const server = await start({ limits: { pingIntervalMs: 400 } })
    const observerDoc = new Y.Doc()
    const observer = new WebsocketProvider(`${server.wsUrl}/relay`, 'zombies', observerDoc, {
      WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
      disableBc: true,
    })
    cleanups.push(() => observer.destroy())
    const statuses: string[] = []
    observer.on('status', ({ status }: { status: string }) => statuses.push(status))
    await until('observer synced', () => observer.synced, [[observer, 'sync']])

    const zombie = await openRawWebSocket(portOf(server), '/relay/zombies')
    const zombieId = 4242
    const presence = encodeAwarenessUpdate([
      { clientID: zombieId, clock: 1, state: JSON.stringify({ user: { name: 'zombie' } }) },
    ])
    zombie.send(OPCODE_BINARY, encodeAwarenessFrame(presence))
    await until(
      'observer sees the zombie',
      () => observer.awareness.getStates().get(zombieId)?.['user']?.name === 'zombie',
      [[observer.awareness, 'change']],
    )

    await until('the server dropped the zombie', () => zombie.ended, [[zombie.events, 'end']])
    // It was pinged (and said nothing back) before being dropped.
    expect(zombie.frames.some((frame) => frame.opcode === OPCODE_PING)).toBe(true)
    await until(
      'the zombie presence is gone',
      () => !observer.awareness.getStates().has(zombieId),
      [[observer.awareness, 'change']],
    )
    expect(await metricValue(server.server, 'coedit_closes_total', { reason: 'dead' })).toBe(1)
    expect(observer.wsconnected).toBe(true)
    expect(statuses).not.toContain('disconnected')
  })

  it('sends keepalives to a stock client in an idle room', async () => {
    const server = await start({ limits: { keepaliveMs: 300 } })
    const ws = new WebSocket(`${server.wsUrl}/relay/idle`)
    cleanups.push(() => ws.terminate())
    const received: Uint8Array[] = []
    ws.on('message', (data: Buffer) => received.push(new Uint8Array(data)))
    // The client sends nothing at all, not even its sync step 1.
    await until('three keepalives after the server’s sync step 1', () => received.length >= 4, [
      [ws, 'message'],
    ])
    const [first, ...rest] = received.map((frame) => decodeRelayFrame(frame))
    expect(first?.type).toBe('sync-step1')
    // Keepalives are empty awareness updates: harmless to stock clients.
    for (const message of rest) expect(message).toMatchObject({ type: 'awareness', entries: [] })
  })

  it('refuses WebSocket upgrades from origins outside the allowlist with 403', async () => {
    const strict = await start({ allowedOrigins: ['https://good.example'] })
    const refused = await upgrade(`${strict.wsUrl}/relay/r`, { origin: 'https://evil.example' })
    expect(refused.status).toBe(403)
    expect('headers' in refused && refused.headers['cache-control']).toBe('no-store')
    expect(
      (await upgrade(`${strict.wsUrl}/relay/r`, { origin: 'https://good.example' })).status,
    ).toBe(101)
    expect(
      (await upgrade(`${strict.wsUrl}/signal`, { origin: 'https://evil.example' })).status,
    ).toBe(403)

    // Without an allowlist: loopback (development) origins pass, foreign origins do not.
    const open = await start()
    expect(
      (await upgrade(`${open.wsUrl}/relay/r`, { origin: 'http://127.0.0.1:5173' })).status,
    ).toBe(101)
    expect(
      (await upgrade(`${open.wsUrl}/relay/r`, { origin: 'http://localhost:3000' })).status,
    ).toBe(101)
    expect(
      (await upgrade(`${open.wsUrl}/relay/r`, { origin: 'https://evil.example' })).status,
    ).toBe(403)
    expect(
      await metricValue(open.server, 'coedit_rejected_upgrades_total', { reason: 'origin' }),
    ).toBe(1)
  })

  it('counts connections per client behind a trusted proxy, never by a forged X-Forwarded-For', async () => {
    const via = (address: string) => ({ headers: { 'x-forwarded-for': `203.0.113.9, ${address}` } })
    // The test's loopback socket plays the proxy.
    const proxied = await start({
      trustProxy: ['127.0.0.1'],
      limits: { maxConnectionsPerIp: 1 },
    })
    expect((await upgrade(`${proxied.wsUrl}/signal`, via('198.51.100.1'))).status).toBe(101)
    expect((await upgrade(`${proxied.wsUrl}/signal`, via('198.51.100.2'))).status).toBe(101)
    expect((await upgrade(`${proxied.wsUrl}/signal`, via('198.51.100.1'))).status).toBe(429)
    // Not a trusted proxy: the header is the client's claim and is ignored.
    const direct = await start({ limits: { maxConnectionsPerIp: 1 } })
    expect((await upgrade(`${direct.wsUrl}/signal`, via('198.51.100.1'))).status).toBe(101)
    expect((await upgrade(`${direct.wsUrl}/signal`, via('198.51.100.2'))).status).toBe(429)
  })

  it('lets browser extension pages through by default, and per scheme in an allowlist', async () => {
    const chromeExtension = 'chrome-extension://abcdefghijklmnopabcdefghijklmnop'
    const firefoxExtension = 'moz-extension://0d9a6c34-45f2-4d7b-9d3c-1f2e3a4b5c6d'
    const open = await start()
    for (const origin of [chromeExtension, firefoxExtension]) {
      expect((await upgrade(`${open.wsUrl}/relay/r`, { origin })).status).toBe(101)
    }
    // Lookalikes are not extension origins.
    for (const origin of [
      'chrome-extension://evil.example/x',
      'https://chrome-extension.example',
    ]) {
      expect((await upgrade(`${open.wsUrl}/relay/r`, { origin })).status).toBe(403)
    }
    const strict = await start({ allowedOrigins: ['https://good.example', 'chrome-extension://*'] })
    expect((await upgrade(`${strict.wsUrl}/signal`, { origin: chromeExtension })).status).toBe(101)
    expect((await upgrade(`${strict.wsUrl}/signal`, { origin: firefoxExtension })).status).toBe(403)
    const listed = await start({ allowedOrigins: ['https://good.example'] })
    expect((await upgrade(`${listed.wsUrl}/signal`, { origin: chromeExtension })).status).toBe(403)
  })

  it('marks every HTTP API response no-store and exposes the documented metrics', async () => {
    const server = await start()
    const client = relay(server, 'metrics', { coedit: true })
    await synced(client)
    client.doc.getText('t').insert(0, 'measured')
    await until('the edit is saved', () => client.isSaved(), [[client.events, 'saved']])

    for (const path of ['/healthz', '/metrics', '/no-such-path']) {
      const response = await fetch(`${server.url}${path}`)
      expect(response.headers.get('cache-control'), path).toBe('no-store')
      expect(response.status, path).toBe(path === '/no-such-path' ? 404 : 200)
      await response.arrayBuffer()
    }
    const text = await (await fetch(`${server.url}/metrics`)).text()
    const sample = (pattern: string) => {
      const match = new RegExp(`^${pattern} (\\S+)$`, 'm').exec(text)
      return match === null ? undefined : Number(match[1])
    }
    expect(sample('coedit_rooms')).toBe(1)
    expect(sample('coedit_connections\\{endpoint="relay"\\}')).toBe(1)
    expect(sample('coedit_messages_in_total\\{endpoint="relay"\\}')).toBeGreaterThan(0)
    expect(sample('coedit_bytes_out_total\\{endpoint="relay"\\}')).toBeGreaterThan(0)
    expect(sample('coedit_persist_seconds_count')).toBeGreaterThan(0)
    for (const [name, type] of [
      ['coedit_rooms', 'gauge'],
      ['coedit_connections', 'gauge'],
      ['coedit_messages_in_total', 'counter'],
      ['coedit_bytes_out_total', 'counter'],
      ['coedit_persist_seconds', 'histogram'],
      ['coedit_compactions_total', 'counter'],
      ['coedit_drops_total', 'counter'],
      ['coedit_closes_total', 'counter'],
    ]) {
      expect(text).toContain(`# TYPE ${name} ${type}\n`)
    }
  })

  it('closes a writer whose update would exceed maxDocumentBytes with 4413, storing and relaying nothing of it', async () => {
    const server = await start({ limits: { maxDocumentBytes: 4096 } })
    const writer = relay(server, 'capped')
    const other = relay(server, 'capped')
    const reader = relay(server, 'capped')
    await Promise.all([synced(writer), synced(other), synced(reader)])
    writer.doc.getText('t').insert(0, 'small')
    await textIs(other, 't', (text) => text === 'small')

    writer.doc.getText('t').insert(5, 'x'.repeat(8000))
    expect(await closeCodeOf(writer)).toBe(CloseCode.documentTooLarge)
    // Frames are relayed in order: once the reader has a later edit, the big one is not coming.
    other.doc.getText('t').insert(5, '+later')
    await textIs(reader, 't', (text) => text.endsWith('+later'))
    const late = relay(server, 'capped')
    await synced(late)
    expect(late.doc.getText('t').toString()).toBe('small+later')
    expect(reader.doc.getText('t').toString()).toBe('small+later')
    expect(reader.closeCode).toBeUndefined()
    expect(other.closeCode).toBeUndefined()
    expect(
      await metricValue(server.server, 'coedit_drops_total', { reason: 'document-too-large' }),
    ).toBe(1)

    // Nor was it stored: a restarted server has only what was accepted.
    await server.close({ keepData: true })
    servers.splice(servers.indexOf(server), 1)
    const restarted = await start({ dataDir: server.dataDir, limits: { maxDocumentBytes: 4096 } })
    const after = relay(restarted, 'capped')
    await synced(after)
    expect(after.doc.getText('t').toString()).toBe('small+later')
  })

  it('refuses to listen on a non-loopback host without auth unless told it is insecure', async () => {
    const dataDir = makeDataDir()
    let error: unknown
    try {
      createServer({ host: '0.0.0.0', port: 0, logger: false, dataDir })
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(CoeditError)
    expect((error as CoeditError).code).toBe('insecure-listen')

    const insecure = await start({ host: '0.0.0.0', insecure: true, dataDir })
    const response = await fetch(`http://127.0.0.1:${portOf(insecure)}/healthz`)
    expect(response.status).toBe(200)
    await insecure.close()
  })
})
