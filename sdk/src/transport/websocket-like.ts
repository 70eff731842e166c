/**
 * The slice of the WebSocket API the relay transport uses. Both the browser's `WebSocket` and the
 * `ws` package's class satisfy it, so Node applications and tests pass `ws` as an option.
 */
export interface WebSocketLike {
  binaryType: string
  readonly readyState: number
  // Handlers typed with `never` parameters so both the DOM's and `ws`'s event types fit.
  onopen: ((event: never) => void) | null
  onmessage: ((event: never) => void) | null
  onclose: ((event: never) => void) | null
  onerror: ((event: never) => void) | null
  send(data: Uint8Array): void
  close(code?: number, reason?: string): void
}

export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike

/** `WebSocket.OPEN` (the same number in every implementation). */
export const WS_OPEN = 1
