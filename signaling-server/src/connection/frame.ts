/**
 * WebSocket framing done once per broadcast instead of once per recipient.
 *
 * `ws` frames every `send()` separately (a header allocation and a corked two-buffer write per
 * recipient). A relay broadcast sends the same bytes to every client of a room, so the server
 * frames them once — an unmasked binary frame, as RFC 6455 §5.2 requires from servers — and
 * writes the finished buffer to each socket. This is safe next to `ws`'s own writes because the
 * server disables per-message compression (so `ws` never queues frames) and every write is a
 * whole frame; `ws.bufferedAmount` still counts these bytes (they sit in the same socket).
 */

/** A complete binary WebSocket frame, ready to write to any connection. */
export interface PreparedFrame {
  /** Header and payload. */
  readonly wire: Buffer
  /** Payload length (what metrics count as bytes out). */
  readonly payloadLength: number
}

export const prepareBinaryFrame = (payload: Uint8Array): PreparedFrame => {
  const length = payload.length
  const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10
  const wire = Buffer.allocUnsafe(headerLength + length)
  wire[0] = 0x82 // FIN + opcode 2 (binary)
  if (length < 126) {
    wire[1] = length
  } else if (length < 65_536) {
    wire[1] = 126
    wire.writeUInt16BE(length, 2)
  } else {
    wire[1] = 127
    wire.writeBigUInt64BE(BigInt(length), 2)
  }
  wire.set(payload, headerLength)
  return { wire, payloadLength: length }
}
