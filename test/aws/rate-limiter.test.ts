import { createAwsClients, QuotaRateLimiter, sharedRateLimiter, type RateScope } from '../../pipeline/aws';
import { statsSince } from '../../pipeline/aws/rate-limiter';
import { TokenBucket } from '../../pipeline/aws/token-bucket';
import { DescribeKeyCommand } from '@aws-sdk/client-kms';
import { scriptedHttp } from './scripted-http';
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

  test('GIVEN GetKeyLastUsage at 5/s (a fleet reads every key ring\'s evidence) THEN 11 calls take 2 s', async () => {
    const clock = new SteppingClock();
    const limiter = new QuotaRateLimiter({ clock });
    await callSequentially(limiter, { ...createKey, operation: 'GetKeyLastUsage' }, 11);
    expect(clock.time).toBeCloseTo(2000, 5);
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
    await callSequentially(limiter, { ...createKey, operation: 'GetKeyPolicy' }, 50);
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

describe('the process\'s shared limiter and its stats', () => {
  test('GIVEN two client sets of one account+Region created without their own limiter WHEN each sends a call THEN both calls count against one bucket of the process\'s shared limiter', async () => {
    const http = scriptedHttp(() => ({ status: 200, body: { KeyMetadata: { KeyId: 'k', Arn: 'arn:aws:kms:us-east-1:111111111111:key/k' } } }));
    const make = () => createAwsClients({ region: 'us-east-1', account: '111111111111', endpoint: 'https://kms.example', env: { AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y' }, requestHandler: http.handler });
    const [a, b] = [make(), make()];
    const before = sharedRateLimiter().stats();
    await a.kms.send(new DescribeKeyCommand({ KeyId: 'k' }));
    await b.kms.send(new DescribeKeyCommand({ KeyId: 'k' }));
    expect(statsSince(before, sharedRateLimiter().stats()).buckets['111111111111|us-east-1|kms|DescribeKey']).toMatchObject({ calls: 2 });
    a.destroy();
    b.destroy();
  });

  test('GIVEN concurrent calls WHEN stats are read THEN they count calls and waits per bucket, the wall time anyone waited, and statsSince gives one command\'s share', async () => {
    const clock = new FrozenClock(0);
    const limiter = new QuotaRateLimiter({ clock });
    await limiter.acquire(createKey);
    const before = limiter.stats();
    await Promise.all([limiter.acquire(createKey), limiter.acquire(createKey), limiter.acquire({ ...createKey, region: 'eu-west-1' })]);
    const since = statsSince(before, limiter.stats());
    expect(since.buckets).toEqual({
      '111111111111|us-east-1|kms|CreateKey': { calls: 2, waited: 2, waitMs: 600 },
      '111111111111|eu-west-1|kms|CreateKey': { calls: 1, waited: 0, waitMs: 0 },
    });
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
