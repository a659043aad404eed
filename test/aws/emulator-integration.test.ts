import { CreateKeyCommand, DescribeKeyCommand, EncryptCommand, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { startEmulator, type Emulator } from '../../emulator';
import { withAttemptGuard } from '../../pipeline/aws/attempt-guard';
import { AwsCallError } from '../../pipeline/errors';
import {
  callAws,
  createAwsClients,
  describeCaller,
  QuotaRateLimiter,
  unlimitedRateLimiter,
  type AwsClients,
  type AwsClientsOptions,
  type RateLimiter,
  type RateScope,
} from '../../pipeline/aws';

// The real SDK clients against the loopback emulator (a test double of KMS, SSO Admin, Identity
// Store and STS). Quotas: KMS Developer Guide, "Request quotas" (CreateKey 5/s per account+Region).

let emulator: Emulator;
const opened: AwsClients[] = [];

beforeEach(async () => {
  emulator = await startEmulator({ port: 0, quotas: true });
});
afterEach(async () => {
  for (const clients of opened.splice(0)) clients.destroy();
  await emulator.stop();
});

function clientsFor(options: Partial<AwsClientsOptions> = {}): AwsClients {
  const clients = createAwsClients({ region: 'us-east-1', endpoint: emulator.endpoint, env: {}, ...options });
  opened.push(clients);
  return clients;
}

function outcomesOf(operation: string): string[] {
  return emulator.callLog().filter((entry) => entry.operation === operation).map((entry) => entry.outcome);
}

const createKeys = (clients: AwsClients, count: number) =>
  Promise.all(Array.from({ length: count }, () => clients.kms.send(new CreateKeyCommand({ Description: 'burst' }))));

describe('rate limiting against the emulator’s KMS quotas', () => {
  test('GIVEN quotas on and the limiter on WHEN 12 CreateKey calls are fired at once THEN the emulator throttles none of them', async () => {
    const clients = clientsFor({ rateLimiter: new QuotaRateLimiter(), account: '111111111111' });
    const created = await createKeys(clients, 12);
    expect(new Set(created.map((out) => out.KeyMetadata?.KeyId)).size).toBe(12);
    expect(outcomesOf('CreateKey')).toEqual(Array(12).fill('ok'));
  });

  test('GIVEN quotas on and the limiter off WHEN the same burst is fired THEN the emulator throttles and the SDK retries recover every call', async () => {
    const clients = clientsFor({ rateLimiter: unlimitedRateLimiter, maxAttempts: 8 });
    const created = await createKeys(clients, 12);
    expect(new Set(created.map((out) => out.KeyMetadata?.KeyId)).size).toBe(12);
    const outcomes = outcomesOf('CreateKey');
    expect(outcomes.filter((o) => o === 'ThrottlingException').length).toBeGreaterThan(0);
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(12);
    expect(created.some((out) => (out.$metadata.attempts ?? 1) > 1)).toBe(true);
  });
});

describe('retries against injected faults', () => {
  test('GIVEN the next 2 CreateKey calls fail with ConflictException THEN the third attempt creates the key', async () => {
    const clients = clientsFor({ account: '111111111111' });
    emulator.failNext('kms:CreateKey', 2, { code: 'ConflictException', message: 'concurrent change', status: 409 });
    const out = await clients.kms.send(new CreateKeyCommand({}));
    expect(out.KeyMetadata?.KeyState).toBe('Enabled');
    expect(out.$metadata.attempts).toBe(3);
    expect(outcomesOf('CreateKey')).toEqual(['ConflictException', 'ConflictException', 'ok']);
  });

  test('GIVEN a request made under an attempt guard WHEN its first attempt is throttled and the guard then refuses THEN the SDK\'s retry is never sent: the guard runs before every attempt', async () => {
    const clients = clientsFor({ account: '111111111111' });
    emulator.failNext('kms:CreateKey', 1, { code: 'ThrottlingException', message: 'slow down', status: 400 });
    let checks = 0;
    const lost = new Error('lost the run between attempts');
    const guard = async (): Promise<void> => {
      checks += 1;
      if (checks > 1) throw lost;
    };
    await expect(withAttemptGuard(guard, () => clients.kms.send(new CreateKeyCommand({})))).rejects.toBe(lost);
    expect(checks).toBe(2);
    expect(outcomesOf('CreateKey')).toEqual(['ThrottlingException']);
    // Outside a guard nothing is checked, and the same fault is retried as before.
    emulator.failNext('kms:CreateKey', 1, { code: 'ThrottlingException', message: 'slow down', status: 400 });
    expect((await clients.kms.send(new CreateKeyCommand({}))).$metadata.attempts).toBe(2);
  });

  test('GIVEN the next 2 DescribeKey calls fail with HTTP 500 THEN the third attempt answers', async () => {
    const clients = clientsFor({ account: '111111111111' });
    const { KeyMetadata } = await clients.kms.send(new CreateKeyCommand({}));
    emulator.failNext('DescribeKey', 2, { code: 'KMSInternalException', message: 'internal', status: 500 });
    const out = await clients.kms.send(new DescribeKeyCommand({ KeyId: KeyMetadata!.Arn }));
    expect(out.KeyMetadata?.Arn).toBe(KeyMetadata!.Arn);
    expect(outcomesOf('DescribeKey')).toEqual(['KMSInternalException', 'KMSInternalException', 'ok']);
  });

  test('GIVEN an injected NotFoundException THEN DescribeKey is sent once and maps to an operator error naming the key', async () => {
    const clients = clientsFor({ account: '111111111111' });
    const { KeyMetadata } = await clients.kms.send(new CreateKeyCommand({}));
    const arn = KeyMetadata!.Arn!;
    emulator.failNext('DescribeKey', 1, { code: 'NotFoundException', message: `Key '${arn}' does not exist` });
    const error = await callAws('DescribeKey', { service: 'kms', target: arn, account: '111111111111', region: 'us-east-1' }, () =>
      clients.kms.send(new DescribeKeyCommand({ KeyId: arn })),
    ).catch((e: unknown) => e);
    expect(outcomesOf('DescribeKey')).toEqual(['NotFoundException']);
    expect(error).toBeInstanceOf(AwsCallError);
    expect(error).toMatchObject({ fault: 'operator', retryable: false, awsCode: 'NotFoundException', operation: 'DescribeKey' });
    expect((error as AwsCallError).message).toMatch(new RegExp(`^DescribeKey: ${arn} does not exist in account 111111111111 Region us-east-1 \\(NotFoundException: Key '${arn}' does not exist\\) \\[AWS request id [0-9a-f-]+\\]$`));
    expect((error as AwsCallError).nextStep).toBe('check the ledger (`rotate status`) and the alias in the config: the key ARN or alias may be wrong or the key deleted');
  });

  test('GIVEN a key pending deletion THEN Encrypt fails once with KMSInvalidStateException, mapped to `rotate cancel-deletion`', async () => {
    const clients = clientsFor({ account: '111111111111' });
    const { KeyMetadata } = await clients.kms.send(new CreateKeyCommand({}));
    const arn = KeyMetadata!.Arn!;
    await clients.kms.send(new ScheduleKeyDeletionCommand({ KeyId: arn, PendingWindowInDays: 7 }));
    const error = await callAws('Encrypt', { service: 'kms', target: arn, account: '111111111111', region: 'us-east-1' }, () =>
      clients.kms.send(new EncryptCommand({ KeyId: arn, Plaintext: new TextEncoder().encode('x') })),
    ).catch((e: unknown) => e);
    expect(outcomesOf('Encrypt')).toEqual(['KMSInvalidStateException']);
    expect((error as AwsCallError).message).toContain(`Encrypt: ${arn} in account 111111111111 Region us-east-1 is pending deletion (KMSInvalidStateException: ${arn} is pending deletion.)`);
    expect((error as AwsCallError).nextStep).toContain('`rotate cancel-deletion`');
  });

  test('GIVEN ThrottlingException on every attempt THEN the call gives up after maxAttempts with a retryable AWS error', async () => {
    const clients = clientsFor({ account: '111111111111', maxAttempts: 3 });
    emulator.failNext('CreateKey', 10, { code: 'ThrottlingException', message: 'Rate exceeded' });
    const error = await callAws('CreateKey', { service: 'kms', target: 'alias/identity-center', region: 'us-east-1' }, () =>
      clients.kms.send(new CreateKeyCommand({})),
    ).catch((e: unknown) => e);
    expect(outcomesOf('CreateKey')).toEqual(Array(3).fill('ThrottlingException'));
    expect(error).toMatchObject({ fault: 'aws', retryable: true, awsCode: 'ThrottlingException' });
    expect((error as AwsCallError).nextStep).toContain('run the same command again');
  });
});

describe('caller identity and the limiter’s account', () => {
  test('describeCaller answers the default operator, and a registered principal for its own keys', async () => {
    expect(await describeCaller(clientsFor())).toEqual({
      account: '111111111111',
      arn: 'arn:aws:iam::111111111111:user/operator',
      userId: expect.any(String),
    });
    emulator.addPrincipal('AKIAAPPROVERBOB00000', 'arn:aws:iam::222222222222:user/bob');
    const bob = clientsFor({ credentials: { accessKeyId: 'AKIAAPPROVERBOB00000', secretAccessKey: 'x' } });
    expect(await describeCaller(bob)).toMatchObject({ account: '222222222222', arn: 'arn:aws:iam::222222222222:user/bob' });
  });

  test('GIVEN no account option THEN the limiter keys by the STS account, resolved once for all calls', async () => {
    const scopes: RateScope[] = [];
    const recording: RateLimiter = { acquire: async (scope) => void scopes.push(scope) };
    const clients = clientsFor({ rateLimiter: recording });
    await createKeys(clients, 3);
    expect(await clients.account()).toBe('111111111111');
    expect(scopes.map((s) => `${s.account}/${s.region}/${s.service}:${s.operation}`)).toEqual(Array(3).fill('111111111111/us-east-1/kms:CreateKey'));
    expect(outcomesOf('GetCallerIdentity')).toEqual(['ok']);
  });

  test('GIVEN STS fails THEN calls still go out, limited under a shared stand-in account, and account() asks STS again later', async () => {
    const scopes: RateScope[] = [];
    const recording: RateLimiter = { acquire: async (scope) => void scopes.push(scope) };
    const clients = clientsFor({ rateLimiter: recording, maxAttempts: 1 });
    emulator.failNext('GetCallerIdentity', 1, { code: 'AccessDenied', message: 'no' });
    await clients.kms.send(new CreateKeyCommand({}));
    expect(scopes[0]?.account).toBe('unresolved-account');
    await expect(clients.account()).resolves.toBe('111111111111'); // a failure is not cached for callers
  });
});
