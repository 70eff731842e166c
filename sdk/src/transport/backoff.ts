/**
 * Reconnect delays with "full jitter" (AWS architecture blog, "Exponential Backoff And Jitter"):
 * each delay is uniformly random in [0, min(cap, base · 2^attempt)]. Without jitter, every client
 * of a restarted server comes back in the same millisecond (requirements R14).
 */
import { CoeditError } from '../protocol/errors.js'

export interface BackoffOptions {
  /** Upper bound of the first delay, in ms. Default 500. */
  initialDelayMs?: number
  /** Cap on the upper bound, in ms. Default 30 000 (R14 asks for ≥ 30 s). */
  maxDelayMs?: number
  /** Source of randomness in [0, 1); injectable so tests can replay it. Default `Math.random`. */
  random?: () => number
}

export interface Backoff {
  /** The next delay in ms; each call counts as one more failed attempt. */
  next(): number
  /** Forget past failures (after a connection proved healthy). */
  reset(): void
  /** Failed attempts since the last reset. */
  readonly attempts: number
}

export const DEFAULT_INITIAL_DELAY_MS = 500
export const DEFAULT_MAX_DELAY_MS = 30_000

export const createBackoff = ({
  initialDelayMs = DEFAULT_INITIAL_DELAY_MS,
  maxDelayMs = DEFAULT_MAX_DELAY_MS,
  random = Math.random,
}: BackoffOptions = {}): Backoff => {
  if (!(initialDelayMs > 0) || !(maxDelayMs >= initialDelayMs)) {
    throw new CoeditError(
      'misuse',
      `backoff needs 0 < initialDelayMs ≤ maxDelayMs (got ${initialDelayMs}, ${maxDelayMs})`,
    )
  }
  let attempts = 0
  return {
    next() {
      // 2^attempts overflows to Infinity long after the cap applies; min() keeps it finite.
      const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** attempts)
      attempts++
      return Math.floor(random() * ceiling)
    },
    reset() {
      attempts = 0
    },
    get attempts() {
      return attempts
    },
  }
}
