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

/** A token bucket per (account, Region, service, quota bucket), created on first use. */
export class QuotaRateLimiter implements RateLimiter {
  private readonly quotas: QuotaTable;
  private readonly clock: Clock;
  private readonly burst: number;
  private readonly buckets = new Map<string, TokenBucket>();

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
    if (waitMs > 0) await this.clock.sleep(waitMs);
  }
}

/** For callers that must not be limited (tests that provoke server-side throttling on purpose). */
export const unlimitedRateLimiter: RateLimiter = { acquire: async () => undefined };

let shared: QuotaRateLimiter | undefined;

/**
 * One limiter per process, shared by every client set created without its own, so two client sets
 * for the same account and Region draw on the same buckets, as AWS counts them.
 */
export function sharedRateLimiter(): RateLimiter {
  shared ??= new QuotaRateLimiter();
  return shared;
}
