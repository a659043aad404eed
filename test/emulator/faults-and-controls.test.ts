import { CreateKeyCommand, DescribeKeyCommand, GetKeyLastUsageCommand, KMSClient, ListKeysCommand, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { AssumeRoleCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { startEmulator, type Emulator } from '../../emulator';
import { MANAGEMENT, MEMBER, REGION, clientsFor, rejectionOf, useEmulator } from './harness';

const ctx = useEmulator();
beforeEach(() => {
  ctx.emu.clearFaults();
  ctx.emu.clearCallLog();
});

describe('STS GetCallerIdentity (query protocol)', () => {
  it('GIVEN an unregistered access key THEN the caller is the management account operator', async () => {
    const who = await ctx.aws.sts.send(new GetCallerIdentityCommand({}));
    expect(who).toMatchObject({ Account: MANAGEMENT, Arn: `arn:aws:iam::${MANAGEMENT}:user/operator` });
    expect(who.UserId).toMatch(/^AIDA[0-9A-F]{17}$/);
  });

  it('GIVEN registered principals THEN each access key acts as its principal and account', async () => {
    ctx.emu.addPrincipal('AKIAAPPROVER0000001', `arn:aws:sts::${MEMBER}:assumed-role/Approver/jane`);
    const who = await clientsFor(ctx.emu, { accessKeyId: 'AKIAAPPROVER0000001' }).sts.send(new GetCallerIdentityCommand({}));
    expect(who).toMatchObject({ Account: MEMBER, Arn: `arn:aws:sts::${MEMBER}:assumed-role/Approver/jane` });
    expect(who.UserId).toMatch(/^AROA[0-9A-F]{17}:jane$/);
    expect(() => ctx.emu.addPrincipal('AKIABAD000000000001', 'not-an-arn')).toThrow(/principal ARN/);
  });

  it('GIVEN an injected STS fault THEN the SDK parses the XML error code', async () => {
    ctx.emu.failNext('sts:GetCallerIdentity', 1, { code: 'ExpiredToken', message: 'token expired' });
    const err = await rejectionOf(ctx.aws.sts.send(new GetCallerIdentityCommand({})));
    expect(err.name).toBe('ExpiredToken');
    expect(err.message).toBe('token expired');
  });
});

describe('faults, latency and the call log', () => {
  it('GIVEN failNext(op, 2, code) THEN exactly the next two calls fail with that code and status, then calls succeed', async () => {
    ctx.emu.failNext('CreateKey', 2, { code: 'ConflictException' });
    for (let i = 0; i < 2; i += 1) {
      const err = await rejectionOf(ctx.aws.kms.send(new CreateKeyCommand({})));
      expect(err.name).toBe('ConflictException');
      expect(err.$metadata?.httpStatusCode).toBe(400);
    }
    await ctx.aws.kms.send(new CreateKeyCommand({}));
    expect(ctx.emu.callLog().map((c) => c.outcome)).toEqual(['ConflictException', 'ConflictException', 'ok']);
  });

  it('GIVEN a 5xx fault THEN the SDK sees a server error; with retries it recovers on the next attempt', async () => {
    ctx.emu.failNext('kms:DescribeKey', 1, { code: 'KMSInternalException', status: 500 });
    const err = await rejectionOf(ctx.aws.kms.send(new DescribeKeyCommand({ KeyId: 'alias/none' })));
    expect(err.name).toBe('KMSInternalException');
    expect(err.$metadata?.httpStatusCode).toBe(500);

    const key = (await ctx.aws.kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    ctx.emu.failNext('DescribeKey', 1, { code: 'InternalFailure', status: 503 });
    const retrying = new KMSClient({ endpoint: ctx.emu.endpoint, region: REGION, credentials: { accessKeyId: 'AKIAX', secretAccessKey: 's' }, maxAttempts: 2 });
    expect((await retrying.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!.KeyId).toBe(key.KeyId);
  });

  it('GIVEN latency on one operation THEN a concurrent fast call finishes first', async () => {
    ctx.emu.setLatency('DescribeKey', 300);
    const order: string[] = [];
    await Promise.all([
      rejectionOf(ctx.aws.kms.send(new DescribeKeyCommand({ KeyId: 'alias/none' }))).then(() => order.push('slow')),
      ctx.aws.kms.send(new ListKeysCommand({})).then(() => order.push('fast')),
    ]);
    expect(order).toEqual(['fast', 'slow']);
  });

  it('GIVEN clearFaults THEN queued faults no longer fire', async () => {
    ctx.emu.failNext('ListKeys', 5, { code: 'ThrottlingException' });
    ctx.emu.clearFaults();
    await ctx.aws.kms.send(new ListKeysCommand({}));
  });

  it('GIVEN calls THEN the log has service, operation, account, Region, mutating flag, outcome and target', async () => {
    const key = (await ctx.aws.kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    await ctx.aws.kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.Arn }));
    await rejectionOf(ctx.aws.kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.Arn })));
    await ctx.aws.kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }));
    const log = ctx.emu.callLog();
    expect(log.map(({ operation, mutating, outcome, target, service, account, region }) => ({ operation, mutating, outcome, target, service, account, region }))).toEqual([
      { service: 'kms', account: MANAGEMENT, region: REGION, operation: 'CreateKey', mutating: true, outcome: 'ok', target: key.Arn },
      { service: 'kms', account: MANAGEMENT, region: REGION, operation: 'ScheduleKeyDeletion', mutating: true, outcome: 'ok', target: key.Arn },
      { service: 'kms', account: MANAGEMENT, region: REGION, operation: 'ScheduleKeyDeletion', mutating: true, outcome: 'KMSInvalidStateException', target: key.Arn },
      { service: 'kms', account: MANAGEMENT, region: REGION, operation: 'DescribeKey', mutating: false, outcome: 'ok', target: key.KeyId },
    ]);
    expect(log.map((c) => c.seq)).toEqual([...log.map((c) => c.seq)].sort((a, b) => a - b));
    expect(() => ctx.emu.failNext('CreateKey', 0, { code: 'X' })).toThrow(RangeError);
  });
});

describe('quotas', () => {
  let emu: Emulator;
  afterEach(async () => emu?.stop());

  it('GIVEN the real CreateKey quota (5/s) WHEN 12 CreateKeys arrive at once THEN some are ThrottlingException and at most the burst succeeds', async () => {
    emu = await startEmulator();
    const { kms } = clientsFor(emu);
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => kms.send(new CreateKeyCommand({}))));
    const throttled = results.filter((r) => r.status === 'rejected' && (r.reason as Error).name === 'ThrottlingException');
    expect(throttled.length).toBeGreaterThan(0);
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeLessThan(12);
    expect(emu.callLog().filter((c) => c.outcome === 'ThrottlingException').length).toBe(throttled.length);
  });

  it('GIVEN the real GetKeyLastUsage quota (5/s) WHEN 8 arrive at once THEN the ones past the burst are ThrottlingException', async () => {
    emu = await startEmulator();
    const { kms } = clientsFor(emu);
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => kms.send(new GetKeyLastUsageCommand({ KeyId: key }))));
    expect(results.filter((r) => r.status === 'rejected' && (r.reason as Error).name === 'ThrottlingException').length).toBeGreaterThan(0);
  });

  it('GIVEN a custom quota of 1/s THEN the second call in a row is throttled, per account and Region', async () => {
    emu = await startEmulator({ quotas: { 'kms:ListKeys': 1 } });
    const { kms } = clientsFor(emu);
    await kms.send(new ListKeysCommand({}));
    expect((await rejectionOf(kms.send(new ListKeysCommand({})))).name).toBe('ThrottlingException');
    // Another Region has its own bucket.
    await clientsFor(emu, { region: 'eu-west-1' }).kms.send(new ListKeysCommand({}));
  });

  it('GIVEN quotas: false THEN nothing is throttled', async () => {
    emu = await startEmulator({ quotas: false });
    const { kms } = clientsFor(emu);
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => kms.send(new CreateKeyCommand({}))));
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
  });
});

describe('control endpoint (for child processes)', () => {
  const control = (path: string, init?: { method?: string; body?: unknown }) =>
    fetch(`${ctx.emu.endpoint}/_emulator/${path}`, {
      method: init?.method ?? 'GET',
      body: init?.body === undefined ? undefined : JSON.stringify(init.body),
      headers: { 'content-type': 'application/json' },
    });

  it('GIVEN POST faults THEN the next call fails; POST reset-faults clears them', async () => {
    expect((await control('faults', { method: 'POST', body: { operation: 'kms:ListKeys', count: 1, code: 'ServiceUnavailable', status: 503 } })).status).toBe(204);
    expect((await rejectionOf(ctx.aws.kms.send(new ListKeysCommand({})))).$metadata?.httpStatusCode).toBe(503);
    await control('faults', { method: 'POST', body: { operation: 'ListKeys', count: 3, code: 'ThrottlingException' } });
    expect((await control('reset-faults', { method: 'POST' })).status).toBe(204);
    await ctx.aws.kms.send(new ListKeysCommand({}));
  });

  it('GIVEN POST principals and GET calls THEN a child process can act as someone else and read the log', async () => {
    await control('principals', { method: 'POST', body: { accessKeyId: 'AKIACHILD0000000001', arn: `arn:aws:iam::${MEMBER}:user/child` } });
    const who = await clientsFor(ctx.emu, { accessKeyId: 'AKIACHILD0000000001' }).sts.send(new GetCallerIdentityCommand({}));
    expect(who.Account).toBe(MEMBER);
    await ctx.aws.kms.send(new CreateKeyCommand({}));
    const calls = (await (await control('calls?mutating=true')).json()) as { operation: string }[];
    expect(calls.map((c) => c.operation)).toEqual(['CreateKey']);
    expect((await control('calls', { method: 'DELETE' })).status).toBe(204);
    expect(ctx.emu.callLog()).toEqual([]);
  });

  it('GIVEN GET keys and keys/<arn> THEN key ARNs and a key state are readable', async () => {
    const key = (await ctx.aws.kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    expect(await (await control(`keys?account=${MANAGEMENT}&region=${REGION}`)).json()).toContain(key.Arn);
    expect(await (await control(`keys/${encodeURIComponent(key.Arn!)}`)).json()).toMatchObject({ keyArn: key.Arn, keyState: 'Enabled' });
    expect((await control('keys/nope')).status).toBe(404);
  });

  it('GIVEN POST clock THEN the emulator clock moves forward (a deletion waiting period passes) and GET clock reads it; bad input is 400', async () => {
    const key = (await ctx.aws.kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const { DeletionDate } = await ctx.aws.kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
    const before = ((await (await control('clock')).json()) as { now: string }).now;
    const moved = (await (await control('clock', { method: 'POST', body: { advanceDays: 7 } })).json()) as { now: string };
    expect(new Date(moved.now).getTime() - new Date(before).getTime()).toBeGreaterThanOrEqual(7 * 86_400_000);
    expect(new Date(moved.now) >= DeletionDate!).toBe(true);
    expect((await rejectionOf(ctx.aws.kms.send(new DescribeKeyCommand({ KeyId: key.KeyId })))).name).toBe('NotFoundException');
    expect((await control('clock', { method: 'POST', body: { advanceMs: 1, advanceDays: 1 } })).status).toBe(400);
    expect((await control('clock', { method: 'POST', body: { advanceMs: -5 } })).status).toBe(400);
  });

  it('GIVEN POST roles THEN a child process can let a principal assume a role; bad input is 400', async () => {
    const role = `arn:aws:iam::${MEMBER}:role/from-control`;
    expect((await control('roles', { method: 'POST', body: { arn: role, trustedPrincipals: [MANAGEMENT] } })).status).toBe(204);
    const out = await ctx.aws.sts.send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'child' }));
    expect(out.AssumedRoleUser!.Arn).toBe(`arn:aws:sts::${MEMBER}:assumed-role/from-control/child`);
    expect((await control('roles', { method: 'POST', body: { arn: role, trustedPrincipals: [] } })).status).toBe(400);
    expect((await control('roles', { method: 'POST', body: { arn: 'arn:aws:iam::1:role/x', trustedPrincipals: ['*'] } })).status).toBe(400);
  });

  it('GIVEN calls in two Regions and accounts THEN every call log entry has its Region, account and caller, and GET calls filters by them', async () => {
    ctx.emu.addPrincipal('AKIAMEMBERLOG000001', `arn:aws:iam::${MEMBER}:user/logger`);
    await ctx.aws.kms.send(new ListKeysCommand({}));
    await clientsFor(ctx.emu, { region: 'eu-west-1' }).kms.send(new ListKeysCommand({}));
    await clientsFor(ctx.emu, { region: 'eu-west-1', accessKeyId: 'AKIAMEMBERLOG000001' }).kms.send(new CreateKeyCommand({}));
    expect(ctx.emu.callLog().map((c) => [c.operation, c.region, c.account, c.caller])).toEqual([
      ['ListKeys', REGION, MANAGEMENT, `arn:aws:iam::${MANAGEMENT}:user/operator`],
      ['ListKeys', 'eu-west-1', MANAGEMENT, `arn:aws:iam::${MANAGEMENT}:user/operator`],
      ['CreateKey', 'eu-west-1', MEMBER, `arn:aws:iam::${MEMBER}:user/logger`],
    ]);
    const inEu = (await (await control('calls?region=eu-west-1')).json()) as { operation: string }[];
    expect(inEu.map((c) => c.operation)).toEqual(['ListKeys', 'CreateKey']);
    const memberMutations = (await (await control(`calls?account=${MEMBER}&mutating=true&service=kms`)).json()) as { operation: string }[];
    expect(memberMutations.map((c) => c.operation)).toEqual(['CreateKey']);
    expect(await (await control('calls?operation=DescribeKey')).json()).toEqual([]);
  });

  it('GIVEN bad control input or an unknown route THEN 400 / 404 with a message', async () => {
    const bad = await control('faults', { method: 'POST', body: { operation: 'ListKeys' } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/"code"/);
    expect((await control('latency', { method: 'POST', body: { operation: 'ListKeys', ms: -1 } })).status).toBe(400);
    expect((await control('nothing-here')).status).toBe(404);
  });

  it('GIVEN POST latency on one operation THEN a concurrent call of another operation finishes first', async () => {
    expect((await control('latency', { method: 'POST', body: { operation: 'kms:DescribeKey', ms: 250 } })).status).toBe(204);
    const order: string[] = [];
    await Promise.all([
      rejectionOf(ctx.aws.kms.send(new DescribeKeyCommand({ KeyId: 'alias/none' }))).then(() => order.push('slow')),
      ctx.aws.kms.send(new ListKeysCommand({})).then(() => order.push('fast')),
    ]);
    expect(order).toEqual(['fast', 'slow']);
  });
});
