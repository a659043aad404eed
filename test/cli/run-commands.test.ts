/**
 * The run commands as an operator meets them: `rotate plan/start/advance/status/rollback/
 * cancel-deletion/audit verify` run in-process through the real CLI parser, against the emulator.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { invokeRotate, type CliResult } from './invoke';
import { main } from '../../scripts/cli/main';
import type { CliIo } from '../../scripts/cli/context';
import { startEmulator, type Emulator } from '../../emulator';
import { actAsPipelineRole, createDemoWorkspace, type DemoWorkspace } from '../../scripts/demo/workspace';
import type { Run } from '../../pipeline/state/types';

type Result = CliResult;

let emulator: Emulator;
let ws: DemoWorkspace;
let dir: string;

function rotate(...args: string[]): Promise<Result> {
  return invokeRotate(ws, emulator, dir, args);
}

function runIdFrom(result: Result): string {
  return /run (identity-center-\d{8}T\d{6}Z-[0-9a-f]{6})/.exec(result.out + result.err)![1]!;
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'keyrotor-cli-'));
  emulator = await startEmulator({ port: 0, updateDelayMs: 10 });
  ws = await createDemoWorkspace(dir);
  actAsPipelineRole(emulator, 'AKIATESTOPERATOR');
});
afterEach(async () => {
  await emulator.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('rotate plan', () => {
  it('lists the stages in order with what each does, writes nothing and, with --offline, calls no AWS', async () => {
    const result = await rotate('plan', 'identity-center', '--kind', 'migrate-to-cmk', '--offline');
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/1\. preflight[\s\S]*2\. create-key[\s\S]*5\. switch-identity-center[\s\S]*6\. integration-checks/);
    expect(result.out).toContain('nothing was changed');
    await expect(readdir(ws.stateDir)).rejects.toThrow(/ENOENT/);
    expect(emulator.callLog()).toEqual([]);
  });

  it('reads the alias and Identity Center live, with read-only calls only', async () => {
    const result = await rotate('plan', 'identity-center', '--kind', 'migrate-to-cmk');
    expect(result.code).toBe(0);
    expect(result.out).toContain('from: an AWS owned key');
    expect(emulator.callLog().length).toBeGreaterThan(0);
    expect(emulator.callLog().filter((c) => c.mutating)).toEqual([]);
  });

  it('refuses a rotation of a key ring without an active generation and says how to get one', async () => {
    const result = await rotate('plan', 'identity-center');
    expect(result.code).toBe(2);
    expect(result.err).toContain('key ring identity-center has no active generation in its ledger');
    expect(result.err).toContain('rotate start identity-center --kind adopt');
  });
});

describe('rotate start / advance / status / audit verify', () => {
  it('migrates to a CMK step by step and shows each stage with what it changed', async () => {
    const started = await rotate('start', 'identity-center', '--kind', 'migrate-to-cmk');
    expect(started.code).toBe(0);
    const runId = runIdFrom(started);
    expect(started.out).toMatch(/✔ preflight\s+done/);
    expect(started.out).toMatch(/· create-key\s+pending/);
    expect(started.out).toContain(`next: \`rotate advance ${runId}\``);

    const advanced = await rotate('advance', runId, '--yes');
    expect(advanced.code).toBe(0);
    expect(advanced.err).toMatch(/✔ switch-identity-center done: Identity Center switched to (arn:aws:kms:|key\/)/);
    expect(advanced.out).toContain('changed: sso:UpdateInstance arn:aws:sso:::instance/ssoins-7223f2cd9d6a6b51');

    const status = await rotate('--json', 'status', runId);
    const run = (JSON.parse(status.out) as { run: Run }).run;
    expect(run.status).toBe('completed');
    expect(run.stages.every((s) => s.status === 'done')).toBe(true);

    const overview = await rotate('status');
    expect(overview.out).toContain('no open runs');
    expect(overview.out).toMatch(/identity-center\s+alias\/identity-center\s+gen1 active/);

    const audit = await rotate('audit', 'verify');
    expect(audit.code).toBe(0);
    expect(audit.out).toMatch(/audit chain intact: \d+ entries/);
  });

  it('start --dry-run and advance --dry-run change nothing', async () => {
    const dry = await rotate('start', 'identity-center', '--kind', 'migrate-to-cmk', '--dry-run');
    expect(dry.code).toBe(0);
    expect(emulator.callLog().filter((c) => c.mutating)).toEqual([]);
    const runId = runIdFrom(await rotate('start', 'identity-center', '--kind', 'migrate-to-cmk'));
    const before = emulator.callLog().length;
    const advance = await rotate('advance', runId, '--dry-run');
    expect(advance.out).toContain('dry run: the next stage would be create-key; nothing was changed');
    expect(emulator.callLog()).toHaveLength(before);
  });

  it('names the stage, the AWS operation and the next command when AWS refuses a mutation', async () => {
    const runId = runIdFrom(await rotate('start', 'identity-center', '--kind', 'migrate-to-cmk'));
    emulator.failNext('CreateKey', 1, { code: 'AccessDeniedException', message: 'User is not authorized to perform kms:CreateKey' });
    const failed = await rotate('advance', runId, '--yes');
    expect(failed.code).toBe(2);
    expect(failed.err).toContain('kms:CreateKey');
    expect(failed.err).toMatch(/not authorized/);
    expect(failed.out).toMatch(/✖ create-key\s+failed/);
    const retried = await rotate('advance', runId, '--yes');
    expect(retried.code).toBe(0);
    expect(JSON.parse((await rotate('--json', 'status', runId)).out).run.status).toBe('completed');
  });
});

describe('bad input gets a clear error and the next command', () => {
  it.each([
    [['start', 'nope'], /no key ring named "nope".*known: identity-center/s, /next: check the name with `rotate lint`/],
    [['advance', 'no-such-run'], /run not found: no run matches "no-such-run"/, /next: `rotate runs --all` lists every run/],
    [['cancel-deletion', 'identity-center'], /cancel-deletion needs exactly one of --generation N or --key ARN/, /rotate cancel-deletion identity-center --generation 1/],
    [['cancel-deletion', 'identity-center', '--generation', '7'], /no generation 7 in its ledger/, /pick one of: the ledger has no generations/],
    [['cancel-deletion', 'identity-center', '--generation', 'two'], /--generation must be a generation number \(1, 2, …\), got "two"/, /rotate status/],
    [['cancel-deletion', 'identity-center', '--generation', '1', '--key', 'x'], /exactly one of --generation N or --key ARN \(both were given\)/, /--generation 1/],
    [['start', 'identity-center', '--kind', 'retire-key'], /retire-key needs exactly one of --generation N or --key ARN/, /rotate start identity-center --kind retire-key --generation 1/],
    [['start', 'identity-center', '--generation', '1'], /--generation is not used by --kind rotate/, /drop --generation/],
    [['plan', 'identity-center', '--kind', 'adopt', '--key', 'k'], /--key is not used by --kind adopt/, /drop --key/],
    [['plan', 'identity-center', '--kind', 'retire-key', '--generation', '1'], /no generation 1 in its ledger/, /pick one of/],
  ])('rotate %j', async (args, message, next) => {
    const result = await rotate(...args);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(message);
    expect(result.err).toMatch(next);
  });

  it('rejects a non-numeric --stage-limit naming the option', async () => {
    const runId = runIdFrom(await rotate('start', 'identity-center', '--kind', 'migrate-to-cmk'));
    const result = await rotate('advance', runId, '--stage-limit', 'x');
    expect(result.code).toBe(2);
    expect(result.err).toContain('--stage-limit must be a whole number of at least 1, got "x"');
  });

  it('refuses a --state-dir or KEYROTOR_STATE_DIR that is a file, naming where it was set and the path (exit 2, not a crash on ENOTDIR)', async () => {
    const file = path.join(dir, 'state-file');
    await writeFile(file, 'not a directory');
    const viaOption = await rotate('--state-dir', file, 'status', 'latest');
    expect(viaOption.code).toBe(2);
    expect(viaOption.err).toBe(
      `error: --state-dir ${file} is not a directory (it is a file): the file store keeps its records in a directory\n` +
        `next: set --state-dir to the state directory (one that does not exist yet is created), or move ${file} out of the way\n`,
    );
    let err = '';
    const io: CliIo = { out: () => undefined, err: (t) => (err += `${t}\n`), interactive: false, readLine: async () => undefined };
    const viaEnv = await main(['node', 'rotate', '--config', ws.configPath, 'runs'], { io, env: { KEYROTOR_STATE_DIR: file }, cwd: dir });
    expect(viaEnv).toBe(2);
    expect(err).toContain(`error: KEYROTOR_STATE_DIR ${file} is not a directory (it is a file)`);
    expect(err).toContain('next: set KEYROTOR_STATE_DIR to the state directory');
  });

  it('GIVEN a --state-dir that does not exist (a typo) WHEN status reads it THEN a note says nothing was recorded there and to check --state-dir, and nothing is created', async () => {
    const typo = path.join(dir, 'stat');
    const result = await rotate('--state-dir', typo, 'status');
    expect(result.code).toBe(0);
    expect(result.err).toContain(`note: the state directory ${typo} (from --state-dir) does not exist: nothing has been recorded there yet; if you expected runs and ledgers, check --state-dir`);
    expect(existsSync(typo)).toBe(false);
  });

  it('rejects an unknown run kind before touching anything', async () => {
    const result = await rotate('start', 'identity-center', '--kind', 'delete-everything');
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/Allowed choices are rotate, migrate-to-cmk, migrate-to-aws-owned, adopt/);
  });
});

describe('rotate rollback and cancel-deletion', () => {
  it('refuses, also on --dry-run, to roll back a completed run and says what to do instead', async () => {
    const runId = runIdFrom(await rotate('start', 'identity-center', '--kind', 'migrate-to-cmk'));
    await rotate('advance', runId, '--yes');
    for (const args of [['rollback', runId, '--dry-run'], ['rollback', runId, '--yes']]) {
      const result = await rotate(...args);
      expect(result.code).toBe(2);
      expect(result.err).toContain(`run ${runId} is completed; there is nothing to roll back`);
      expect(result.err).toContain('next: start a new run if the key ring needs another change');
    }
  });

  it('rolls back a run stopped after the switch and frees the key ring', async () => {
    const runId = runIdFrom(await rotate('start', 'identity-center', '--kind', 'migrate-to-cmk'));
    await rotate('advance', runId, '--stage-limit', '4', '--yes'); // through switch-identity-center
    const dry = await rotate('rollback', runId, '--dry-run');
    expect(dry.out).toMatch(/undo switch-identity-center[\s\S]*undo promote-alias[\s\S]*undo verify-key \(nothing to undo\)[\s\S]*undo create-key[\s\S]*undo preflight \(nothing to undo\)/);
    const rolled = await rotate('rollback', runId, '--yes');
    expect(rolled.code).toBe(0);
    expect(rolled.out).toContain('status: rolled-back');
    expect(rolled.out).toMatch(/switch-identity-center.*undone[\s\S]*Identity Center switched back to an AWS owned key/);
    expect((await rotate('start', 'identity-center', '--kind', 'migrate-to-cmk')).code).toBe(0);
  });
});

describe('dry runs make the real command\'s read-only checks', () => {
  it('GIVEN a run stopped after the switch and a hand-edited, invalid ledger WHEN `rollback --dry-run` or `advance --dry-run` THEN each exits 2 naming the ledger file, as the real commands would', async () => {
    const runId = runIdFrom(await rotate('start', 'identity-center', '--kind', 'migrate-to-cmk'));
    await rotate('advance', runId, '--stage-limit', '4', '--yes');
    const file = path.join(ws.stateDir, 'ledgers', 'identity-center.json');
    const ledger = JSON.parse(await readFile(file, 'utf8'));
    ledger.generations[0].state = 'actve';
    await writeFile(file, JSON.stringify(ledger));
    for (const args of [['rollback', runId, '--dry-run'], ['advance', runId, '--dry-run']]) {
      const result = await rotate(...args);
      expect([args[0], result.code]).toEqual([args[0], 2]);
      expect(result.err).toContain(file);
    }
  });
});

describe('a full rotation through the CLI, approvals included', () => {
  it('stops at the gate, refuses the initiator, counts two approvers from their approval files, then deletes only the old key', async () => {
    const migration = runIdFrom(await rotate('start', 'identity-center', '--kind', 'migrate-to-cmk'));
    await rotate('advance', migration, '--yes');
    const unsigned = await rotate('start', 'identity-center');
    expect(unsigned.code).toBe(2);
    expect(unsigned.err).toContain('cannot tell who is starting this run in approver terms');
    const runId = runIdFrom(await rotate('start', 'identity-center', '--signing-key', ws.operatorKeyPath));
    const waiting = await rotate('--wide', 'advance', runId, '--yes');
    expect(waiting.code).toBe(0);
    expect(waiting.out).toMatch(/⏸ approval-gate\s+waiting for people/);
    expect(waiting.out).toContain(`next: approvers (not the initiator) run \`rotate approve ${runId} --signing-key <key>\``);

    const closed = await rotate('gate', runId);
    expect(closed.code).toBe(1);
    expect(closed.out + closed.err).toMatch(/2 more needed/);

    const [first, second] = ws.approvers;
    const self = await rotate('approve', runId, '--signing-key', ws.operatorKeyPath, '--yes');
    expect(self.code).toBe(2);
    expect(self.err).toContain(`run ${runId}'s initiator is recorded as you, so you cannot approve it`);

    expect((await rotate('approve', runId, '--signing-key', first!.privateKeyPath, '--as', first!.identity, '--yes')).code).toBe(0);
    const approvalsDir = path.join(dir, 'approvals');
    expect(await readdir(path.join(approvalsDir, runId))).toHaveLength(1);
    const secondApproval = await rotate('approve', runId, '--signing-key', second!.privateKeyPath, '--as', second!.identity, '--yes', '--out', path.join(approvalsDir, 'second.json'));
    expect(secondApproval.code).toBe(0);
    expect(JSON.parse(await readFile(path.join(approvalsDir, 'second.json'), 'utf8'))).toEqual(expect.objectContaining({ signer: second!.identity }));

    const listed = await rotate('approvals', runId);
    expect(listed.out).toContain(first!.identity);
    const open = await rotate('gate', runId);
    expect(open.code).toBe(0);

    // A routine advance stops before the deletion; only `rotate delete` schedules it.
    const ready = await rotate('advance', runId);
    expect(ready.code).toBe(0);
    expect(ready.out).toContain('next: schedule the old key\'s deletion with `rotate delete');
    const unconfirmed = await rotate('--wide', 'delete', runId);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.err).toMatch(/`rotate delete \S+` needs confirmation: it would\s+- schedule the deletion of arn:aws:kms:\S+ \(key ring identity-center\) with a 30-day window: it becomes unrecoverable on \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/);
    const done = await rotate('delete', runId, '--yes');
    expect(done.code).toBe(0);
    expect(done.out).toContain('status: completed');
    const run = (JSON.parse((await rotate('--json', 'status', runId)).out) as { run: Run }).run;
    expect(emulator.describeKeyState(run.plan.oldKeyArn!)!.keyState).toBe('PendingDeletion');
    expect(emulator.describeKeyState(run.plan.newKeyArn!)!.keyState).toBe('Enabled');
    expect((await rotate('audit', 'verify')).code).toBe(0);
  });
});
