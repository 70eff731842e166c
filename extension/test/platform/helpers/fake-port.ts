/**
 * An in-memory pair of ports with runtime.Port's semantics where they matter to the host:
 * messages are delivered asynchronously and as JSON (Chrome's runtime messaging serialises them;
 * a Uint8Array would not survive), `disconnect()` tells the other side only, and nothing is
 * delivered after a disconnect.
 */
import type { PortLike } from '../../../src/host/host-port.js'

export interface FakePort<Out> extends PortLike<Out> {
  readonly disconnected: boolean
  /** Posts a raw value, bypassing the `Out` type (for malformed input). */
  postRaw(data: unknown): void
}

interface Side {
  messages: Set<(data: unknown) => void>
  disconnects: Set<() => void>
  closed: boolean
}

export const createPortPair = <AOut, BOut>(): readonly [FakePort<AOut>, FakePort<BOut>] => {
  const a: Side = { messages: new Set(), disconnects: new Set(), closed: false }
  const b: Side = { messages: new Set(), disconnects: new Set(), closed: false }

  const side = <Out>(self: Side, other: Side): FakePort<Out> => {
    const postRaw = (data: unknown) => {
      if (self.closed) throw new Error('Attempting to use a disconnected port object')
      const json: unknown = data === undefined ? undefined : JSON.parse(JSON.stringify(data))
      setTimeout(() => {
        if (other.closed) return
        for (const listener of [...other.messages]) listener(json)
      }, 0)
    }
    return {
      get disconnected() {
        return self.closed
      },
      postMessage: postRaw,
      postRaw,
      onMessage(listener) {
        self.messages.add(listener)
        return () => self.messages.delete(listener)
      },
      onDisconnect(listener) {
        self.disconnects.add(listener)
        return () => self.disconnects.delete(listener)
      },
      disconnect() {
        if (self.closed) return
        self.closed = true
        setTimeout(() => {
          if (other.closed) return
          other.closed = true
          for (const listener of [...other.disconnects]) listener()
        }, 0)
      },
    }
  }
  return [side<AOut>(a, b), side<BOut>(b, a)] as const
}
