/**
 * Which AWS a command talks to is said once, before it acts (EMULATOR marked); --json carries it
 * in `context`. Switching Identity Center, rolling back and scheduling a deletion name what will
 * change and ask on a terminal; `--yes` stands in for CI; without either nothing is changed.
 */
import { sharedWorld, worldPerTest, type CliWorld } from './harness';

describe('the AWS context', () => {
  const world = worldPerTest();
  let w: CliWorld;
  beforeEach(() => {
    w = world();
  });

  it('GIVEN the emulator endpoint THEN a command that calls AWS says once, on stderr, EMULATOR, the endpoint, account, Region and caller', async () => {
    const started = await w.rotate('start', 'identity-center', '--kind', 'migrate-to-cmk');
    const lines = started.err.split('\n').filter((l) => l.startsWith('aws: '));
    expect(lines).toEqual([
      `aws: EMULATOR ${w.emulator.endpoint} (from --endpoint) — a local test double, not AWS`,
      'aws: account 111111111111, Region us-east-1',
      'aws: caller arn:aws:sts::111111111111:assumed-role/keyrotor-pipeline/operator',
    ]);
    expect(started.out).not.toContain('aws: ');
  });

  it('GIVEN the endpoint from AWS_ENDPOINT_URL THEN the banner says where it came from; GIVEN --json THEN the context is a field, not a banner', async () => {
    const viaEnv = await w.rotateWith({ noEndpoint: true, env: { AWS_ENDPOINT_URL: w.emulator.endpoint } }, 'start', 'identity-center', '--kind', 'migrate-to-cmk', '--dry-run');
    expect(viaEnv.err).toContain(`aws: EMULATOR ${w.emulator.endpoint} (from AWS_ENDPOINT_URL)`);
    const json = await w.rotate('--json', 'start', 'identity-center', '--kind', 'migrate-to-cmk', '--dry-run');
    expect(json.err).not.toContain('aws: ');
    expect(JSON.parse(json.out).context).toEqual({
      endpoints: {
        kms: { url: w.emulator.endpoint, source: 'option' },
        'sso-admin': { url: w.emulator.endpoint, source: 'option' },
        identitystore: { url: w.emulator.endpoint, source: 'option' },
        sts: { url: w.emulator.endpoint, source: 'option' },
      },
      emulator: true,
      account: '111111111111',
      region: 'us-east-1',
      callerArn: 'arn:aws:sts::111111111111:assumed-role/keyrotor-pipeline/operator',
    });
  });

  it('GIVEN an endpoint that is not an http(s) URL, from --endpoint or an AWS_ENDPOINT_URL variable THEN commands that talk to AWS stop before any call with an operator error (2) naming the setting and the value, not a keyrotor bug (4)', async () => {
    await w.rotate('start', 'identity-center', '--kind', 'migrate-to-cmk');
    const callsBefore = w.emulator.callLog().length;
    const cases: Array<{ args: string[]; env?: NodeJS.ProcessEnv; names: string }> = [
      { args: ['--endpoint', 'not-a-url', 'advance', 'latest', '--yes'], names: '--endpoint "not-a-url"' },
      { args: ['--endpoint', 'ftp://127.0.0.1:4566', 'drift'], names: '--endpoint "ftp://127.0.0.1:4566"' },
      { args: ['--endpoint', '', 'advance', 'latest', '--yes'], names: '--endpoint ""' },
      { args: ['advance', 'latest', '--yes'], env: { AWS_ENDPOINT_URL: 'not-a-url' }, names: 'AWS_ENDPOINT_URL "not-a-url"' },
      // STS would answer at the emulator: the bad KMS variable is still refused before that first call.
      { args: ['drift'], env: { AWS_ENDPOINT_URL: w.emulator.endpoint, AWS_ENDPOINT_URL_KMS: 'ftp://kms.local' }, names: 'AWS_ENDPOINT_URL_KMS "ftp://kms.local"' },
    ];
    for (const { args, env, names } of cases) {
      const result = await w.rotateWith({ noEndpoint: true, ...(env ? { env } : {}) }, ...args);
      expect([args, result.code]).toEqual([args, 2]);
      expect(result.err).toContain(`error: ${names} is not an endpoint URL: it must be an http:// or https:// URL`);
      expect(result.err).toMatch(/^next: .*http:\/\/ or https:\/\/ URL/m);
      expect(result.err).not.toContain('keyrotor bug');
    }
    expect(w.emulator.callLog()).toHaveLength(callsBefore);
  });

  it('GIVEN a command that reads only the state store THEN it prints no AWS context and makes no AWS call', async () => {
    const status = await w.rotate('status');
    expect(status.err).not.toContain('aws: ');
    expect(w.emulator.callLog()).toEqual([]);
  });
});

describe('confirmation before switching Identity Center, rolling back and deleting', () => {
  const world = sharedWorld({}, async (w) => {
    await w.rotate('start', 'identity-center', '--kind', 'migrate-to-cmk');
  });
  let w: CliWorld;
  let runId: string;
  beforeAll(async () => {
    w = world();
    runId = await w.latestId();
  });

  it('GIVEN a terminal and the answer no THEN nothing changes and the exit code is 1; the question named the alias move and the Identity Center switch', async () => {
    const declined = await w.rotateWith({ answers: ['no'] }, '--wide', 'advance', runId);
    expect(declined.code).toBe(1);
    expect(declined.err).toContain(`\`rotate advance ${runId}\` will:`);
    expect(declined.err).toMatch(/- switch Identity Center arn:aws:sso:::instance\/ssoins-\S+ from an AWS owned key to the key this advance creates \(create-key\)/);
    expect(declined.err).toContain('not confirmed; nothing was changed');
    expect(w.prompts).toEqual(['Type yes to continue: ']);
    expect(w.mutatingCalls()).toEqual([]);
  });

  it('GIVEN a stage limit that stops before the switch THEN advance does not ask', async () => {
    const asked = w.prompts.length;
    const limited = await w.rotateWith({ answers: [] }, 'advance', runId, '--stage-limit', '2');
    expect(limited.code).toBe(0);
    expect(w.prompts.length).toBe(asked);
    expect(w.mutatingCalls()).toEqual(['kms:CreateKey', 'kms:EnableKeyRotation']);
  });

  it('GIVEN a terminal and yes THEN it switches, the prompt having named the new key', async () => {
    const confirmed = await w.rotateWith({ answers: ['yes'] }, '--wide', 'advance', runId);
    expect(confirmed.code).toBe(0);
    expect(confirmed.err).toMatch(/- move alias alias\/identity-center from nothing to arn:aws:kms:us-east-1:111111111111:key\/\S+ \(kms:UpdateAlias\)/);
    expect(confirmed.err).toMatch(/- switch Identity Center \S+ from an AWS owned key to arn:aws:kms:\S+/);
    expect(w.mutatingCalls()).toEqual(['kms:CreateKey', 'kms:EnableKeyRotation', 'kms:CreateAlias', 'sso:UpdateInstance']);
  });

  it('GIVEN rollback on a terminal THEN it names each change and asks; declined, nothing changes', async () => {
    await w.rotate('start', 'identity-center', '--signing-key', w.ws.operatorKeyPath);
    const rotation = await w.latestId();
    await w.rotate('advance', rotation, '--yes');
    const before = w.mutatingCalls().length;
    const declined = await w.rotateWith({ answers: [''] }, '--wide', 'rollback', rotation);
    expect(declined.code).toBe(1);
    expect(declined.err).toMatch(/- sso:UpdateInstance arn:aws:sso:::instance\/\S+ \(to arn:aws:kms:\S+\)/);
    expect(declined.err).toMatch(/- kms:UpdateAlias alias\/identity-center \(from arn:aws:kms:\S+, to arn:aws:kms:\S+\)/);
    expect(declined.err).toMatch(/- kms:DisableKey arn:aws:kms:\S+ \(if Enabled\)/);
    expect(w.mutatingCalls().length).toBe(before);
  });

  it('GIVEN no terminal THEN a rollback (reversible) goes ahead saying what it undoes, as a CI dispatch needs; --yes skips even that', async () => {
    const rotation = await w.latestId();
    const rolled = await w.rotate('--wide', 'rollback', rotation);
    expect(rolled.code).toBe(0);
    expect(rolled.err).toContain(`\`rotate rollback ${rotation}\` will:`);
    expect(rolled.err).toContain('(no terminal to confirm on: going ahead; --yes says so explicitly)');
    expect(rolled.out).toContain('status: rolled-back');
    await w.rotate('start', 'identity-center', '--signing-key', w.ws.operatorKeyPath);
    const quiet = await w.rotate('advance', 'latest', '--yes', '--stage-limit', '4');
    expect(quiet.err).not.toContain('will:');
  });

  it('GIVEN delete THEN it names the key and the date it becomes unrecoverable, asks on a terminal, and without one refuses unless --yes', async () => {
    const rotation = await w.latestId();
    await w.rotate('advance', rotation, '--yes');
    for (const approver of w.ws.approvers) await w.rotate('approve', rotation, '--signing-key', approver.privateKeyPath, '--yes');
    await w.rotate('advance', rotation);
    const declined = await w.rotateWith({ answers: ['nope'] }, '--wide', 'delete', rotation);
    expect(declined.code).toBe(1);
    expect(declined.err).toMatch(/- schedule the deletion of arn:aws:kms:\S+ \(key ring identity-center\) with a 30-day window: it becomes unrecoverable on \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ unless cancelled before \(kms:ScheduleKeyDeletion\)/);
    expect(w.mutatingCalls()).not.toContain('kms:ScheduleKeyDeletion');
    const refused = await w.rotate('--wide', 'delete', rotation);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain(`next: run it on a terminal to confirm, or add --yes where no one can answer a prompt (CI): \`rotate delete ${rotation} --yes\``);
    expect(w.mutatingCalls()).not.toContain('kms:ScheduleKeyDeletion');
    expect((await w.rotateWith({ answers: ['yes'] }, 'delete', rotation)).code).toBe(0);
    expect(w.mutatingCalls()).toContain('kms:ScheduleKeyDeletion');
  });
});
