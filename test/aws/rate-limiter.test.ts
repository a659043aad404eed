import { QuotaRateLimiter, type RateScope } from '../../pipeline/aws';
import { TokenBucket } from '../../pipeline/aws/token-bucket';
import { FrozenClock, SteppingClock } from './fake-clock';

// Quotas: AWS KMS Developer Guide, "Request quotas" — per account and Region, per operation.
const createKey: RateScope = { account: '111111111111', region: 'us-east-1', service: 'kms', operation: 'CreateKey' };

async function callSequentially(limiter: QuotaRateLimiter, scope: RateScope, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await limiter.acquire(scope);
}

describe('QuotaRateLimiter', () => {
  test('GIVEN CreateKey at 5/s WHEN 20 calls are made back to back THEN they take at least 3.8 s of clock time', async () => {
    const clock = new SteppingClock();
    const limiter = new QuotaRateLimiter({ clock });
    await callSequentially(limiter, createKey, 20);
    expect(clock.time).toBeGreaterThanOrEqual(3800);
    // and no more than needed: evenly spaced at 200 ms, no wasted wait
    expect(clock.time).toBeLessThan(4000);
  });

  test('GIVEN 20 concurrent CreateKey calls THEN their slots are 200 ms apart, in arrival order', async () => {
    const clock = new FrozenClock(1000);
    const limiter = new QuotaRateLimiter({ clock });
    await Promise.all(Array.from({ length: 20 }, () => limiter.acquire(createKey)));
    // the first call goes at once (no sleep); 19 wait
    expect(clock.wakeTimes).toHaveLength(19);
    expect(clock.wakeTimes.map((t) => Math.round(t - 1000))).toEqual(Array.from({ length: 19 }, (_, i) => (i + 1) * 200));
  });

  test('GIVEN ScheduleKeyDeletion at 15/s and DescribeKey at 2000/s THEN each is spaced by its own quota', async () => {
    const clock = new SteppingClock();
    const limiter = new QuotaRateLimiter({ clock });
    await callSequentially(limiter, { ...createKey, operation: 'ScheduleKeyDeletion' }, 16);
    expect(clock.time).toBeCloseTo(1000, 5);
    const before = clock.time;
    await callSequentially(limiter, { ...createKey, operation: 'DescribeKey' }, 2001);
    expect(clock.time - before).toBeCloseTo(1000, 5);
  });

  test('GIVEN one bucket drained WHEN another operation, Region or account calls THEN it does not wait', async () => {
    const clock = new FrozenClock();
    const limiter = new QuotaRateLimiter({ clock });
    await limiter.acquire(createKey);
    await limiter.acquire({ ...createKey, operation: 'UpdateAlias' });
    await limiter.acquire({ ...createKey, region: 'eu-west-1' });
    await limiter.acquire({ ...createKey, account: '222222222222' });
    expect(clock.wakeTimes).toEqual([]);
    await limiter.acquire(createKey);
    expect(clock.wakeTimes).toEqual([200]);
  });

  test('GIVEN the cryptographic operations share one quota THEN Encrypt and Decrypt draw on the same bucket', async () => {
    const clock = new FrozenClock();
    const limiter = new QuotaRateLimiter({ clock, quotas: { kms: { Encrypt: { perSecond: 2, bucket: 'crypto' }, Decrypt: { perSecond: 2, bucket: 'crypto' } } } });
    await limiter.acquire({ ...createKey, operation: 'Encrypt' });
    await limiter.acquire({ ...createKey, operation: 'Decrypt' });
    expect(clock.wakeTimes).toEqual([500]);
  });

  test('GIVEN an operation without a quota (or another service) THEN it is never delayed', async () => {
    const clock = new FrozenClock();
    const limiter = new QuotaRateLimiter({ clock });
    await callSequentially(limiter, { ...createKey, operation: 'GetKeyLastUsage' }, 50);
    await callSequentially(limiter, { ...createKey, service: 'sso-admin', operation: 'UpdateInstance' }, 50);
    expect(clock.wakeTimes).toEqual([]);
  });

  test('GIVEN a bucket idle for a long time THEN it holds no more than its burst (no saved-up flood)', async () => {
    const clock = new SteppingClock();
    const limiter = new QuotaRateLimiter({ clock, burst: 2 });
    clock.time = 60_000;
    await callSequentially(limiter, createKey, 4);
    expect(clock.sleeps).toEqual([200, 200]);
  });
});

describe('TokenBucket', () => {
  test('rejects a rate or capacity that could never hand out a token', () => {
    expect(() => new TokenBucket(0, 1, 0)).toThrow(/rate must be > 0/);
    expect(() => new TokenBucket(5, 0, 0)).toThrow(/capacity must be >= 1/);
  });

  test('a clock going backwards does not mint tokens', () => {
    const bucket = new TokenBucket(5, 1, 1000);
    expect(bucket.reserve(1000)).toBe(0);
    expect(bucket.reserve(500)).toBeCloseTo(200, 5);
  });
});
