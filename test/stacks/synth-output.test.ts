/**
 * What `rotate synth` writes is portable (no path of the synth machine, byte-identical wherever it
 * runs), pins the Terraform/OpenTofu versions it needs, keeps imported keys free of diffs, and
 * carries the synth manifest the GitOps checks read.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { digestOf } from '../../pipeline/canonical-json';
import { readSynthManifest, readSynthManifests } from '../../pipeline/gitops/synth-manifest';
import type { Ledger } from '../../pipeline/ledger/types';
import { synthesizeStacks } from '../../stacks/synthesize';
import { buildBootstrapApp } from '../../stacks/app';
import { config, IDENTITY_CENTER, keyring, ledgerFixture } from './helpers';

const repoRoot = path.resolve(__dirname, '..', '..');
const ic = keyring({ name: 'identity-center', identityCenter: IDENTITY_CENTER, keyUsers: [], approvals: { quorum: 2, allowedSignersFile: path.join(repoRoot, 'approvers', 'allowed_signers'), lifetimeHours: 72 } });
const audit = keyring({ name: 'org-audit-logs', region: 'eu-west-1' });
const STACK = 'keys-111111111111-us-east-1';

/** A file state store holding `ledgers`, then synth into a fresh directory under <repo>/cdktf.out. */
async function synthInProject(ledgers: readonly Ledger[], cfg = config([ic, audit])): Promise<string> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyrotor-synth-state-'));
  fs.mkdirSync(path.join(stateDir, 'ledgers'));
  for (const ledger of ledgers) fs.writeFileSync(path.join(stateDir, 'ledgers', `${ledger.keyring}.json`), JSON.stringify(ledger));
  fs.mkdirSync(path.join(repoRoot, 'cdktf.out'), { recursive: true });
  const outdir = fs.mkdtempSync(path.join(repoRoot, 'cdktf.out', 'test-synth-output-'));
  created.push(outdir, stateDir);
  await synthesizeStacks(cfg, { outdir, stateDirOverride: stateDir });
  return outdir;
}

const created: string[] = [];
afterAll(() => {
  for (const dir of created) fs.rmSync(dir, { recursive: true, force: true });
});

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

function stackJson(outdir: string, stack = STACK): any {
  return JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', stack, 'cdk.tf.json'), 'utf8'));
}

describe('synth output is portable', () => {
  const ledger = ledgerFixture('identity-center-three-generations');

  test('GIVEN a ledger with an Identity Center target WHEN synthesized THEN no stack file holds a path of the synth machine', async () => {
    const outdir = await synthInProject([ledger]);
    const machinePaths = [repoRoot, outdir, os.tmpdir(), os.homedir()];
    for (const file of filesUnder(path.join(outdir, 'stacks'))) {
      const text = fs.readFileSync(file, 'utf8');
      for (const p of machinePaths) expect({ file: path.relative(outdir, file), holds: text.includes(p) ? p : undefined }).toEqual({ file: path.relative(outdir, file), holds: undefined });
    }
  });

  test('WHEN synthesized twice into different directories THEN every stack file is byte-identical', async () => {
    const a = await synthInProject([ledger]);
    const b = await synthInProject([ledger]);
    const stacks = fs.readdirSync(path.join(a, 'stacks')).sort();
    expect(fs.readdirSync(path.join(b, 'stacks')).sort()).toEqual(stacks);
    for (const stack of stacks) {
      for (const name of ['cdk.tf.json', 'keyrotor-synth.json']) {
        expect(fs.readFileSync(path.join(b, 'stacks', stack, name), 'utf8')).toBe(fs.readFileSync(path.join(a, 'stacks', stack, name), 'utf8'));
      }
    }
  });

  test('THEN the Identity Center helper is reached by a path relative to the stack directory that lands on the built helper', async () => {
    const outdir = await synthInProject([ledger]);
    const command: string = stackJson(outdir).resource.terraform_data.identity_center_identity_center_encryption.provisioner[0]['local-exec'].command;
    const match = /^node '\$\{path\.module\}\/((?:\.\.\/)+)dist\/scripts\/identity-center-helper\.js' /.exec(command);
    expect(match).not.toBeNull();
    // Terraform runs the provisioner in the root module's directory, where ${path.module} is ".".
    const resolved = path.resolve(path.join(outdir, 'stacks', STACK), match![1]!, 'dist', 'scripts', 'identity-center-helper.js');
    expect(resolved).toBe(path.join(repoRoot, 'dist', 'scripts', 'identity-center-helper.js'));
  });
});

describe('every stack pins the Terraform / OpenTofu version it needs', () => {
  test('GIVEN key stacks and the team-mode pipeline stack THEN each has required_version >= 1.10 (removed-block lifecycle in OpenTofu, use_lockfile in both)', async () => {
    const cfg = config([ic, audit], {
      pipeline: { account: '111111111111', region: 'us-east-1', roleName: 'keyrotor-pipeline', github: { repository: 'example/keys', environments: ['rotation'] } },
    });
    const outdir = await synthInProject([], cfg);
    // The pipeline stack is written by `rotate bootstrap` (buildBootstrapApp), into the same outdir.
    buildBootstrapApp(cfg, { outdir }).synth();
    const stacks = fs.readdirSync(path.join(outdir, 'stacks'));
    expect(stacks).toContain('keyrotor-pipeline-111111111111-us-east-1');
    for (const stack of stacks) expect(stackJson(outdir, stack).terraform.required_version).toBe('>= 1.10.0, < 2.0.0');
  });
});

describe('an imported generation plans no in-place update of the arguments the provider never reads back', () => {
  test('THEN every key ignores deletion_window_in_days and bypass_policy_lockout_safety_check (and the run tag)', async () => {
    const outdir = await synthInProject([ledgerFixture('identity-center-three-generations')]);
    const keys = Object.values<any>(stackJson(outdir).resource.aws_kms_key);
    expect(keys.length).toBeGreaterThan(1);
    for (const key of keys) {
      expect(key.lifecycle.ignore_changes).toEqual(expect.arrayContaining(['deletion_window_in_days', 'bypass_policy_lockout_safety_check', 'tags["keyrotor:run-id"]']));
    }
  });
});

describe('the synth manifest', () => {
  test('GIVEN the three-generation ledger THEN it names every generation\'s address, how the stack declares it, the alias, and the recorded Identity Center target', async () => {
    const ledger = ledgerFixture('identity-center-three-generations');
    const outdir = await synthInProject([ledger]);
    const manifest = readSynthManifest(path.join(outdir, 'stacks', STACK, 'keyrotor-synth.json'));
    expect(manifest).toMatchObject({ stack: STACK, account: '111111111111', region: 'us-east-1' });
    expect(manifest.keyrings).toEqual([
      {
        name: 'identity-center',
        alias: 'alias/identity-center',
        ledger: { version: 7, digest: digestOf(ledger) },
        greenfield: false,
        awaitingPipeline: false,
        greenfieldAddress: null,
        generations: [
          { generation: 1, state: 'pending-deletion', keyArn: ledger.generations[0]!.keyArn, address: 'aws_kms_key.identity_center_key_gen1', declaredAs: 'removed' },
          { generation: 2, state: 'retiring', keyArn: ledger.generations[1]!.keyArn, address: 'aws_kms_key.identity_center_key_gen2', declaredAs: 'key' },
          { generation: 3, state: 'active', keyArn: ledger.generations[2]!.keyArn, address: 'aws_kms_key.identity_center_key_gen3', declaredAs: 'key' },
        ],
        aliasAddress: 'aws_kms_alias.identity_center_alias',
        aliasDeclared: true,
        // A single-Region key ring: no replicas, no alias in other Regions.
        replicas: [],
        regionalAliases: [],
        identityCenter: { address: 'terraform_data.identity_center_identity_center_encryption', instanceArn: IDENTITY_CENTER.instanceArn, target: ledger.identityCenter },
      },
    ]);
  });

  test('GIVEN no ledgers THEN the attached key ring awaits the pipeline and the other is greenfield', async () => {
    const outdir = await synthInProject([]);
    const manifests = readSynthManifests(outdir);
    const byName = Object.fromEntries(manifests.flatMap((m) => m.keyrings).map((k) => [k.name, k]));
    expect(byName['identity-center']).toMatchObject({
      ledger: null,
      greenfield: false,
      awaitingPipeline: true,
      greenfieldAddress: null,
      aliasDeclared: false,
      identityCenter: { address: 'terraform_data.identity_center_identity_center_encryption', instanceArn: IDENTITY_CENTER.instanceArn, target: null },
    });
    expect(byName['org-audit-logs']).toMatchObject({
      ledger: null,
      greenfield: true,
      awaitingPipeline: false,
      greenfieldAddress: 'aws_kms_key.org_audit_logs_key_gen1',
      aliasAddress: 'aws_kms_alias.org_audit_logs_alias',
      aliasDeclared: true,
      identityCenter: null,
    });
  });

  test('GIVEN a stack directory THEN readSynthManifests reads just that one; GIVEN a directory with none THEN it says what it expected', async () => {
    const outdir = await synthInProject([]);
    expect(readSynthManifests(path.join(outdir, 'stacks', STACK)).map((m) => m.stack)).toEqual([STACK]);
    expect(() => readSynthManifests(os.tmpdir())).toThrow(/holds no keyrotor-synth\.json/);
  });

  test('GIVEN a manifest of another shape THEN reading it fails naming the file and the field', async () => {
    const outdir = await synthInProject([]);
    const file = path.join(outdir, 'stacks', STACK, 'keyrotor-synth.json');
    fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), version: 2 }));
    expect(() => readSynthManifest(file)).toThrow(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: is not a keyrotor synth manifest: version`));
  });
});

describe('the helper path outside the project', () => {
  test('GIVEN a stack directory outside the project THEN the construct falls back to the absolute path (in-memory use only), and synthesizeStacks refuses to write such output', async () => {
    const { portableHelperCommand } = await import('../../stacks/identity-center-encryption');
    expect(portableHelperCommand('/elsewhere/cdktf.out/stacks/x', repoRoot)).toEqual(['node', path.join(repoRoot, 'dist', 'scripts', 'identity-center-helper.js')]);
    expect(portableHelperCommand(path.join(repoRoot, 'cdktf.out', 'stacks', 'x'), repoRoot)).toEqual(['node', '${path.module}/../../../dist/scripts/identity-center-helper.js']);
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'keyrotor-outside-'));
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyrotor-synth-state-'));
    fs.mkdirSync(path.join(stateDir, 'ledgers'));
    fs.writeFileSync(path.join(stateDir, 'ledgers', 'identity-center.json'), JSON.stringify(ledgerFixture('identity-center-three-generations')));
    await expect(synthesizeStacks(config([ic]), { outdir: outside, stateDirOverride: stateDir })).rejects.toThrow(/is outside the project/);
    expect(fs.existsSync(path.join(outside, 'stacks', STACK, 'cdk.tf.json'))).toBe(false);
  });
});
