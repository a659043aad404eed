/**
 * Fleet runs through the real CLI against the emulator, as CI's one identity: selection, a full
 * rotation of key rings in two accounts (each acting as its own account's role), one progress
 * summary with exit codes, approvals signed in one sitting (one signature per run), isolation of
 * a failing key ring, and the shared rate limiter at the real KMS quotas.
 */
import { fleetExitCode, ExitCode } from '../../pipeline/errors';
import { selectKeyRings } from '../../pipeline/fleet/selection';
import { loadConfig } from '../../pipeline/config/load';
import { FileStateStore } from '../../pipeline/state/file-store';
import { openRunsByKeyring } from '../../pipeline/fleet/fleet-run';
import { approveToFile } from '../../pipeline/approvals/approve';
import { createDemoWorkspace, type DemoWorkspace } from '../../scripts/demo/workspace';
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { createOrg, adoptAll, type Org } from './helpers';

const A = '111111111111';
const B = '222222222222';

let keys: DemoWorkspace;
let keysDir: string;
beforeAll(async () => {
  keysDir = await mkdtemp(path.join(os.tmpdir(), 'keyrotor-fleet-keys-'));
  keys = await createDemoWorkspace(keysDir);
});
afterAll(async () => rm(keysDir, { recursive: true, force: true }));

let org: Org | undefined;
afterEach(async () => {
  await org?.close();
  org = undefined;
});

type Outcome = { keyring: string; outcome: string; stage?: string; waitingFor?: string; runId?: string; exitCode: number; summary: string };

describe('selection', () => {
  const keyring = (name: string, account: string, region: string, tags: Record<string, string> = {}) => ({ name, account, region, tags }) as never;
  const config = { file: '/repo/keyrings.json', keyrings: [keyring('pay-a', A, 'us-east-1', { team: 'payments' }), keyring('pay-b', B, 'eu-west-1', { team: 'payments' }), keyring('logs', A, 'eu-west-1', { team: 'security' })] };
  const names = (selector: Parameters<typeof selectKeyRings>[1]) => selectKeyRings(config, selector).map((k) => k.name);

  it('GIVEN --all THEN every key ring, in config order', () => expect(names({ all: true })).toEqual(['pay-a', 'pay-b', 'logs']));
  it('GIVEN selectors of one kind THEN any of them; of different kinds THEN all of them', () => {
    expect(names({ accounts: [A] })).toEqual(['pay-a', 'logs']);
    expect(names({ regions: ['eu-west-1', 'us-east-1'], accounts: [A] })).toEqual(['pay-a', 'logs']);
    expect(names({ names: ['pay-*'], regions: ['eu-west-1'] })).toEqual(['pay-b']);
    expect(names({ tags: ['team=security'] })).toEqual(['logs']);
    expect(names({ tags: ['team'] })).toEqual(['pay-a', 'pay-b', 'logs']);
  });
  it('GIVEN no selector THEN it is refused: a forgotten flag never means everything', () => {
    expect(() => names({})).toThrow(/say which key rings the fleet command acts on/);
  });
  it('GIVEN an unknown account, Region or name, or a selection that matches nothing THEN each is named with what exists', () => {
    expect(() => names({ accounts: ['333333333333'] })).toThrow(/--account 333333333333: no key ring .* in that account/);
    expect(() => names({ regions: ['ap-south-1'] })).toThrow(/--region ap-south-1/);
    expect(() => names({ names: ['nope*'] })).toThrow(/--name nope\*: matches no key ring/);
    expect(() => names({ accounts: [B], regions: ['us-east-1'] })).toThrow(/no key ring matches account 222222222222, Region us-east-1/);
    expect(() => names({ all: true, accounts: [A] })).toThrow(/--all cannot be combined/);
  });
});

describe('exit codes', () => {
  it('GIVEN key ring outcomes THEN none failed → 0, some failed → fleetPartial, all failed → the most severe', () => {
    expect(fleetExitCode([0, 0])).toBe(ExitCode.ok);
    expect(fleetExitCode([0, 3])).toBe(ExitCode.fleetPartial);
    expect(fleetExitCode([2, 3, 2])).toBe(ExitCode.awsError);
    expect(fleetExitCode([2, 4])).toBe(ExitCode.internalError);
  });
});

describe('a fleet rotation from one CI identity', () => {
  it('GIVEN key rings in two accounts WHEN fleet start, advance, approve, advance, delete THEN each completes with its own run, each account is acted on by its own role, and approvals are one signature per run', async () => {
    org = await createOrg({ accounts: [A, B], regions: ['us-east-1'], perGroup: 2, keysFrom: keys, emulator: { quotas: false } });
    await adoptAll(org);
    org.emulator.clearCallLog();
    const signing = ['--signing-key', org.ws.operatorKeyPath];

    const started = await org.json(['fleet', 'start', '--all', ...signing]);
    expect(started.code).toBe(0);
    expect(started.body.outcomes.map((o: Outcome) => [o.outcome, o.stage])).toEqual(Array(4).fill(['open', 'create-key']));
    const runIds = started.body.outcomes.map((o: Outcome) => o.runId);
    expect(new Set(runIds).size).toBe(4);

    org.emulator.clearCallLog();
    const atGate = await org.json(['fleet', 'advance', '--all']);
    expect(atGate.code).toBe(0);
    // One AssumeRole per account for the whole command, whatever the number of key rings.
    const assumed = org.emulator.callLog().filter((c) => c.operation === 'AssumeRole');
    expect(assumed.map((c) => [c.caller, c.target]).sort()).toEqual([[org.ws.ci.sessionArn, org.ws.pipelineRoles[A]], [org.ws.ci.sessionArn, org.ws.pipelineRoles[B]]]);
    expect(atGate.body.outcomes.map((o: Outcome) => [o.outcome, o.stage, o.waitingFor])).toEqual(Array(4).fill(['waiting', 'approval-gate', 'people']));

    // The operator started the runs: they cannot approve any of them, each refusal named.
    const self = await org.json(['fleet', 'approve', '--all', '--signing-key', org.ws.operatorKeyPath, '--yes']);
    expect(self.code).toBe(ExitCode.notSatisfied);
    expect(self.body.refused).toHaveLength(4);
    expect(self.body.refused[0].reason).toMatch(/run .*'s initiator is recorded as you, so you cannot approve it/);

    for (const approver of org.ws.approvers) {
      const approved = await org.rotate(['fleet', 'approve', '--all', '--signing-key', approver.privateKeyPath, '--yes']);
      expect(approved.code).toBe(0);
      // Shown together: every run's deletion listed before anything is signed.
      expect(approved.out).toMatch(/You are about to approve 4 deletion\(s\), one signature per run/);
      expect(approved.out.match(/^signed: /gm)).toHaveLength(4);
    }

    const ready = await org.json(['fleet', 'advance', '--all']);
    expect(ready.body.outcomes.map((o: Outcome) => [o.stage, o.waitingFor])).toEqual(Array(4).fill(['schedule-deletion', 'people']));
    const notConfirmed = await org.rotate(['fleet', 'delete', '--all']);
    expect(notConfirmed.code).toBe(ExitCode.operatorError);
    expect(notConfirmed.err).toContain('rotate fleet delete needs confirmation: this would schedule the deletion of 4 key(s)');

    const deleted = await org.json(['fleet', 'delete', '--all', '--yes']);
    expect(deleted.code).toBe(0);
    expect(deleted.body.outcomes.map((o: Outcome) => o.outcome)).toEqual(Array(4).fill('completed'));

    // Each key ring kept its own run and lease; every key ring is now on generation 2.
    const store = new FileStateStore(org.ws.stateDir);
    for (const [i, name] of org.ws.keyringNames.entries()) {
      const run = (await store.getRun(runIds[i]))!;
      expect(run.keyring).toBe(name);
      expect(await store.getLease(name)).toBeUndefined();
      expect((await store.getLedger(name))!.generations.map((g) => g.state)).toEqual(['pending-deletion', 'active']);
    }
    expect((await store.verifyAudit()).ok).toBe(true);

    // Each account was acted on by its own pipeline role, assumed from the CI identity.
    const kms = org.emulator.callLog().filter((c) => c.service === 'kms');
    for (const account of [A, B]) {
      expect(new Set(kms.filter((c) => c.account === account).map((c) => c.caller))).toEqual(new Set([`arn:aws:sts::${account}:assumed-role/keyrotor-pipeline/gh-operator-1`]));
    }
  });

  it('GIVEN one account whose pipeline role refuses the CI identity WHEN `fleet advance --all` THEN that account\'s key rings fail with the AssumeRole error, the other account\'s advance, and the command exits 14', async () => {
    org = await createOrg({ accounts: [A, B], regions: ['us-east-1'], perGroup: 1, keysFrom: keys, emulator: { quotas: false } });
    await adoptAll(org);
    expect((await org.json(['fleet', 'start', '--all', '--signing-key', org.ws.operatorKeyPath])).code).toBe(0);
    org.emulator.addRole({ arn: `arn:aws:iam::${B}:role/keyrotor-pipeline`, trustedPrincipals: ['arn:aws:iam::999999999999:root'] });
    const result = await org.json(['fleet', 'advance', '--all']);
    expect(result.code).toBe(14);
    const byAccount = (account: string) => result.body.outcomes.filter((o: { account: string }) => o.account === account);
    expect(byAccount(A).map((o: { outcome: string; stage?: string }) => [o.outcome, o.stage])).toEqual([['waiting', 'approval-gate']]);
    expect(byAccount(B).map((o: { outcome: string; summary: string }) => [o.outcome, o.summary])).toEqual([['failed', expect.stringContaining(`cannot act as arn:aws:iam::${B}:role/keyrotor-pipeline`)]]);
    expect(result.err).toContain(`warning: ${B}/us-east-1: cannot act as arn:aws:iam::${B}:role/keyrotor-pipeline`);
  });

  it('GIVEN fleet status and plan THEN one line per key ring says where it stands, and plan gives the quota floor without calling AWS', async () => {
    org = await createOrg({ accounts: [A], regions: ['us-east-1', 'eu-west-1'], perGroup: 2, keysFrom: keys, emulator: { quotas: false } });
    await adoptAll(org);
    org.emulator.clearCallLog();
    const plan = await org.rotate(['fleet', 'plan', '--all']);
    expect(plan.code).toBe(0);
    expect(plan.out).toContain('fleet plan: rotate of 4 key ring(s)');
    // The delete phase's floor is its last-use re-reads (GetKeyLastUsage at 5/s), not ScheduleKeyDeletion (15/s).
    expect(plan.out).toMatch(/quota floor: 0\.2 s for `fleet advance` \(2 × CreateKey at 5\/s in 111111111111\/(us-east-1|eu-west-1)\), 0\.2 s for `fleet delete` \(2 × GetKeyLastUsage at 5\/s/);
    expect(org.emulator.callLog()).toEqual([]);

    const status = await org.rotate(['fleet', 'status', '--region', 'eu-west-1']);
    expect(status.code).toBe(0);
    expect(status.out).toMatch(/^fleet: 2 key ring\(s\): 2 skipped; exit 0/m);
    expect(status.out).toContain('no open run');

    const empty = await org.rotate(['fleet', 'status']);
    expect(empty.code).toBe(ExitCode.operatorError);
    expect(empty.err).toContain('say which key rings the fleet command acts on');
  });
});

describe('fleet run: each key ring as far as it goes on its own', () => {
  it('GIVEN approvers who sign as runs reach their gates WHEN `fleet run --wait-for-people --delete --yes` THEN every key ring goes from start to scheduled deletion in one command; without --yes the deletion is refused before anything starts', async () => {
    org = await createOrg({ accounts: [A, B], regions: ['us-east-1'], perGroup: 1, keysFrom: keys, emulator: { quotas: false } });
    await adoptAll(org);
    const refused = await org.rotate(['fleet', 'run', '--all', '--delete']);
    expect(refused.code).toBe(ExitCode.operatorError);
    expect(refused.err).toContain('rotate fleet run --delete needs confirmation: it would schedule the deletion of the old key of 2 key ring(s)');
    const store = new FileStateStore(org.ws.stateDir);
    expect(await openRunsByKeyring(store)).toEqual(new Map());

    const running = org.json(['fleet', 'run', '--all', '--signing-key', org.ws.operatorKeyPath, '--wait-for-people', '60s', '--delete', '--yes']);
    let finished = false;
    void running.finally(() => (finished = true));
    // The approvers, scripted: each signs every run waiting at its gate, once.
    const signed = new Set<string>();
    while (!finished && signed.size < 2) {
      for (const run of (await openRunsByKeyring(store)).values()) {
        if (signed.has(run.id) || run.stages.find((st) => st.name === 'approval-gate')?.status !== 'waiting') continue;
        for (const approver of org.ws.approvers) await approveToFile({ store, runId: run.id, signingKeyPath: approver.privateKeyPath, approvalsDir: org.ws.approvalsDir, now: new Date() });
        signed.add(run.id);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const result = await running;
    expect(result.code).toBe(0);
    expect(result.body.outcomes.map((o: Outcome) => o.outcome)).toEqual(['completed', 'completed']);
    for (const name of org.ws.keyringNames) expect((await store.getLedger(name))!.generations.map((g) => g.state)).toEqual(['pending-deletion', 'active']);
  });

  it('GIVEN no approvals and no wait WHEN `fleet run` THEN each key ring stops at its gate, waiting for people', async () => {
    org = await createOrg({ accounts: [A], regions: ['us-east-1'], perGroup: 2, keysFrom: keys, emulator: { quotas: false } });
    await adoptAll(org);
    const result = await org.json(['fleet', 'run', '--all', '--signing-key', org.ws.operatorKeyPath]);
    expect(result.code).toBe(0);
    expect(result.body.outcomes.map((o: Outcome) => [o.outcome, o.stage, o.waitingFor])).toEqual(Array(2).fill(['waiting', 'approval-gate', 'people']));
  });
});

describe('isolation', () => {
  it('GIVEN one key ring whose alias move AWS refuses WHEN the fleet advances THEN only that key ring fails, with its own run and reason; the others reach the gate; advancing again resumes it', async () => {
    org = await createOrg({ accounts: [A], regions: ['us-east-1'], perGroup: 3, keysFrom: keys, emulator: { quotas: false } });
    await adoptAll(org);
    expect((await org.json(['fleet', 'start', '--all', '--signing-key', org.ws.operatorKeyPath])).code).toBe(0);
    org.emulator.failNext('kms:UpdateAlias', 1, { code: 'AccessDeniedException', message: 'injected: the alias move is refused once' });

    const advanced = await org.json(['fleet', 'advance', '--all']);
    const outcomes = advanced.body.outcomes as Outcome[];
    const failed = outcomes.filter((o) => o.outcome === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.stage).toBe('promote-alias');
    expect(failed[0]!.summary).toContain('injected: the alias move is refused once');
    expect(failed[0]!.exitCode).toBe(ExitCode.operatorError);
    expect(outcomes.filter((o) => o.outcome === 'waiting' && o.stage === 'approval-gate')).toHaveLength(2);
    expect(advanced.code).toBe(ExitCode.fleetPartial);

    const store = new FileStateStore(org.ws.stateDir);
    const failedRun = (await store.getRun(failed[0]!.runId!))!;
    expect(failedRun.status).toBe('failed');
    expect(await store.getLease(failed[0]!.keyring)).toMatchObject({ runId: failedRun.id });
    expect((await store.verifyAudit()).ok).toBe(true);

    const again = await org.json(['fleet', 'advance', '--name', failed[0]!.keyring]);
    expect(again.code).toBe(0);
    expect(again.body.outcomes).toEqual([expect.objectContaining({ keyring: failed[0]!.keyring, outcome: 'waiting', stage: 'approval-gate' })]);
  });
});

describe('the shared rate limiter at the real KMS quotas', () => {
  it('GIVEN six key rings in one account+Region (more CreateKeys at once than the quota\'s one-second burst) WHEN the fleet rotates them concurrently THEN no call is throttled by AWS: the one limiter spaced them', async () => {
    org = await createOrg({ accounts: [A], regions: ['us-east-1'], perGroup: 6, keysFrom: keys });
    await adoptAll(org);
    expect((await org.json(['fleet', 'start', '--all', '--signing-key', org.ws.operatorKeyPath])).code).toBe(0);
    const advanced = await org.json(['fleet', 'advance', '--all']);
    expect(advanced.body.outcomes.map((o: Outcome) => o.stage)).toEqual(Array(6).fill('approval-gate'));
    // The emulator enforces the quotas: a burst of six CreateKeys would have drawn a ThrottlingException.
    expect(org.emulator.callLog().filter((c) => c.outcome === 'ThrottlingException')).toEqual([]);
    const buckets = advanced.body.rateLimiter.buckets as Record<string, { calls: number; waited: number }>;
    // All six CreateKeys asked at once: five waited for their slot. The later buckets are fed at
    // CreateKey's pace already (the key rings are pipelined), so they wait less.
    expect(buckets[`${A}|us-east-1|kms|CreateKey`]).toEqual(expect.objectContaining({ calls: 6, waited: 5 }));
    for (const op of ['UpdateAlias', 'DisableKey']) expect(buckets[`${A}|us-east-1|kms|${op}`]).toEqual(expect.objectContaining({ calls: 6 }));
    expect(advanced.body.timing.rateLimiterWaitingWallMs).toBeGreaterThan(900);
  });
});

describe('two fleet commands at once, in one process', () => {
  it('GIVEN two `fleet advance --all` at once THEN every key ring is advanced once; the command that found a run in the other\'s hands reports it busy (exit 0 for the command)', async () => {
    org = await createOrg({ accounts: [A], regions: ['us-east-1'], perGroup: 3, keysFrom: keys, emulator: { quotas: false } });
    await adoptAll(org);
    expect((await org.json(['fleet', 'start', '--all', '--signing-key', org.ws.operatorKeyPath])).code).toBe(0);
    org.emulator.clearCallLog(); // generation 1 of each key ring was created by the set-up
    org.emulator.setLatency('*', 20);
    const [first, second] = await Promise.all([org.json(['fleet', 'advance', '--all']), org.json(['fleet', 'advance', '--all'])]);
    org.emulator.setLatency('*', 0);
    expect([first.code, second.code]).toEqual([0, 0]);
    const outcomes = [...first.body.outcomes, ...second.body.outcomes] as Outcome[];
    expect(outcomes.filter((o) => o.outcome === 'failed')).toEqual([]);
    for (const name of org.ws.keyringNames) {
      const mine = outcomes.filter((o) => o.keyring === name);
      expect(mine.some((o) => o.outcome === 'waiting' && o.stage === 'approval-gate')).toBe(true);
      for (const o of mine.filter((x) => x.outcome !== 'waiting')) expect([o.outcome, o.summary]).toEqual(['busy', expect.stringMatching(/is being acted on by .*; nothing was changed/)]);
    }
    // Each key ring's CreateKey happened once.
    expect(org.emulator.callLog().filter((c) => c.operation === 'CreateKey' && c.outcome === 'ok')).toHaveLength(org.ws.keyringNames.length);
  });
});

describe('drift across accounts', () => {
  it('GIVEN key rings in two accounts WHEN `rotate drift` runs as the CI identity THEN each account is read through its own role and every key ring is checked (none "not checked")', async () => {
    org = await createOrg({ accounts: [A, B], regions: ['us-east-1'], perGroup: 1, keysFrom: keys, emulator: { quotas: false } });
    await adoptAll(org);
    org.emulator.clearCallLog();
    const drift = await org.json(['drift']);
    expect(drift.body.keyrings.map((k: { name: string; error?: unknown }) => [k.name, k.error])).toEqual(org.ws.keyringNames.map((name) => [name, undefined]));
    const kmsCallers = new Set(org.emulator.callLog().filter((c) => c.service === 'kms').map((c) => `${c.account} ${c.caller}`));
    expect(kmsCallers).toEqual(new Set([A, B].map((account) => `${account} arn:aws:sts::${account}:assumed-role/keyrotor-pipeline/gh-operator-1`)));
 
    // The JSON names every AWS context it talked to, not only the first.
    expect(drift.body.context.account).toBe(A);
    expect(drift.body.contexts.map((c: { account: string; callerArn: string }) => [c.account, c.callerArn])).toEqual(
      [A, B].map((account) => [account, `arn:aws:sts::${account}:assumed-role/keyrotor-pipeline/gh-operator-1`]),
    );
  });
});

describe('config of a fleet workspace', () => {
  it('GIVEN the workspace THEN each key ring takes its account\'s pipeline role from `access` (declared once)', async () => {
    org = await createOrg({ accounts: [A, B], regions: ['us-east-1'], perGroup: 1, keysFrom: keys, emulator: { quotas: false } });
    const config = loadConfig(org.ws.configPath);
    expect(config.keyrings.map((k) => k.pipelineRole)).toEqual([`arn:aws:iam::${A}:role/keyrotor-pipeline`, `arn:aws:iam::${B}:role/keyrotor-pipeline`]);
  });
});

describe('opening key rings a few at a time', () => {
  it('GIVEN a semaphore of 4 WHEN 20 callers arrive at once THEN never more than 4 are inside, and all finish in arrival order of entry', async () => {
    const { semaphore } = await import('../../pipeline/fleet/fleet-run');
    const gate = semaphore(4);
    let inside = 0;
    let most = 0;
    const entered: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        gate(async () => {
          entered.push(i);
          inside += 1;
          most = Math.max(most, inside);
          await new Promise((resolve) => setImmediate(resolve));
          inside -= 1;
        }),
      ),
    );
    expect(most).toBe(4);
    expect(entered).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });
});
