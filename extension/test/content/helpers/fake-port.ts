/**
 * An in-memory `runtime.Port` pair that behaves like Chrome's: messages are delivered
 * asynchronously and JSON-serialised (a Uint8Array would arrive as an object of numbered keys),
 * posting on a disconnected port throws, and `disconnect()` fires `onDisconnect` on the other
 * end only. `idle()` resolves once every delivery queued so far (and any it caused) is done.
 */
import type { PortLike } from '../../../src/content/runtime.js'

type Listener<T extends unknown[]> = (...args: T) => void

const event = <T extends unknown[]>() => {
  const listeners = new Set<Listener<T>>()
  return {
    listeners,
    addListener: (listener: Listener<T>) => void listeners.add(listener),
    removeListener: (listener: Listener<T>) => void listeners.delete(listener),
    fire: (...args: T) => {
      for (const listener of [...listeners]) listener(...args)
    },
  }
}

export interface FakePort extends PortLike {
  readonly onMessage: ReturnType<typeof event<[unknown]>>
  readonly onDisconnect: ReturnType<typeof event<[]>>
  readonly disconnected: boolean
  /** Every message this end posted, as the other end received it. */
  readonly posted: unknown[]
}

export interface PortNetwork {
  pair(): [FakePort, FakePort]
  /** Resolves when no delivery is pending. */
  idle(): Promise<void>
}

export const createPortNetwork = (): PortNetwork => {
  let pending = 0
  let waiters: (() => void)[] = []
  const deliver = (action: () => void) => {
    pending++
    queueMicrotask(() => {
      try {
        action()
      } finally {
        pending--
        if (pending === 0) {
          const ready = waiters
          waiters = []
          for (const resolve of ready) resolve()
        }
      }
    })
  }

  const pair = (): [FakePort, FakePort] => {
    let disconnected = false
    const make = (): FakePort & { other?: FakePort } => {
      const port: FakePort & { other?: FakePort } = {
        onMessage: event<[unknown]>(),
        onDisconnect: event<[]>(),
        posted: [],
        get disconnected() {
          return disconnected
        },
        postMessage(message) {
          if (disconnected) throw new Error('Attempting to use a disconnected port object')
          const copy: unknown = JSON.parse(JSON.stringify(message))
          port.posted.push(copy)
          deliver(() => {
            if (!disconnected) port.other?.onMessage.fire(copy)
          })
        },
        disconnect() {
          if (disconnected) return
          disconnected = true
          deliver(() => port.other?.onDisconnect.fire())
        },
      }
      return port
    }
    const a = make()
    const b = make()
    a.other = b
    b.other = a
    return [a, b]
  }

  return {
    pair,
    idle: () =>
      pending === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve)),
  }
}
