import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError } from '../../pipeline/errors';
import { run } from '../../scripts/cli/commands/synth';
import type { CliContext } from '../../scripts/cli/context';
import { systemCliClock } from '../../scripts/cli/main';

const repoRoot = path.resolve(__dirname, '..', '..');

function context(configFile: string, stateDir: string, out: string[]): CliContext {
  return {
    io: { out: (t) => out.push(t), err: (t) => out.push(t), interactive: false, readLine: async () => undefined },
    global: { config: configFile, json: false, stateDir, wide: false },
    env: {},
    cwd: repoRoot,
    clock: systemCliClock,
    command: 'synth',
    trace: {},
  };
}

describe('rotate synth', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'keyrotor-synth-'));
  const stateDir = path.join(work, 'state');
  fs.mkdirSync(stateDir);
  // Output that holds an Identity Center helper command must stay inside the project (the command
  // reaches dist/ by a relative path); cdktf.out/ is git-ignored.
  fs.mkdirSync(path.join(repoRoot, 'cdktf.out'), { recursive: true });
  const inProject = fs.mkdtempSync(path.join(repoRoot, 'cdktf.out', 'test-synth-command-'));
  afterAll(() => fs.rmSync(inProject, { recursive: true, force: true }));

  test('GIVEN the example keyrings.json and an empty state dir WHEN run THEN it writes one cdk.tf.json per stack, lists them, and names the attached key ring that waits for the pipeline', async () => {
    const out: string[] = [];
    const outdir = path.join(work, 'out');
    const code = await run(context(path.join(repoRoot, 'keyrings.json'), stateDir, out), { out: outdir }, []);
    expect(code).toBe(0);
    const stacks = fs.readdirSync(path.join(outdir, 'stacks')).sort();
    expect(stacks.length).toBeGreaterThanOrEqual(3);
    for (const stack of stacks) {
      expect(stack).toMatch(/^keys-\d{12}-[a-z]{2}-[a-z]+-\d$/);
      expect(out.join('\n')).toContain(stack);
      const json = JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', stack, 'cdk.tf.json'), 'utf8'));
      expect(Object.keys(json.resource.aws_kms_key ?? {}).every((id) => id.endsWith('_key_gen1'))).toBe(true);
      expect(json.terraform.required_version).toBe('>= 1.10.0, < 2.0.0');
      expect(fs.existsSync(path.join(outdir, 'stacks', stack, 'keyrotor-synth.json'))).toBe(true);
    }
    expect(out.join('\n')).toContain('key ring identity-center is attached to Identity Center and has no generation yet');
    expect(out.join('\n')).toContain('rotate start identity-center --kind migrate-to-cmk');
  });

  test('GIVEN a ledger in the state dir WHEN run THEN the stack declares its generations', async () => {
    const ledger = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'ledgers', 'identity-center-three-generations.json'), 'utf8'));
    const dir = path.join(work, 'state-with-ledger');
    fs.mkdirSync(path.join(dir, 'ledgers'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'ledgers', 'identity-center.json'), JSON.stringify(ledger));
    const outdir = path.join(inProject, 'out-ledger');
    await run(context(path.join(repoRoot, 'keyrings.json'), dir, []), { out: outdir }, []);
    const json = JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', 'keys-111111111111-us-east-1', 'cdk.tf.json'), 'utf8'));
    expect(Object.keys(json.resource.aws_kms_key)).toEqual(expect.arrayContaining(['identity_center_key_gen2', 'identity_center_key_gen3']));
    expect(json.removed).toEqual([{ from: 'aws_kms_key.identity_center_key_gen1', lifecycle: { destroy: false } }]);
  });

  test('GIVEN an output directory outside the project and an Identity Center setting to declare WHEN run THEN synth refuses, naming both directories', async () => {
    const dir = path.join(work, 'state-with-ledger');
    const outdir = path.join(work, 'out-outside');
    const attempt = run(context(path.join(repoRoot, 'keyrings.json'), dir, []), { out: outdir }, []);
    await expect(attempt).rejects.toThrow(ConfigError);
    await expect(run(context(path.join(repoRoot, 'keyrings.json'), dir, []), { out: outdir }, [])).rejects.toThrow(`is outside the project ${repoRoot}`);
  });

  test('GIVEN a config error WHEN run THEN synth fails with a ConfigError naming the path and writes nothing', async () => {
    const example = JSON.parse(fs.readFileSync(path.join(repoRoot, 'keyrings.json'), 'utf8'));
    example.keyrings[0].rotation = { ...example.keyrings[0].rotation, deletionWindowDays: 3 };
    const bad = path.join(work, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify(example, null, 2));
    const outdir = path.join(work, 'out-bad');
    const attempt = run(context(bad, stateDir, []), { out: outdir }, []);
    await expect(attempt).rejects.toThrow(ConfigError);
    await expect(run(context(bad, stateDir, []), { out: outdir }, [])).rejects.toThrow(/keyrings\[0\]\.rotation\.deletionWindowDays/);
    expect(fs.existsSync(outdir)).toBe(false);
  });
});
