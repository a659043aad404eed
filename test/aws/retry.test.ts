import { CreateKeyCommand, DescribeKeyCommand, ReplicateKeyCommand } from '@aws-sdk/client-kms';
import { UpdateInstanceCommand } from '@aws-sdk/client-sso-admin';
import { AwsCallError } from '../../pipeline/errors';
import { callAws, createAwsClients, FullJitterBackoff, retryClassOf, type RateLimiter, type RateScope } from '../../pipeline/aws';
import { awsJsonError, scriptedHttp, type ScriptedAnswer } from './scripted-http';

/** An SDK-shaped service error as the deserializer builds it. */
function serviceError(name: string, status: number): Error {
  return Object.assign(new Error(`${name} message`), { name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status } });
}

describe('retryClassOf: which errors are retried', () => {
  test.each([
    // KMS throttles with ThrottlingException (KMS Developer Guide, "Throttling AWS KMS requests").
    ['ThrottlingException', 400, 'throttling'],
    // SSO Admin: ConflictException while a change is in progress (UpdateInstance, Errors) — not retried by the SDK by default.
    ['ConflictException', 409, 'conflict'],
    // 5xx: KMSInternalException (500), DependencyTimeoutException (503), InternalServerException (500).
    ['KMSInternalException', 500, 'transient'],
    ['DependencyTimeoutException', 503, 'transient'],
    ['InternalServerException', 500, 'transient'],
    ['ServiceUnavailable', 503, 'transient'],
    // Never: the request, the resource or the permission is wrong; retrying cannot help.
    ['ValidationException', 400, 'never'],
    ['NotFoundException', 400, 'never'],
    ['ResourceNotFoundException', 404, 'never'],
    ['KMSInvalidStateException', 400, 'never'],
    ['DisabledException', 400, 'never'],
    ['AccessDeniedException', 400, 'never'],
    ['AlreadyExistsException', 400, 'never'],
    // KMS LimitExceededException is a resource quota (number of keys), not a request rate; the SDK would retry it.
    ['LimitExceededException', 400, 'never'],
    ['NotImplemented', 501, 'never'],
  ])('%s (HTTP %i) → %s', (name, status, expected) => {
    expect(retryClassOf(serviceError(name, status))).toBe(expected);
  });

  test('a connection refused before any answer is transient; a non-error is never retried', () => {
    expect(retryClassOf(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe('transient');
    expect(retryClassOf('boom')).toBe('never');
    expect(retryClassOf(null)).toBe('never');
  });
});

describe('FullJitterBackoff', () => {
  test('the n-th retry waits in [0, base·2^n), capped', () => {
    const highest = new FullJitterBackoff(100, () => 0.999999, 20_000);
    const lowest = new FullJitterBackoff(100, () => 0, 20_000);
    for (let n = 0; n < 12; n++) {
      const ceiling = Math.min(20_000, 100 * 2 ** n);
      expect(lowest.computeNextBackoffDelay(n)).toBe(0);
      expect(highest.computeNextBackoffDelay(n)).toBeLessThan(ceiling);
      expect(highest.computeNextBackoffDelay(n)).toBeGreaterThanOrEqual(ceiling - 1);
    }
  });

  test('the SDK switches the base for throttling through setDelayBase', () => {
    const backoff = new FullJitterBackoff(100, () => 0.5);
    backoff.setDelayBase(1000);
    expect(backoff.computeNextBackoffDelay(2)).toBe(2000);
  });

  test('with a real random source every delay stays inside the bounds', () => {
    const backoff = new FullJitterBackoff(50);
    for (let i = 0; i < 500; i++) {
      const n = i % 6;
      const delay = backoff.computeNextBackoffDelay(n);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(50 * 2 ** n);
    }
  });
});

/** Counts limiter acquisitions per operation; never waits. */
function countingLimiter(): RateLimiter & { acquired: RateScope[] } {
  const acquired: RateScope[] = [];
  return { acquired, acquire: async (scope) => void acquired.push(scope) };
}

function clientsAnswering(answers: ScriptedAnswer[], maxAttempts = 5) {
  const http = scriptedHttp((_request, index) => answers[Math.min(index, answers.length - 1)]!);
  const limiter = countingLimiter();
  const clients = createAwsClients({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:4599',
    account: '111111111111',
    requestHandler: http.handler,
    rateLimiter: limiter,
    maxAttempts,
    retry: { random: () => 0 }, // zero backoff: the decisions are under test, not the waiting
  });
  return { clients, http, limiter };
}

const ok = (body: Record<string, unknown>): ScriptedAnswer => ({ status: 200, body });
const keyMetadata = { KeyMetadata: { KeyId: 'k-1', Arn: 'arn:aws:kms:us-east-1:111111111111:key/k-1' } };

describe('KeyrotorRetryStrategy through the real KMS/SSO clients', () => {
  test('GIVEN two ConflictExceptions THEN the third attempt succeeds and each attempt took a rate-limit token', async () => {
    const { clients, http, limiter } = clientsAnswering([
      awsJsonError(409, 'ConflictException', 'instance is updating'),
      awsJsonError(409, 'ConflictException', 'instance is updating'),
      ok({}),
    ]);
    const out = await clients.ssoAdmin.send(new UpdateInstanceCommand({ InstanceArn: 'arn:aws:sso:::instance/ssoins-1234567890abcdef' }));
    expect(out.$metadata.attempts).toBe(3);
    expect(http.requests.map((r) => r.target)).toEqual(Array(3).fill('SWBExternalService.UpdateInstance'));
    expect(limiter.acquired.map((s) => `${s.service}:${s.operation}`)).toEqual(Array(3).fill('sso-admin:UpdateInstance'));
  });

  test('GIVEN ReplicateKey, sent to the primary\'s Region THEN it takes its token from CreateKey\'s quota in the replica Region', async () => {
    const { clients, limiter } = clientsAnswering([ok({ ReplicaKeyMetadata: { KeyId: 'mrk-1' } })]);
    await clients.kms.send(new ReplicateKeyCommand({ KeyId: 'mrk-1', ReplicaRegion: 'eu-west-1' }));
    await clients.kms.send(new DescribeKeyCommand({ KeyId: 'mrk-1' }));
    expect(limiter.acquired.map((s) => `${s.region} ${s.operation}`)).toEqual(['eu-west-1 CreateKey', 'us-east-1 DescribeKey']);
  });

  test('GIVEN ThrottlingException then a 503 THEN the call recovers on the third attempt', async () => {
    const { clients } = clientsAnswering([
      awsJsonError(400, 'ThrottlingException', 'Rate exceeded'),
      awsJsonError(503, 'DependencyTimeoutException', 'try later'),
      ok(keyMetadata),
    ]);
    const out = await clients.kms.send(new CreateKeyCommand({}));
    expect(out.KeyMetadata?.KeyId).toBe('k-1');
    expect(out.$metadata.attempts).toBe(3);
  });

  test.each(['NotFoundException', 'KMSInvalidStateException', 'ValidationException', 'LimitExceededException'])(
    'GIVEN %s THEN the call is sent exactly once',
    async (code) => {
      const { clients, http } = clientsAnswering([awsJsonError(400, code, 'no'), ok(keyMetadata)]);
      await expect(clients.kms.send(new DescribeKeyCommand({ KeyId: 'k-1' }))).rejects.toMatchObject({ name: code });
      expect(http.requests).toHaveLength(1);
    },
  );

  test('GIVEN throttling on every attempt THEN it stops after maxAttempts and maps to a retryable AWS fault', async () => {
    const { clients, http } = clientsAnswering([awsJsonError(400, 'ThrottlingException', 'Rate exceeded')], 4);
    const error = await callAws('CreateKey', { service: 'kms', target: 'alias/identity-center', region: 'us-east-1' }, () =>
      clients.kms.send(new CreateKeyCommand({})),
    ).catch((e: unknown) => e);
    expect(http.requests).toHaveLength(4);
    expect(error).toBeInstanceOf(AwsCallError);
    expect(error).toMatchObject({ fault: 'aws', retryable: true, awsCode: 'ThrottlingException', operation: 'CreateKey' });
  });

  test('maxAttempts defaults to 5', async () => {
    const http = scriptedHttp(() => awsJsonError(500, 'KMSInternalException', 'oops'));
    const clients = createAwsClients({ region: 'us-east-1', endpoint: 'http://127.0.0.1:4599', account: '1', requestHandler: http.handler, retry: { random: () => 0 } });
    await expect(clients.kms.send(new DescribeKeyCommand({ KeyId: 'k' }))).rejects.toMatchObject({ name: 'KMSInternalException' });
    expect(http.requests).toHaveLength(5);
  });

  test('an invalid maxAttempts is refused when the clients are created', () => {
    expect(() => createAwsClients({ region: 'us-east-1', maxAttempts: 0 })).toThrow(/maxAttempts must be an integer >= 1, got 0/);
  });
});
