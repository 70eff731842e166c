/**
 * A token bucket: `capacity` tokens, refilled continuously at `ratePerSecond`. Used for
 * per-connection message and byte rates and the server-wide new-connection rate. A class (one
 * per connection, twice): prototype methods and plain fields keep idle sockets small.
 */
export class TokenBucket {
  private tokens: number
  private refilledAt: number

  constructor(
    private readonly ratePerSecond: number,
    private readonly capacity: number,
  ) {
    this.tokens = capacity
    this.refilledAt = performance.now()
  }

  /** Whether `amount` tokens are available after refilling (takes nothing). */
  has(amount: number): boolean {
    const now = performance.now()
    this.tokens = Math.min(
      this.capacity,
      this.tokens + ((now - this.refilledAt) / 1000) * this.ratePerSecond,
    )
    this.refilledAt = now
    return this.tokens >= amount
  }

  /** Takes `amount` tokens if available; returns false (taking nothing) otherwise. */
  take(amount = 1): boolean {
    if (!this.has(amount)) return false
    this.tokens -= amount
    return true
  }

  /** Takes tokens already checked with `has` (several buckets charged all-or-nothing). */
  spend(amount: number): void {
    this.tokens -= amount
  }
}
