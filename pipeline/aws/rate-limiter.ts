import { systemClock, type Clock } from './clock';
import { DEFAULT_QUOTAS, quotaFor, type QuotaTable } from './quotas';
import { TokenBucket } from './token-bucket';

/** Which quota a call counts against: quotas apply per account and Region. */
export interface RateScope {
  readonly account: string;
  readonly region: string;
  /** Lower-case service name as in the quota table: `kms`, `sso-admin`, `identitystore`, `sts`. */
  readonly service: string;
  /** API operation name, e.g. `CreateKey`. */
  readonly operation: string;
}

/** Waits until a call may be sent. Never rejects for being over the quota: it delays instead. */
export interface RateLimiter {
  acquire(scope: RateScope): Promise<void>;
}

export interface QuotaRateLimiterOptions {
  /** Default DEFAULT_QUOTAS (the documented KMS request quotas). */
  readonly quotas?: QuotaTable;
  readonly clock?: Clock;
  /** Tokens a bucket holds at once. Default 1: calls are spaced evenly, no burst. */
  readonly burst?: number;
}

/** What a limiter did, for timing breakdowns (the fleet bench): per bucket, and the wall time anyone waited. */
export interface RateLimiterStats {
  /** `<account>|<region>|<service>|<bucket>` → calls that took a token, calls that had to wait, total wait. */
  readonly buckets: Readonly<Record<string, { readonly calls: number; readonly waited: number; readonly waitMs: number }>>;
  /** Wall-clock time during which at least one call was waiting for a token. */
  readonly waitingWallMs: number;
}

/** A token bucket per (account, Region, service, quota bucket), created on first use. */
export class QuotaRateLimiter implements RateLimiter {
  private readonly quotas: QuotaTable;
  private readonly clock: Clock;
  private readonly burst: number;
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly counts = new Map<string, { calls: number; waited: number; waitMs: number }>();
  private waitingNow = 0;
  private waitingSince = 0;
  private waitingWallMs = 0;

  constructor(options: QuotaRateLimiterOptions = {}) {
    this.quotas = options.quotas ?? DEFAULT_QUOTAS;
    this.clock = options.clock ?? systemClock;
    this.burst = options.burst ?? 1;
  }

  async acquire(scope: RateScope): Promise<void> {
    const quota = quotaFor(this.quotas, scope.service, scope.operation);
    if (quota === undefined) return;
    const key = [scope.account, scope.region, scope.service, quota.bucket].join('|');
    const now = this.clock.now();
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = new TokenBucket(quota.perSecond, this.burst, now);
      this.buckets.set(key, bucket);
    }
    const waitMs = bucket.reserve(now);
    const count = this.counts.get(key) ?? { calls: 0, waited: 0, waitMs: 0 };
    this.counts.set(key, { calls: count.calls + 1, waited: count.waited + (waitMs > 0 ? 1 : 0), waitMs: count.waitMs + waitMs });
    if (waitMs <= 0) return;
    if (this.waitingNow++ === 0) this.waitingSince = now;
    try {
      await this.clock.sleep(waitMs);
    } finally {
      if (--this.waitingNow === 0) this.waitingWallMs += this.clock.now() - this.waitingSince;
    }
  }

  stats(): RateLimiterStats {
    const open = this.waitingNow > 0 ? this.clock.now() - this.waitingSince : 0;
    return { buckets: Object.fromEntries(this.counts), waitingWallMs: this.waitingWallMs + open };
  }
}

/** What a limiter did between two `stats()` readings (one command's share of a process-wide limiter). */
export function statsSince(before: RateLimiterStats, after: RateLimiterStats): RateLimiterStats {
  const buckets: Record<string, { calls: number; waited: number; waitMs: number }> = {};
  for (const [key, now] of Object.entries(after.buckets)) {
    const then = before.buckets[key] ?? { calls: 0, waited: 0, waitMs: 0 };
    if (now.calls > then.calls) buckets[key] = { calls: now.calls - then.calls, waited: now.waited - then.waited, waitMs: now.waitMs - then.waitMs };
  }
  return { buckets, waitingWallMs: after.waitingWallMs - before.waitingWallMs };
}

/** For callers that must not be limited (tests that provoke server-side throttling on purpose). */
export const unlimitedRateLimiter: RateLimiter = { acquire: async () => undefined };

let shared: QuotaRateLimiter | undefined;

/**
 * One limiter per process, shared by every client set created without its own, so two client sets
 * for the same account and Region draw on the same buckets, as AWS counts them.
 */
export function sharedRateLimiter(): QuotaRateLimiter {
  shared ??= new QuotaRateLimiter();
  return shared;
}
