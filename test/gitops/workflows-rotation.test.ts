/**
 * rotation.yml and drift.yml run the way the runner runs them (test/gitops/workflow-runner), with
 * the real `rotate` against the emulator: a rotation driven by dispatches, one state PR per
 * dispatch that changed something and none for a poll of a running soak, approvals that arrive as
 * files only, and the scheduled drift check keeping its issue in step.
 */
import { actAsPipelineRole } from '../../scripts/demo/workspace';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UpdateAliasCommand, CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { startEmulator, type Emulator } from '../../emulator';
import { runWorkflow, type RunWorkflowOptions, type WorkflowRun } from './workflow-runner/runner';
import { assertDistFresh, cli, copyRepo, migratedRepo, runIdIn, WORKFLOW_RUN_ID } from './workflow-runner/repo-fixture';

const LOCK = 'keyrotor-keys-111111111111-us-east-1';
/** Each organization (emulator) can be migrated once; tests that need a fresh one take their own. */
let emulator: Emulator;
const extra: Emulator[] = [];

beforeAll(() => assertDistFresh());
afterEach(async () => {
  while (extra.length > 0) await extra.pop()!.stop();
});

async function freshOrg(options: Parameters<typeof migratedRepo>[1] = {}): Promise<string> {
  emulator = await startEmulator({ port: 0, updateDelayMs: 20, quotas: false });
  actAsPipelineRole(emulator, 'AKIAWORKFLOWTEST'); // CI acts as the key ring's pipeline role
  extra.push(emulator);
  return migratedRepo(emulator, options);
}

const aws = () => ({ AWS_ACCESS_KEY_ID: 'AKIAWORKFLOWTEST', AWS_SECRET_ACCESS_KEY: 'x', AWS_ENDPOINT_URL: emulator.endpoint });

function dispatch(repo: string, inputs: Record<string, string | boolean>, overrides: Partial<RunWorkflowOptions> = {}): Promise<WorkflowRun> {
  return runWorkflow({
    workflow: 'rotation.yml',
    event: 'workflow_dispatch',
    repo,
    inputs,
    vars: { AWS_REGION: 'us-east-1', AWS_ROTATION_ROLE_ARN: 'arn:aws:iam::111111111111:role/rotation', AWS_DELETION_ROLE_ARN: 'arn:aws:iam::111111111111:role/deletion' },
    aws: aws(),
    runId: WORKFLOW_RUN_ID,
    ...overrides,
  });
}

/** "Merge the state PR": a new snapshot whose state/ is what the job left in its workspace. */
function merged(repo: string, run: WorkflowRun, job: string): string {
  const next = copyRepo(repo);
  fs.rmSync(path.join(next, 'state'), { recursive: true, force: true });
  fs.cpSync(path.join(run.job(job).workspace!, 'state'), path.join(next, 'state'), { recursive: true });
  return next;
}

function stateHash(dir: string): string {
  const hash = createHash('sha256');
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      hash.update(p.slice(dir.length));
      if (e.isDirectory()) walk(p);
      else hash.update(fs.readFileSync(p));
    }
  };
  walk(path.join(dir, 'state'));
  return hash.digest('hex');
}

const failures = (run: WorkflowRun) => run.jobs.flatMap((j) => j.steps.filter((s) => s.outcome === 'failure').map((s) => `${j.id}/${s.name}: ${s.stderr}${s.stdout}`));

describe('a rotation driven by dispatches (soak of 24 hours)', () => {
  let org: Emulator;
  let repo: string;
  let runId: string;
  beforeAll(async () => {
    org = await startEmulator({ port: 0, updateDelayMs: 20, quotas: false });
    actAsPipelineRole(org, 'AKIAWORKFLOWTEST'); // CI acts as the key ring's pipeline role
    repo = await migratedRepo(org, { minimumSoakHours: 24, disableOldKeyDuringSoak: false });
  });
  afterAll(async () => org.stop());
  beforeEach(() => {
    emulator = org;
  });

  test('GIVEN start THEN the inputs job names the key ring\'s stack lock, the operator job holds it, runs `rotate start`, and opens one state PR', async () => {
    const run = await dispatch(repo, { action: 'start', keyring: 'identity-center', kind: 'rotate' });
    expect(failures(run)).toEqual([]);
    expect(run.job('resolve').outputs).toEqual({ session: `gh-octo-operator-${WORKFLOW_RUN_ID}`, lock: LOCK });
    expect(run.job('operator').concurrency).toBe(LOCK);
    expect(run.job('operator').environment).toBe('rotation');
    expect(run.concurrency).toBe('keyrotor-state');
    runId = runIdIn(run.step('operator', 'rotate').stdout + run.step('operator', 'rotate').stderr);
    expect(run.pullRequests).toEqual([expect.objectContaining({ job: 'operator', title: 'keyrotor state: start identity-center (success)', paths: 'state/' })]);
    repo = merged(repo, run, 'operator');
  }, 120_000);

  test('GIVEN advance THEN the stages run up to the soak, which waits, and one state PR records them', async () => {
    const run = await dispatch(repo, { action: 'advance', run_id: runId });
    expect(failures(run)).toEqual([]);
    expect(run.step('operator', 'Anything to do').outputs).toEqual({ waiting: 'false' });
    expect(run.step('operator', 'rotate').outcome).toBe('success');
    expect(run.pullRequests).toHaveLength(1);
    repo = merged(repo, run, 'operator');
    const status = await cli(repo, org, '--json', 'status', runId);
    expect(JSON.parse(status.out).run.stages.find((s: { name: string }) => s.name === 'soak').status).toBe('waiting');
  }, 120_000);

  test('GIVEN advance again while the soak runs THEN nothing runs, no state is written and no state PR is opened', async () => {
    const before = stateHash(repo);
    const run = await dispatch(repo, { action: 'advance', run_id: runId });
    expect(failures(run)).toEqual([]);
    expect(run.step('operator', 'Anything to do').outputs).toEqual({ waiting: 'true' });
    expect(run.step('operator', 'Anything to do').stderr).toMatch(/soaks until \S+: nothing to do before then/);
    expect(run.step('operator', 'rotate').outcome).toBe('skipped');
    expect(run.step('operator', 'State PR').outcome).toBe('skipped');
    expect(run.pullRequests).toEqual([]);
    expect(stateHash(run.job('operator').workspace!)).toBe(before);
  }, 120_000);

  test('GIVEN an open state PR THEN the operator job refuses to act on an outdated state', async () => {
    const run = await dispatch(repo, { action: 'rollback', run_id: runId }, { stubEnv: { STUB_GH_OPEN_STATE_PRS: '#17 https://github.com/example/keys/pull/17' } });
    expect(run.step('operator', 'No unmerged state PR').outcome).toBe('failure');
    expect(run.step('operator', 'No unmerged state PR').stdout).toContain('merge or close the open state PR first: #17');
    expect(run.step('operator', 'rotate').outcome).toBe('skipped');
  }, 120_000);

  test('GIVEN rollback THEN the run is undone and its state PR opened', async () => {
    const run = await dispatch(repo, { action: 'rollback', run_id: runId });
    expect(failures(run)).toEqual([]);
    expect(run.pullRequests).toHaveLength(1);
  }, 120_000);
});

describe('inputs', () => {
  test.each([
    [{ action: 'advance' }, 'advance needs run_id'],
    [{ action: 'start' }, 'start needs keyring'],
    [{ action: 'start', keyring: 'Bad_Name' }, 'keyring: lowercase letters, digits and -'],
    [{ action: 'cancel-deletion', keyring: 'identity-center' }, 'cancel-deletion needs keyring and generation'],
    [{ action: 'advance', run_id: 'x; rm -rf /' }, 'run_id: a run id as `rotate start` prints it'],
    [{ action: 'start', keyring: 'no-such-ring' }, 'key ring no-such-ring is not in'],
    [{ action: 'advance', run_id: 'identity-center-20261201T000000Z-abcdef' }, 'run identity-center-20261201T000000Z-abcdef is not in'],
  ])('GIVEN %j THEN the inputs job fails with "%s" and no job touches AWS', async (inputs, message) => {
    const repo = await freshOrg();
    const run = await dispatch(repo, inputs);
    expect(run.step('resolve', 'Check inputs').outcome).toBe('failure');
    expect(run.step('resolve', 'Check inputs').stderr).toContain(message);
    expect(run.job('operator').result).toBe('skipped');
  }, 120_000);

  test('GIVEN a dispatch from another branch THEN refused', async () => {
    const repo = await freshOrg();
    const run = await dispatch(repo, { action: 'status' }, { ref: 'refs/heads/feature' });
    expect(run.step('resolve', 'Check inputs').stderr).toContain('dispatch from main (got refs/heads/feature)');
  }, 120_000);
});

describe('approvals as files, then the deletion job', () => {
  test('GIVEN a run at its gate WHEN two approvers sign on their own machines THEN only the files are written there; once merged an advance passes the gate, and only the deletion job schedules the deletion', async () => {
    let repo = await freshOrg({ minimumSoakHours: 0 });
    const start = await dispatch(repo, { action: 'start', keyring: 'identity-center', kind: 'rotate' });
    const runId = runIdIn(start.step('operator', 'rotate').stdout + start.step('operator', 'rotate').stderr);
    repo = merged(repo, start, 'operator');
    const advance = await dispatch(repo, { action: 'advance', run_id: runId });
    expect(failures(advance)).toEqual([]);
    repo = merged(repo, advance, 'operator');

    const early = await dispatch(repo, { action: 'advance', run_id: runId });
    expect(early.step('operator', 'Anything to do').outputs).toEqual({ waiting: 'true' }); // no quorum yet: nothing to do
    expect(early.step('operator', 'Anything to do').stderr).toContain('waits for approvals');
    expect(early.pullRequests).toEqual([]);

    // Each approver works in their own clone; nothing but the approval file may change there.
    for (const n of [1, 2]) {
      const clone = copyRepo(repo);
      const before = stateHash(clone);
      const signed = await cli(clone, emulator, 'approve', runId, '--signing-key', path.join(clone, 'approvers', `approver${n}_ed25519`), '--yes');
      expect(signed.code).toBe(0);
      expect(signed.out).toMatch(/written to \S+approvals\/identity-center-\S+\.json: hand it in/);
      expect(stateHash(clone)).toBe(before);
      fs.cpSync(path.join(clone, 'approvals'), path.join(repo, 'approvals'), { recursive: true }); // the approver's PR, merged
    }

    // With the quorum merged, an advance passes the gate and stops where only `rotate delete` goes on.
    const gate = await dispatch(repo, { action: 'advance', run_id: runId });
    expect(failures(gate)).toEqual([]);
    expect(gate.step('operator', 'Anything to do').outputs).toEqual({ waiting: 'false' });
    expect(gate.pullRequests).toHaveLength(1);
    repo = merged(repo, gate, 'operator');
    const poll = await dispatch(repo, { action: 'advance', run_id: runId });
    expect(poll.step('operator', 'Anything to do').outputs).toEqual({ waiting: 'true' });
    expect(poll.step('operator', 'Anything to do').stderr).toContain('dispatch approve-gate-and-delete');
    expect(poll.pullRequests).toEqual([]);

    const deletion = await dispatch(repo, { action: 'approve-gate-and-delete', run_id: runId });
    expect(failures(deletion)).toEqual([]);
    expect(deletion.job('delete').environment).toBe('key-deletion');
    expect(deletion.job('delete').concurrency).toBe(LOCK);
    expect(deletion.step('delete', 'Approval gate').stdout).toMatch(/quorum holds/);
    expect(deletion.pullRequests).toEqual([expect.objectContaining({ job: 'delete', title: `keyrotor state: schedule deletion ${runId} (success)` })]);
    const ledger = JSON.parse(fs.readFileSync(path.join(deletion.job('delete').workspace!, 'state', 'ledgers', 'identity-center.json'), 'utf8'));
    expect(ledger.generations.map((g: { state: string }) => g.state)).toEqual(['pending-deletion', 'active']);
  }, 240_000);
});

describe('drift.yml', () => {
  function drift(repo: string, stubEnv: Record<string, string> = {}): Promise<WorkflowRun> {
    return runWorkflow({
      workflow: 'drift.yml',
      event: 'schedule',
      repo,
      vars: { AWS_REGION: 'us-east-1', AWS_DRIFT_ROLE_ARN: 'arn:aws:iam::111111111111:role/drift' },
      aws: aws(),
      stubEnv,
    });
  }
  const ghCalls = (run: WorkflowRun) => run.calls.filter((c) => c.tool === 'gh').map((c) => c.args.slice(0, 2).join(' '));

  test('GIVEN no drift and no open issue THEN nothing is filed', async () => {
    const repo = await freshOrg();
    const run = await drift(repo);
    expect(failures(run)).toEqual([]);
    expect(run.step('drift', 'Drift issue').stdout).toContain('no drift, no open drift issue');
    expect(ghCalls(run)).toEqual(['issue list']);
    expect(run.pullRequests).toEqual([]);
  }, 120_000);

  test('GIVEN the alias moved outside the pipeline THEN an issue is opened with the report; with one open already, it is updated and commented', async () => {
    const own = await startEmulator({ port: 0, updateDelayMs: 20, quotas: false });
    actAsPipelineRole(own, 'AKIAWORKFLOWTEST'); // CI acts as the key ring's pipeline role
    try {
      const repo = await migratedRepo(own);
      const kms = new KMSClient({ endpoint: own.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIAWORKFLOWTEST', secretAccessKey: 'x' } });
      const stray = (await kms.send(new CreateKeyCommand({ Description: 'stray' }))).KeyMetadata!.KeyId!;
      await kms.send(new UpdateAliasCommand({ AliasName: 'alias/identity-center', TargetKeyId: stray }));
      kms.destroy();
      const env = { AWS_ACCESS_KEY_ID: 'AKIAWORKFLOWTEST', AWS_SECRET_ACCESS_KEY: 'x', AWS_ENDPOINT_URL: own.endpoint };
      const opened = await runWorkflow({ workflow: 'drift.yml', event: 'schedule', repo, vars: { AWS_REGION: 'us-east-1', AWS_DRIFT_ROLE_ARN: 'arn:aws:iam::111111111111:role/drift' }, aws: env });
      expect(failures(opened)).toEqual([]);
      expect(opened.step('drift', 'rotate drift').stdout).toContain('DRIFT [alias-target]');
      expect(ghCalls(opened)).toEqual(['issue list', 'label create', 'issue create']);
      const create = opened.calls.find((c) => c.tool === 'gh' && c.args[1] === 'create' && c.args[0] === 'issue')!;
      expect(create.args).toEqual(expect.arrayContaining(['--label', 'keyrotor-drift', '--title', 'keyrotor: live AWS drifted from the ledger']));

      const updated = await runWorkflow({ workflow: 'drift.yml', event: 'schedule', repo, vars: { AWS_REGION: 'us-east-1', AWS_DRIFT_ROLE_ARN: 'arn:aws:iam::111111111111:role/drift' }, aws: env, stubEnv: { STUB_GH_OPEN_DRIFT_ISSUE: '7' } });
      expect(ghCalls(updated)).toEqual(['issue list', 'issue edit', 'issue comment']);
    } finally {
      await own.stop();
    }
  }, 180_000);

  test('GIVEN an open drift issue and no drift any more THEN the issue is closed', async () => {
    const repo = await freshOrg();
    const run = await drift(repo, { STUB_GH_OPEN_DRIFT_ISSUE: '7' });
    expect(ghCalls(run)).toEqual(['issue list', 'issue close']);
  }, 120_000);
});

describe('ci.yml', () => {
  test('THEN its one step, bash .ci/run, installs nothing it already has, runs npm ci and npm test, and reports the count', async () => {
    const repo = await freshOrg();
    const run = await runWorkflow({ workflow: 'ci.yml', event: 'pull_request', repo, aws: aws() });
    expect(failures(run)).toEqual([]);
    expect(run.step('test', 'bash .ci/run').stdout).toContain('tests: 1 passed, 0 failed, 0 skipped');
    expect(run.calls.filter((c) => c.tool === 'npm').map((c) => c.args[0])).toEqual(['ci', 'test']);
  }, 120_000);
});
