/**
 * A token bucket that hands out reservations instead of refusals: a caller that finds the bucket
 * empty goes into debt and is told how long to wait for its slot. Reserving synchronously keeps
 * concurrent callers in arrival order and never lets two of them claim the same token.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  /**
   * @param perSecond refill rate (the quota).
   * @param capacity  tokens available at once. 1 spaces calls evenly at 1/perSecond, which stays
   *                  under the quota however the server counts its window.
   * @param now       the clock's current time in milliseconds.
   */
  constructor(
    readonly perSecond: number,
    readonly capacity: number,
    now: number,
  ) {
    if (!(perSecond > 0)) throw new RangeError(`token bucket rate must be > 0 per second, got ${perSecond}`);
    if (!(capacity >= 1)) throw new RangeError(`token bucket capacity must be >= 1, got ${capacity}`);
    this.tokens = capacity;
    this.updatedAt = now;
  }

  /** Takes one token and returns how many milliseconds the caller must wait before using it (0 = now). */
  reserve(now: number): number {
    this.refill(now);
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.perSecond;
  }

  private refill(now: number): void {
    const elapsedMs = Math.max(0, now - this.updatedAt);
    this.tokens = Math.min(this.capacity, this.tokens + (elapsedMs * this.perSecond) / 1000);
    this.updatedAt = Math.max(this.updatedAt, now);
  }
}
