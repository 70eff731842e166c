// Diagnostic server for the benchmark (`--servers floor`): the cheapest relay that still serves
// the load, to measure the floor of CPU per delivery on this machine. A raw `node:http` server
// that does the RFC 6455 handshake itself on `/relay/<room>` (no `ws` library) and keeps no Yjs
// document at all:
//
// - sync step 1 (`0 • 0 • stateVector`): answered with a sync step 2 carrying an empty update
//   (`0 • 1 • varUint8Array([0, 0])`), which is all a load-generator client waits for. It sends
//   no sync step 1 of its own: the load generator's clients do not wait for one.
// - sync step 2 / update (`0 • 1|2 • …`) and awareness (`1 • …`): the payload verbatim, as one
//   unmasked binary frame built once per message, written to every other socket of the room with
//   one `socket.write` each (no echo to the sender).
//
// A fresh socket therefore syncs to nothing: the load generator skips that check for it. Not a
// usable server (no document, no awareness state for late joiners, no backpressure handling).
// Port in argv[2].
import { createHash } from 'node:crypto'
import http from 'node:http'

const port = Number(process.argv[2])
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
const MAX_PAYLOAD = 16 * 1024 * 1024

const OPCODE_CONTINUATION = 0x0
const OPCODE_TEXT = 0x1
const OPCODE_BINARY = 0x2
const OPCODE_CLOSE = 0x8
const OPCODE_PING = 0x9
const OPCODE_PONG = 0xa

const MESSAGE_SYNC = 0
const MESSAGE_AWARENESS = 1
const SYNC_STEP1 = 0
const SYNC_STEP2 = 1
const SYNC_UPDATE = 2

/** Header length of an unmasked server frame carrying `length` payload bytes. */
const headerLength = (length) => (length < 126 ? 2 : length < 65536 ? 4 : 10)

/** Writes an unmasked, final frame header into `frame`; returns the header length. */
const writeHeader = (frame, opcode, length) => {
  frame[0] = 0x80 | opcode
  if (length < 126) {
    frame[1] = length
    return 2
  }
  if (length < 65536) {
    frame[1] = 126
    frame.writeUInt16BE(length, 2)
    return 4
  }
  frame[1] = 127
  frame.writeUInt32BE(0, 2)
  frame.writeUInt32BE(length, 6)
  return 10
}

/** One unmasked, final frame around `payload`. */
const frameOf = (opcode, payload) => {
  const frame = Buffer.allocUnsafe(headerLength(payload.length) + payload.length)
  payload.copy(frame, writeHeader(frame, opcode, payload.length))
  return frame
}

/** Sync step 2 with an empty Yjs update: messageSync, step 2, varUint8Array([0, 0]). */
const EMPTY_SYNC_STEP2 = frameOf(OPCODE_BINARY, Buffer.from([MESSAGE_SYNC, SYNC_STEP2, 2, 0, 0]))

const EMPTY = Buffer.alloc(0)

/** @type {Map<string, Set<import('node:net').Socket>>} */
const rooms = new Map()

const server = http.createServer((_request, response) => {
  response.writeHead(200, { 'Content-Type': 'text/plain' })
  response.end('okay')
})

server.on('upgrade', (request, socket, head) => {
  const path = (request.url ?? '/').split('?')[0] ?? '/'
  const key = request.headers['sec-websocket-key']
  if (
    !path.startsWith('/relay/') ||
    request.headers.upgrade?.toLowerCase() !== 'websocket' ||
    request.headers['sec-websocket-version'] !== '13' ||
    typeof key !== 'string' ||
    key.length === 0
  ) {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
    return
  }
  let room
  try {
    room = decodeURIComponent(path.slice('/relay/'.length))
  } catch {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
    return
  }
  const accept = createHash('sha1')
    .update(key + GUID)
    .digest('base64')
  socket.setNoDelay(true)
  socket.setTimeout(0)
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
  )
  let peers = rooms.get(room)
  if (peers === undefined) {
    peers = new Set()
    rooms.set(room, peers)
  }
  peers.add(socket)
  serve(socket, room, peers, head)
})

/**
 * Parses the client's frames and relays its messages to `peers` (the room's sockets).
 * @param {import('node:net').Socket} socket
 * @param {string} room
 * @param {Set<import('node:net').Socket>} peers
 * @param {Buffer} head
 */
const serve = (socket, room, peers, head) => {
  /** Bytes received but not parsed yet (an incomplete frame). */
  let pending = EMPTY
  /** Payloads of a fragmented message so far, or undefined. */
  let fragments
  let fragmentsBytes = 0
  let closing = false

  const leave = () => {
    if (!peers.delete(socket)) return
    if (peers.size === 0 && rooms.get(room) === peers) rooms.delete(room)
  }
  const fail = (code) => {
    if (closing) return
    closing = true
    leave()
    const payload = Buffer.allocUnsafe(2)
    payload.writeUInt16BE(code, 0)
    socket.end(frameOf(OPCODE_CLOSE, payload))
  }

  /** Relays one complete message whose payload is `frame.subarray(offset)`. */
  const onMessage = (frame, offset) => {
    const type = frame[offset]
    if (type === MESSAGE_SYNC) {
      const subtype = frame[offset + 1]
      if (subtype === SYNC_STEP1) {
        socket.write(EMPTY_SYNC_STEP2)
        return
      }
      if (subtype !== SYNC_STEP2 && subtype !== SYNC_UPDATE) return
    } else if (type !== MESSAGE_AWARENESS) {
      return
    }
    for (const peer of peers) {
      if (peer !== socket) peer.write(frame)
    }
  }

  /** Parses every complete frame in `data`; returns the unparsed rest. */
  const parse = (data) => {
    let at = 0
    while (!closing && data.length - at >= 2) {
      const first = data[at]
      const second = data[at + 1]
      const fin = (first & 0x80) !== 0
      const opcode = first & 0x0f
      if ((first & 0x70) !== 0 || (second & 0x80) === 0) {
        fail(1002) // reserved bits set or an unmasked client frame
        break
      }
      let length = second & 0x7f
      let headerEnd = at + 2
      if (length === 126) {
        if (data.length - at < 4) break
        length = data.readUInt16BE(at + 2)
        headerEnd = at + 4
      } else if (length === 127) {
        if (data.length - at < 10) break
        if (data.readUInt32BE(at + 2) !== 0) {
          fail(1009)
          break
        }
        length = data.readUInt32BE(at + 6)
        headerEnd = at + 10
      }
      if (length > MAX_PAYLOAD) {
        fail(1009)
        break
      }
      const payloadStart = headerEnd + 4
      const frameEnd = payloadStart + length
      if (data.length < frameEnd) break
      const maskAt = headerEnd
      at = frameEnd
      if (opcode === OPCODE_BINARY && fin && fragments === undefined) {
        // The common case: unmask straight into the outgoing frame, built once for every peer.
        const out = Buffer.allocUnsafe(headerLength(length) + length)
        const offset = writeHeader(out, OPCODE_BINARY, length)
        for (let i = 0; i < length; i++) {
          out[offset + i] = data[payloadStart + i] ^ data[maskAt + (i & 3)]
        }
        if (length > 0) onMessage(out, offset)
        continue
      }
      const payload = Buffer.allocUnsafe(length)
      for (let i = 0; i < length; i++) payload[i] = data[payloadStart + i] ^ data[maskAt + (i & 3)]
      if (opcode >= 0x8) {
        // Control frames: never fragmented, at most 125 bytes, may arrive between fragments.
        if (!fin || length > 125) {
          fail(1002)
          break
        }
        if (opcode === OPCODE_CLOSE) {
          closing = true
          leave()
          socket.end(frameOf(OPCODE_CLOSE, payload.subarray(0, Math.min(2, length))))
          break
        }
        if (opcode === OPCODE_PING) socket.write(frameOf(OPCODE_PONG, payload))
        else if (opcode !== OPCODE_PONG) {
          fail(1002)
          break
        }
        continue
      }
      if (opcode === OPCODE_TEXT) {
        fail(1003) // the y-websocket protocol is binary only
        break
      }
      if (opcode === OPCODE_BINARY) {
        if (fragments !== undefined) {
          fail(1002) // a new message before the fragmented one ended
          break
        }
        fragments = [payload]
        fragmentsBytes = length
      } else if (opcode === OPCODE_CONTINUATION && fragments !== undefined) {
        fragments.push(payload)
        fragmentsBytes += length
        if (fragmentsBytes > MAX_PAYLOAD) {
          fail(1009)
          break
        }
      } else {
        fail(1002)
        break
      }
      if (fin) {
        const bytes = fragmentsBytes
        const message = frameOf(OPCODE_BINARY, Buffer.concat(fragments, bytes))
        fragments = undefined
        fragmentsBytes = 0
        if (bytes > 0) onMessage(message, headerLength(bytes))
      }
    }
    return at === data.length ? undefined : data.subarray(at)
  }

  const onData = (chunk) => {
    const data = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
    const rest = parse(data)
    pending = rest ?? EMPTY
  }

  socket.on('data', onData)
  socket.on('error', () => {
    leave()
    socket.destroy()
  })
  socket.on('end', () => {
    // The client half-closed: close our side too (what `ws` does).
    leave()
    socket.end()
  })
  socket.on('close', leave)
  if (head.length > 0) onData(head)
}

server.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${port}\n`))
process.on('SIGTERM', () => process.exit(0))
