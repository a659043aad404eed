/**
 * deploy.yml run the way the runner runs it (test/gitops/workflow-runner): every `run:` block
 * through `bash -eo pipefail` with a clean PATH, the real `rotate` against the emulator, and stubs
 * for terraform and npm that refuse bad flags and record their arguments.
 */
import { actAsPipelineRole } from '../../scripts/demo/workspace';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DisableKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { startEmulator, type Emulator } from '../../emulator';
import { runWorkflow, type RunWorkflowOptions, type WorkflowRun } from './workflow-runner/runner';
import { assertDistFresh, cli, copyRepo, migratedRepo, runIdIn } from './workflow-runner/repo-fixture';

const STACK = 'keys-111111111111-us-east-1';
let emulator: Emulator;
let repo: string;

beforeAll(async () => {
  assertDistFresh();
  emulator = await startEmulator({ port: 0, updateDelayMs: 20, quotas: false });
  actAsPipelineRole(emulator, 'AKIAWORKFLOWTEST'); // CI acts as the key ring's pipeline role
  repo = await migratedRepo(emulator);
});
afterAll(async () => emulator?.stop());

function deploy(overrides: Partial<RunWorkflowOptions> = {}): Promise<WorkflowRun> {
  return runWorkflow({
    workflow: 'deploy.yml',
    event: 'push',
    repo,
    vars: { AWS_REGION: 'us-east-1', AWS_PLAN_ROLE_ARN: 'arn:aws:iam::111111111111:role/plan', AWS_APPLY_ROLE_ARN: 'arn:aws:iam::111111111111:role/apply' },
    aws: { AWS_ACCESS_KEY_ID: 'AKIAWORKFLOWTEST', AWS_SECRET_ACCESS_KEY: 'x', AWS_ENDPOINT_URL: emulator.endpoint },
    ...overrides,
  });
}

const terraformArgs = (run: WorkflowRun) => run.calls.filter((c) => c.tool === 'terraform').map((c) => c.args.join(' '));
const failures = (run: WorkflowRun) => run.jobs.flatMap((j) => j.steps.filter((s) => s.outcome === 'failure').map((s) => `${j.id}/${s.name}: ${s.stderr}${s.stdout}`));

describe('deploy.yml on a merge to main, AWS as the ledger says', () => {
  let run: WorkflowRun;
  beforeAll(async () => {
    run = await deploy({ stubEnv: { STUB_SHOW_BYTES: '300000' } });
  }, 120_000);

  test('THEN every job succeeds', () => {
    expect(failures(run)).toEqual([]);
    expect(run.jobs.map((j) => [j.id, j.result])).toEqual([
      ['synth', 'success'],
      ['plan', 'success'],
      ['apply', 'success'],
    ]);
  });

  test('THEN rotate is found on the clean PATH in every job (bin/rotate, put there by the workflow)', () => {
    expect(run.step('synth', 'rotate lint').outcome).toBe('success');
    expect(run.step('synth', 'rotate synth').stdout).toContain(`synthesized 1 stack(s)`);
    expect(run.job('synth').outputs.stacks).toBe(JSON.stringify([STACK]));
  });

  test('THEN the drift gate runs before the plan and again before the apply, against the latest main', () => {
    expect(run.step('plan', 'Ledger is the latest and AWS matches it').stdout).toContain('identity-center (111111111111/us-east-1, ledger v');
    expect(run.step('apply', 'Ledger is still the latest and AWS still matches it').outcome).toBe('success');
  });

  test('THEN terraform runs init, plan, show (for the guard and the summary), then init with the plan\'s lock file and apply of the saved plan', () => {
    expect(terraformArgs(run)).toEqual([
      `-chdir=cdktf.out/stacks/${STACK} init -input=false`,
      `-chdir=cdktf.out/stacks/${STACK} plan -input=false -lock=false -out=plan.out`,
      `-chdir=cdktf.out/stacks/${STACK} show -json plan.out`,
      `-chdir=cdktf.out/stacks/${STACK} show -no-color plan.out`,
      `-chdir=cdktf.out/stacks/${STACK} init -input=false -lockfile=readonly`,
      `-chdir=cdktf.out/stacks/${STACK} apply -input=false plan.out`,
    ]);
    expect(run.calls.filter((c) => c.tool === 'npm').map((c) => c.args.join(' '))).toEqual(['ci', 'test', 'ci', 'ci']);
  });

  test('THEN a 300 kB plan reaches the job summary cut to 60000 bytes, without SIGPIPE failing the step', () => {
    const summary = run.job('plan').summary;
    expect(run.step('plan', 'Plan summary').outcome).toBe('success');
    expect(summary).toContain(`### Plan: ${STACK}`);
    expect(summary).toContain('(cut at 60000 of');
    expect(Buffer.byteLength(summary)).toBeLessThan(61_000);
  });

  test('THEN plan and apply hold the stack\'s lock, the group rotation.yml takes for its key rings', () => {
    expect(run.job('plan').concurrency).toBe(`keyrotor-${STACK}`);
    expect(run.job('apply').concurrency).toBe(`keyrotor-${STACK}`);
    expect(run.job('apply').environment).toBe('production');
    expect(run.concurrency).toBe('deploy-production');
  });
});

describe('deploy.yml when the ledger and AWS disagree', () => {
  test('GIVEN a change outside the pipeline (the active key disabled) THEN the plan job stops at the drift gate: terraform never plans, nothing is applied', async () => {
    const drifted = copyRepo(repo);
    const ledger = JSON.parse(fs.readFileSync(path.join(drifted, 'state', 'ledgers', 'identity-center.json'), 'utf8'));
    const kms = new KMSClient({ endpoint: emulator.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIAWORKFLOWTEST', secretAccessKey: 'x' } });
    const otherEmulator = await startEmulator({ port: 0, updateDelayMs: 20, quotas: false });
    actAsPipelineRole(otherEmulator, 'AKIAWORKFLOWTEST'); // CI acts as the key ring's pipeline role
    try {
      // A second organization, so the shared emulator stays clean for the other tests.
      const repo2 = await migratedRepo(otherEmulator);
      const key = JSON.parse(fs.readFileSync(path.join(repo2, 'state', 'ledgers', 'identity-center.json'), 'utf8')).generations[0].keyArn;
      await new KMSClient({ endpoint: otherEmulator.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIAWORKFLOWTEST', secretAccessKey: 'x' } }).send(new DisableKeyCommand({ KeyId: key }));
      const run = await deploy({ repo: repo2, aws: { AWS_ACCESS_KEY_ID: 'AKIAWORKFLOWTEST', AWS_SECRET_ACCESS_KEY: 'x', AWS_ENDPOINT_URL: otherEmulator.endpoint } });
      const gate = run.step('plan', 'Ledger is the latest and AWS matches it');
      expect(gate.outcome).toBe('failure');
      expect(gate.stdout).toContain('DRIFT [key-state] generation 1 is Disabled in KMS');
      expect(terraformArgs(run).some((a) => a.includes(' plan '))).toBe(false);
      expect(run.job('apply').result).toBe('skipped');
    } finally {
      await otherEmulator.stop();
      kms.destroy();
      void ledger;
    }
  }, 120_000);

  test('GIVEN main moved on (a rotation\'s state PR merged after this commit) THEN the drift gate refuses the stale synth', async () => {
    const latest = copyRepo(repo);
    const started = await cli(latest, emulator, 'start', 'identity-center', '--signing-key', path.join(latest, 'approvers', 'operator_ed25519'));
    await cli(latest, emulator, 'advance', runIdIn(started.out), '--stage-limit', '2'); // the ledger gains generation 2 on "main"
    const run = await deploy({ latestMain: latest });
    const gate = run.step('plan', 'Ledger is the latest and AWS matches it');
    expect(gate.outcome).toBe('failure');
    expect(gate.stdout).toContain('[stale-synth]');
    expect(run.job('apply').result).toBe('skipped');
    // Leave the shared emulator as the ledger of `repo` says: roll the run back.
    await cli(latest, emulator, 'rollback', runIdIn(started.out));
  }, 120_000);

  test('GIVEN a plan that would disable the active key (a stale ledger) THEN the plan guard fails the job and nothing is applied', async () => {
    const ledger = JSON.parse(fs.readFileSync(path.join(repo, 'state', 'ledgers', 'identity-center.json'), 'utf8'));
    const planDir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'keyrotor-plans-'));
    const key = ledger.generations[0];
    fs.writeFileSync(
      path.join(planDir, `${STACK}.json`),
      JSON.stringify({
        format_version: '1.2',
        terraform_version: '1.13.4',
        resource_changes: [
          {
            address: 'aws_kms_key.identity_center_key_gen1',
            mode: 'managed',
            type: 'aws_kms_key',
            name: 'identity_center_key_gen1',
            change: { actions: ['update'], before: { key_id: key.keyId, arn: key.keyArn, is_enabled: true }, after: { key_id: key.keyId, arn: key.keyArn, is_enabled: false }, after_unknown: {} },
          },
        ],
      }),
    );
    const run = await deploy({ stubEnv: { STUB_PLAN_DIR: planDir } });
    const guard = run.step('plan', 'Plan guard');
    expect(guard.outcome).toBe('failure');
    expect(guard.stdout).toContain('::error title=KMS plan guard (key-enablement-changed)::aws_kms_key.identity_center_key_gen1');
    expect(run.step('plan', 'Plan summary').outcome).toBe('success'); // always(): the reviewer still sees the plan
    expect(run.job('apply').result).toBe('skipped');
  }, 120_000);
});

describe('deploy.yml on a pull request', () => {
  test('THEN it plans against the pull request\'s own ledger, under a per-PR group, and never applies', async () => {
    const run = await deploy({ event: 'pull_request', ref: 'refs/pull/42/merge' });
    expect(failures(run)).toEqual([]);
    expect(run.job('plan').concurrency).toBe(`deploy-pr-42-${STACK}`);
    expect(run.job('apply').result).toBe('skipped');
    expect(run.concurrency).toBe('deploy-pr-42');
  }, 120_000);

  test('GIVEN a pull request from a fork THEN no job with AWS credentials runs', async () => {
    const run = await deploy({ event: 'pull_request', ref: 'refs/pull/43/merge', pullRequest: { number: 43, head: { repo: { full_name: 'someone/fork' } } } });
    expect(run.job('plan').result).toBe('skipped');
  }, 120_000);
});

describe('the bugs this fixes', () => {
  test('GIVEN the old summary step (`terraform show | head -c 60000`) and a big plan THEN the runner\'s bash -eo pipefail fails it: the reason plan-summary.sh cuts a file', async () => {
    const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'keyrotor-sigpipe-'));
    fs.writeFileSync(path.join(dir, 'cdk.tf.json'), '{}');
    fs.writeFileSync(path.join(dir, 'plan.out'), '{}');
    const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
    const stub = path.join(__dirname, 'workflow-runner', 'stubs', 'terraform-bin', 'terraform');
    const old = spawnSync('/bin/bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', `"${stub}" -chdir="${dir}" show -no-color plan.out | head -c 60000 > /dev/null`], { env: { PATH: '/usr/bin:/bin', STUB_SHOW_BYTES: '300000' } });
    expect(old.status).not.toBe(0);
  });

  test('GIVEN only bin/rotate.js (npm ci links no package\'s own bin) THEN `rotate` is not found: exit 127', async () => {
    const broken = copyRepo(repo);
    fs.rmSync(path.join(broken, 'bin', 'rotate'));
    const run = await deploy({ repo: broken });
    const lint = run.step('synth', 'rotate lint');
    expect(lint.exitCode).toBe(127);
    expect(lint.stderr).toContain('rotate: command not found');
  }, 120_000);
});
