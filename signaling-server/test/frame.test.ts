/**
 * Frames prepared once for a broadcast (connection/frame.ts) are read by a real `ws` client
 * exactly like frames `ws` makes itself, at every length encoding (7-bit, 16-bit, 64-bit).
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { prepareBinaryFrame } from '../src/connection/frame.js'

let server: Server | undefined

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve))
})

describe('prepared binary frames', () => {
  it('arrive intact at a ws client for every length encoding', async () => {
    const sizes = [0, 1, 125, 126, 127, 65_535, 65_536, 200_000]
    const payloads = sizes.map((size) => {
      const bytes = new Uint8Array(size)
      for (let i = 0; i < size; i++) bytes[i] = (i * 31 + size) & 0xff
      return bytes
    })
    const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false })
    server = createServer()
    server.on('upgrade', (request, socket, head) => {
      wss.handleUpgrade(request, socket, head, () => {
        for (const payload of payloads) socket.write(prepareBinaryFrame(payload).wire)
      })
    })
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    const client = new WebSocket(`ws://127.0.0.1:${port}`)
    const received: Buffer[] = []
    await new Promise<void>((resolve, reject) => {
      client.on('message', (data: Buffer, isBinary: boolean) => {
        expect(isBinary).toBe(true)
        received.push(data)
        if (received.length === payloads.length) resolve()
      })
      client.on('error', reject)
    })
    client.terminate()
    expect(received.map((data) => new Uint8Array(data))).toEqual(payloads)
  })
})
