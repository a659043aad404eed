import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { KeyrotorError } from '../../pipeline/errors';
import type { CliContext } from '../../scripts/cli/context';
import { parsePort, run } from '../../scripts/cli/commands/emulator';
import { systemCliClock } from '../../scripts/cli/main';
import { EmulatorSeedError, parseSeed, parseSeedJson, startEmulator, DEFAULT_SEED } from '../../emulator';

function context(cwd = process.cwd()) {
  const out: string[] = [];
  const err: string[] = [];
  const ctx: CliContext = {
    io: { out: (t) => out.push(t), err: (t) => err.push(t), interactive: false, readLine: async () => undefined },
    global: { config: 'keyrings.json', json: false, wide: false },
    env: {},
    cwd,
    clock: systemCliClock,
    command: 'emulator',
    trace: {},
  };
  return { ctx, out, err };
}

async function until(predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !predicate(); i += 1) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!predicate()) throw new Error('condition not reached');
}

describe('rotate emulator', () => {
  it('GIVEN --port 0 THEN it prints the endpoint and export lines, serves AWS calls, and stops cleanly on SIGTERM', async () => {
    const { ctx, out, err } = context();
    const exit = run(ctx, { port: '0' }, []);
    await until(() => out.length > 0);
    const endpoint = /^emulator listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(out[0]!)![1]!;
    expect(out).toContain(`export AWS_ENDPOINT_URL=${endpoint}`);
    expect(out).toContain('export AWS_REGION=us-east-1');
    expect((await fetch(`${endpoint}/_emulator/health`)).status).toBe(200);
    process.emit('SIGTERM');
    expect(await exit).toBe(0);
    expect(err).toContain('emulator stopped');
    await expect(fetch(`${endpoint}/_emulator/health`)).rejects.toThrow();
  });

  it('GIVEN a seed file THEN its organization is served', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'emu-seed-'));
    const seed = { ...DEFAULT_SEED, instances: [{ ...DEFAULT_SEED.instances[0]!, region: 'eu-central-1' }] };
    writeFileSync(path.join(dir, 'seed.json'), JSON.stringify(seed));
    const { ctx, out } = context(dir);
    const exit = run(ctx, { port: '0', seed: 'seed.json' }, []);
    await until(() => out.length > 0);
    expect(out).toContain('export AWS_REGION=eu-central-1');
    process.emit('SIGINT');
    expect(await exit).toBe(0);
  });

  it('GIVEN a bad port, a missing or invalid seed file, or a port in use THEN an operator error saying what to do', async () => {
    expect(() => parsePort('70000')).toThrow(/--port 70000: must be an integer from 0 to 65535/);
    expect(() => parsePort('abc')).toThrow(KeyrotorError);
    const { ctx } = context(mkdtempSync(path.join(tmpdir(), 'emu-seed-')));
    await expect(run(ctx, { port: '0', seed: 'missing.json' }, [])).rejects.toThrow(/cannot read the seed file \(ENOENT\)/);
    writeFileSync(path.join(ctx.cwd, 'bad.json'), '{"organizationId": 1');
    await expect(run(ctx, { port: '0', seed: 'bad.json' }, [])).rejects.toThrow(EmulatorSeedError);
    const busy = await startEmulator({ quotas: false });
    try {
      const err = await run(ctx, { port: String(busy.port) }, []).catch((e: KeyrotorError) => e);
      expect(err).toBeInstanceOf(KeyrotorError);
      expect((err as KeyrotorError).nextStep).toMatch(/--port 0/);
    } finally {
      await busy.stop();
    }
  });
});

describe('organization seeds', () => {
  it('GIVEN the default seed THEN it validates and holds the ids of keyrings.json', () => {
    expect(parseSeed(DEFAULT_SEED)).toEqual(DEFAULT_SEED);
    expect(DEFAULT_SEED.instances[0]).toMatchObject({ instanceArn: 'arn:aws:sso:::instance/ssoins-7223f2cd9d6a6b51', identityStoreId: 'd-9067c0a1b2' });
  });

  it('GIVEN invalid seeds THEN each error names the path and the rule', () => {
    const cases: [unknown, RegExp][] = [
      [{ ...DEFAULT_SEED, managementAccount: '123' }, /managementAccount: must be a 12-digit AWS account id/],
      [{ ...DEFAULT_SEED, accounts: ['222222222222'] }, /accounts: must include the management account 111111111111/],
      [{ ...DEFAULT_SEED, instances: [{ ...DEFAULT_SEED.instances[0]!, instanceArn: 'arn:aws:sso:::instance/x' }] }, /instances\.0\.instanceArn/],
      [{ ...DEFAULT_SEED, instances: [{ ...DEFAULT_SEED.instances[0]!, account: '333333333333' }] }, /instances\.0\.account: 333333333333 is not in accounts/],
      [{ ...DEFAULT_SEED, extra: true }, /extra/],
      [{ ...DEFAULT_SEED, principals: [{ accessKeyId: 'AKIAEXAMPLE00000001', arn: 'bob' }] }, /principals\.0\.arn/],
      [{ ...DEFAULT_SEED, roles: [{ arn: 'arn:aws:iam::111111111111:user/not-a-role', trustedPrincipals: ['*'] }] }, /roles\.0\.arn: must be an IAM role ARN/],
      [{ ...DEFAULT_SEED, roles: [{ arn: 'arn:aws:iam::333333333333:role/r', trustedPrincipals: ['*'] }] }, /roles\.0\.arn: account 333333333333 is not in accounts/],
      [{ ...DEFAULT_SEED, roles: [{ arn: 'arn:aws:iam::111111111111:role/r', trustedPrincipals: [] }] }, /roles\.0\.trustedPrincipals/],
      [{ ...DEFAULT_SEED, roles: [{ arn: 'arn:aws:iam::111111111111:role/r', trustedPrincipals: ['*'], maxSessionDurationSeconds: 60 }] }, /roles\.0\.maxSessionDurationSeconds/],
      [{ ...DEFAULT_SEED, instances: [{ ...DEFAULT_SEED.instances[0]!, delegatedAdministrators: ['333333333333'] }] }, /instances\.0\.delegatedAdministrators\.0: 333333333333 is not in accounts/],
    ];
    for (const [seed, message] of cases) expect(() => parseSeed(seed, 'seed.json')).toThrow(message);
    expect(() => parseSeedJson('{', 'seed.json')).toThrow(/seed\.json: not valid JSON/);
  });

  it('GIVEN an invalid seed option THEN startEmulator refuses to start', async () => {
    await expect(startEmulator({ seed: { ...DEFAULT_SEED, organizationId: 'org' } })).rejects.toThrow(EmulatorSeedError);
  });
});
