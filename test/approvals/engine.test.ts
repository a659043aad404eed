/**
 * The approval rules where the engine meets AWS (the emulator, through the real SDK clients): a run
 * whose config changes mid-run stops until replanned and then deletes with the window that was
 * signed; the old key's last use is read again right before ScheduleKeyDeletion; the gate and
 * `advance` count the same approval files; who started a run is tied to a person through a signed
 * start, a people entry or the CI dispatcher; and `rotate audit verify` checks every signed head.
 */
import { EncryptCommand } from '@aws-sdk/client-kms';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { main } from '../../scripts/cli/main';
import type { CliIo } from '../../scripts/cli/context';
import { approveToFile } from '../../pipeline/approvals/approve';
import { readChain } from '../../pipeline/approvals/chain';
import { collectApprovals } from '../../pipeline/approvals/files';
import { evaluateApprovals } from '../../pipeline/approvals/gate';
import { hashAuditEntry } from '../../pipeline/state/audit-chain';
import { AUDIT_HEAD_FILE, AUDIT_LOG_FILE } from '../../pipeline/state/file-store';
import { StageError } from '../../pipeline/errors';
import type { AuditEntry, Run } from '../../pipeline/state/types';
import { createHarness, migrateToCmk, type Harness } from '../engine/harness';

const DAY_MS = 24 * 3600_000;

async function atTheGate(h: Harness): Promise<Run> {
  await migrateToCmk(h);
  const engine = h.engine();
  const run = await engine.advance((await engine.start(h.keyring.name, 'rotate')).id);
  expect(run.stages.find((s) => s.name === 'approval-gate')!.status).toBe('waiting');
  return run;
}

async function rotate(h: Harness, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`), interactive: false, readLine: async () => undefined };
  const base = { KEYROTOR_OPERATOR: h.ws.operator, AWS_ACCESS_KEY_ID: 'AKIATESTOPERATOR', AWS_SECRET_ACCESS_KEY: 'test' };
  const code = await main(['node', 'rotate', '--config', h.ws.configPath, '--endpoint', h.emulator.endpoint, ...args], { io, env: { ...base, ...env }, cwd: h.ws.dir });
  return { code, out, err };
}

function editConfig(h: Harness, edit: (keyring: Record<string, any>, config: Record<string, any>) => void): void {
  const config = JSON.parse(readFileSync(h.ws.configPath, 'utf8')) as Record<string, any>;
  edit(config.keyrings[0], config);
  writeFileSync(h.ws.configPath, JSON.stringify(config, null, 2));
}

let h: Harness;
afterEach(async () => h?.close());

describe('a run keeps the bar its approvers signed for', () => {
  it('GIVEN approvals WHEN quorum, window and allowed_signers change mid-run THEN advance stops with exit 2 naming each field; replan makes the approvals stale; the deletion uses the re-signed 7-day window', async () => {
    h = await createHarness();
    const run = await atTheGate(h);
    await h.approveAll(run.id);
    editConfig(h, (k) => {
      k.approvals.quorum = 1;
      k.rotation.deletionWindowDays = 7;
    });
    const signersFile = path.join(h.ws.dir, 'approvers', 'allowed_signers');
    writeFileSync(signersFile, `${readFileSync(signersFile, 'utf8')}stranger@evil.example ${readFileSync(`${h.ws.operatorKeyPath}.pub`, 'utf8').trim()}\n`);

    const stopped = await rotate(h, ['advance', run.id]);
    expect(stopped.code).toBe(2);
    expect(stopped.err).toContain('approvals.quorum: run recorded 2; the config now says 1');
    expect(stopped.err).toContain('rotation.deletionWindowDays: run recorded 30; the config now says 7');
    expect(stopped.err).toMatch(/approvals.allowedSignersFile: run recorded approvers\/allowed_signers sha256 \S+; the config now says .*\(\+ stranger@evil.example SHA256:/);
    expect(stopped.err).toContain(`rotate replan ${run.id}`);
    expect((await rotate(h, ['gate', run.id])).code).toBe(2);
    expect(h.emulator.describeKeyState(run.plan.oldKeyArn!)!.keyState).not.toBe('PendingDeletion');

    const replanned = await rotate(h, ['replan', run.id]);
    expect(replanned.code).toBe(0);
    expect(replanned.out).toContain('every earlier approval is stale');
    const gate = await rotate(h, ['--json', 'gate', run.id]);
    expect(gate.code).toBe(1);
    expect((JSON.parse(gate.out) as { gate: { approvals: Array<{ rejection: string }> } }).gate.approvals.map((a) => a.rejection)).toEqual(['stale-plan', 'stale-plan']);

    const [first] = h.ws.approvers;
    await approveToFile({ store: h.store, runId: run.id, signingKeyPath: first!.privateKeyPath, approvalsDir: h.ws.approvalsDir, now: new Date() });
    expect((await rotate(h, ['advance', run.id])).code).toBe(0);
    const done = await rotate(h, ['delete', run.id, '--yes']);
    expect(done.code).toBe(0);
    const deletion = Date.parse(h.emulator.describeKeyState(run.plan.oldKeyArn!)!.deletionDate!);
    expect(Math.abs(deletion - (Date.now() + 7 * DAY_MS))).toBeLessThan(5 * 60_000);
  });

  it('GIVEN an untouched config WHEN the deletion is scheduled THEN it uses the 30-day window the approvers signed', async () => {
    h = await createHarness();
    await migrateToCmk(h);
    const planned = await rotate(h, ['plan', 'identity-center']);
    expect(planned.code).toBe(0);
    // The bar the run will record, in the plan's words: quorum, lifetime, who may sign, the soak and what it disables.
    const oneLine = planned.out.replace(/\s+/g, ' ');
    expect(oneLine).toMatch(/2 approvals from distinct people, never the initiator, each valid up to 24 h who may approve \(approvers\/allowed_signers, sha256 [0-9a-f]{64}\): approver1@example\.com, approver2@example\.com, operator@example\.com/);
    expect(oneLine).toMatch(/- kms:DisableKey.*soak 0 h counted from the switch/);
    const engine = h.engine();
    const run = await engine.advance((await engine.start(h.keyring.name, 'rotate')).id);
    await h.approveAll(run.id);
    const done = await h.engine().advance(run.id, { allowDeletion: true });
    expect(done.status).toBe('completed');
    const deletion = Date.parse(h.emulator.describeKeyState(run.plan.oldKeyArn!)!.deletionDate!);
    expect(Math.abs(deletion - (Date.now() + 30 * DAY_MS))).toBeLessThan(5 * 60_000);
    expect(done.approvals).toHaveLength(2);
    expect((await h.store.readAudit()).filter((e) => e.runId === run.id && e.action === 'approval.counted')).toHaveLength(2);
  });
});

describe('evidence is fresh at the moment of deletion', () => {
  it('GIVEN the old key is used after the approvals THEN ScheduleKeyDeletion is refused naming the use, the evidence records it, and only fresh approvals let it through', async () => {
    h = await createHarness({ workspace: { disableOldKeyDuringSoak: false } });
    const run = await atTheGate(h);
    await h.approveAll(run.id);
    await h.clients.kms.send(new EncryptCommand({ KeyId: run.plan.oldKeyArn!, Plaintext: Buffer.from('still in use') }));

    const refused = await h.engine().advance(run.id, { allowDeletion: true }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StageError);
    expect((refused as StageError).message).toMatch(/refusing to schedule deletion of \S+: the old key was used after the evidence the approvers signed: Encrypt at \S+, KMS request/);
    expect((refused as StageError).nextStep).toContain(`rotate approve ${run.id}`);
    expect(h.emulator.describeKeyState(run.plan.oldKeyArn!)!.keyState).toBe('Enabled');
    const after = (await h.store.getRun(run.id))!;
    expect((after.evidence as { oldKeyLastUsage: { KeyLastUsage: { Operation: string } } }).oldKeyLastUsage.KeyLastUsage.Operation).toBe('Encrypt');
    const chain = await readChain(h.store);
    expect(chain.entries.filter((e) => e.runId === run.id && e.action === 'run.evidence').pop()!.detail!.evidenceDigest).toBe(after.evidenceDigest);
    const gate = await evaluateApprovals(after, { now: new Date(), collected: await collectApprovals(after, h.ws.approvalsDir), chain });
    expect(gate.approvals.map((a) => a.rejection ?? 'counts')).toEqual(['stale-evidence', 'stale-evidence']);

    await h.approveAll(run.id);
    expect((await h.engine().advance(run.id, { allowDeletion: true })).status).toBe('completed');
    expect(h.emulator.describeKeyState(run.plan.oldKeyArn!)!.keyState).toBe('PendingDeletion');
  });

  it('GIVEN GetKeyLastUsage fails right before deletion THEN nothing is scheduled and the error says to retry', async () => {
    h = await createHarness();
    const run = await atTheGate(h);
    await h.approveAll(run.id);
    h.emulator.failNext('kms:GetKeyLastUsage', 1, { code: 'AccessDeniedException', message: 'not allowed to read the last use' });
    const refused = (await h.engine().advance(run.id, { allowDeletion: true }).catch((e: unknown) => e)) as StageError;
    expect(refused.message).toContain('the old key\'s last use cannot be read right now (GetKeyLastUsage: not allowed to read the last use)');
    expect(refused).toMatchObject({ fault: 'aws', retryable: true });
    expect(h.emulator.describeKeyState(run.plan.oldKeyArn!)!.keyState).not.toBe('PendingDeletion');
    expect((await h.engine().advance(run.id, { allowDeletion: true })).status).toBe('completed');
  });
});

describe('the gate and the engine count the same approval files', () => {
  it('GIVEN approvals and a malformed file in a custom directory THEN rotate gate --approvals-dir opens, advance without it waits, and advance with $KEYROTOR_APPROVALS_DIR deletes; audit verify then checks both signed heads', async () => {
    h = await createHarness();
    const run = await atTheGate(h);
    const dir = path.join(h.ws.dir, 'ci-artifacts');
    for (const approver of h.ws.approvers) {
      await approveToFile({ store: h.store, runId: run.id, signingKeyPath: approver.privateKeyPath, approvalsDir: dir, now: new Date() });
    }
    mkdirSync(path.join(dir, run.id), { recursive: true });
    writeFileSync(path.join(dir, run.id, 'broken.json'), 'not json');

    expect((await rotate(h, ['gate', run.id, '--approvals-dir', dir])).code).toBe(0);
    const waiting = await rotate(h, ['advance', run.id]);
    expect(waiting.code).toBe(0);
    expect(waiting.out).toContain('status: waiting');
    expect((await rotate(h, ['advance', run.id], { KEYROTOR_APPROVALS_DIR: dir })).code).toBe(0);
    const done = await rotate(h, ['delete', run.id, '--yes'], { KEYROTOR_APPROVALS_DIR: dir });
    expect(done.code).toBe(0);
    expect(done.out).toContain('status: completed');

    const verified = await rotate(h, ['audit', 'verify']);
    expect(verified.code).toBe(0);
    expect(verified.out).toContain('approval anchors intact: 2 signed audit heads found in the chain');

    // Rewrite the chain wholesale: every hash recomputed, so the links alone look fine.
    const log = path.join(h.ws.stateDir, AUDIT_LOG_FILE);
    let prev = '0'.repeat(64);
    const rewritten = readFileSync(log, 'utf8').trim().split('\n').map((line, i) => {
      const entry = { ...(JSON.parse(line) as AuditEntry), prevHash: prev };
      const edited = i === 0 ? { ...entry, actor: 'someone else' } : entry;
      prev = hashAuditEntry(edited);
      return JSON.stringify({ ...edited, hash: prev });
    });
    writeFileSync(log, `${rewritten.join('\n')}\n`);
    writeFileSync(path.join(h.ws.stateDir, AUDIT_HEAD_FILE), JSON.stringify({ seq: rewritten.length, hash: prev }));
    const broken = await rotate(h, ['audit', 'verify']);
    expect(broken.code).toBe(1);
    expect(broken.out).toMatch(/audit chain intact: \d+ entries/);
    expect(broken.out).toMatch(/approval anchors BROKEN: 2 problems[\s\S]*the audit chain was rewritten after signing/);
  });
});

describe('who started the run is tied to a person', () => {
  it('GIVEN no signing key but an Identity Center session mapped in people THEN the run is tied, and that person cannot approve it', async () => {
    h = await createHarness();
    await migrateToCmk(h);
    const account = h.keyring.account;
    const session = `arn:aws:sts::${account}:assumed-role/AWSReservedSSO_KeyAdmin_0a1b2c3d/approver1@example.com`;
    h.emulator.addPrincipal('AKIAAPPROVERONE', session);
    editConfig(h, (k, c) => {
      c.people = [{ name: 'approver1', signers: ['approver1@example.com'], aws: [`arn:aws:sts::${account}:assumed-role/AWSReservedSSO_KeyAdmin_*/approver1@example.com`] }];
      // A person may rotate only as a key administrator (the key policy's lockout rules).
      k.keyAdministrators = [...k.keyAdministrators, `arn:aws:iam::${account}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_KeyAdmin_0a1b2c3d`];
    });
    const env = { KEYROTOR_OPERATOR: '', AWS_ACCESS_KEY_ID: 'AKIAAPPROVERONE' };
    const started = await rotate(h, ['start', 'identity-center'], env);
    expect(started.code).toBe(0);
    const runId = /opened run (\S+)/.exec(started.err)![1]!;
    const run = (await h.store.getRun(runId))!;
    expect(run.initiatorIdentity).toMatchObject({ tied: true, awsCaller: session, people: ['approver1'], principals: ['approver1@example.com'] });
    expect((await rotate(h, ['advance', runId, '--yes'], env)).code).toBe(0);
    const self = await rotate(h, ['approve', runId, '--signing-key', h.ws.approvers[0]!.privateKeyPath, '--yes']);
    expect(self.code).toBe(2);
    expect(self.err).toContain(`run ${runId}'s initiator is recorded as you, so you cannot approve it`);
  });

  it('GIVEN CI: the pipeline role session named after the dispatcher THEN the GitHub user mapped in people is the initiator', async () => {
    h = await createHarness();
    await migrateToCmk(h);
    const account = h.keyring.account;
    h.emulator.addPrincipal('AKIAPIPELINE', `arn:aws:sts::${account}:assumed-role/keyrotor-pipeline/gh-approver2-gh-4242`);
    editConfig(h, (_k, c) => {
      c.people = [{ name: 'approver2', signers: ['approver2@example.com'], github: ['approver2-gh'] }];
    });
    const env = { KEYROTOR_OPERATOR: '', AWS_ACCESS_KEY_ID: 'AKIAPIPELINE', GITHUB_ACTIONS: 'true', GITHUB_ACTOR: 'approver2-gh', GITHUB_TRIGGERING_ACTOR: 'approver2-gh', GITHUB_RUN_ID: '4242' };
    const started = await rotate(h, ['start', 'identity-center'], env);
    expect(started.code).toBe(0);
    const run = (await h.store.getRun(/opened run (\S+)/.exec(started.err)![1]!))!;
    expect(run.initiatorIdentity).toMatchObject({ tied: true, people: ['approver2'], github: { actor: 'approver2-gh', verifiedActor: 'approver2-gh' } });
    expect(run.initiator).toBe(`arn:aws:sts::${account}:assumed-role/keyrotor-pipeline/gh-approver2-gh-4242`);
  });

  it('GIVEN GITHUB_ACTOR set by hand on another role THEN the run is refused at start, before anything changes', async () => {
    h = await createHarness();
    await migrateToCmk(h);
    editConfig(h, (_k, c) => {
      c.people = [{ name: 'approver2', signers: ['approver2@example.com'], github: ['approver2-gh'] }];
    });
    const before = h.emulator.callLog().length;
    const refused = await rotate(h, ['start', 'identity-center'], { GITHUB_ACTIONS: 'true', GITHUB_ACTOR: 'approver2-gh', GITHUB_RUN_ID: '1' });
    expect(refused.code).toBe(2);
    expect(refused.err).toContain('cannot tell who is starting this run in approver terms');
    expect(refused.err).toContain('--signing-key');
    expect(h.emulator.callLog().slice(before).map((c) => c.operation)).toEqual(['GetCallerIdentity']);
  });
});
