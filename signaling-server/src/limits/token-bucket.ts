/**
 * A token bucket: `capacity` tokens, refilled continuously at `ratePerSecond`. Used for
 * per-connection message and byte rates and the server-wide new-connection rate.
 */
export interface TokenBucket {
  /** Takes `amount` tokens if available; returns false (taking nothing) otherwise. */
  take(amount?: number): boolean
}

export const createTokenBucket = (
  ratePerSecond: number,
  capacity: number,
  now: () => number = performance.now.bind(performance),
): TokenBucket => {
  let tokens = capacity
  let last = now()
  return {
    take(amount = 1) {
      const t = now()
      tokens = Math.min(capacity, tokens + ((t - last) / 1000) * ratePerSecond)
      last = t
      if (tokens < amount) return false
      tokens -= amount
      return true
    },
  }
}
