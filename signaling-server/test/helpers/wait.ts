/**
 * Waiting on events instead of sleeping. `until` re-checks a condition whenever the given
 * emitter fires one of the events, and fails with a description after `timeoutMs`.
 */
import type { EventEmitter } from 'node:events'

type Listenable =
  | Pick<EventEmitter, 'on' | 'off'>
  | {
      on(event: string, listener: (...args: never[]) => void): unknown
      off(event: string, listener: (...args: never[]) => void): unknown
    }

export const until = (
  description: string,
  condition: () => boolean,
  sources: readonly [Listenable, string][],
  timeoutMs = 20_000,
): Promise<void> =>
  new Promise((resolve, reject) => {
    const check = () => {
      let done = false
      try {
        done = condition()
      } catch (error) {
        finish(error instanceof Error ? error : new Error(String(error)))
        return
      }
      if (done) finish()
    }
    const finish = (error?: Error) => {
      clearTimeout(timer)
      for (const [source, event] of sources) source.off(event, check)
      if (error) reject(error)
      else resolve()
    }
    const timer = setTimeout(
      () => finish(new Error(`timed out after ${timeoutMs} ms waiting for: ${description}`)),
      timeoutMs,
    )
    for (const [source, event] of sources) source.on(event, check)
    check()
  })

/** Resolves with the arguments of the next `event` on `emitter`. */
export const once = <T extends unknown[] = unknown[]>(
  emitter: Pick<EventEmitter, 'once'>,
  event: string,
): Promise<T> =>
  new Promise((resolve) => emitter.once(event, (...args: unknown[]) => resolve(args as T)))
