/**
 * Crash safety, proven: a full rotation is interrupted at every crash point — before and after
 * every AWS mutation and before every state write — one crash per scenario, and also by killing a
 * child `rotate advance` at seeded random moments; resuming must always converge to the same end
 * state: exactly one new key, no mutation made twice, an intact audit chain, and an audit chain
 * that is complete: every mutating call AWS saw was written ahead as an intent, and every intent
 * ends with its outcome or with what a reconciliation read found.
 *
 * Speed: the starting states (Identity Center on generation 1; a rotation waiting at its gate) are
 * built once, and each scenario starts from a copy of the workspace and a restored emulator
 * snapshot; the SSH keys are made once; and the scenarios run without request quotas (the quota
 * tests live in rotation.test.ts). A scenario costs its own API calls and state writes only.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { DescribeKeyCommand } from '@aws-sdk/client-kms';
import { DescribeInstanceCommand } from '@aws-sdk/client-sso-admin';
import { cloneHarness, createHarness, migrateToCmk, stageStatuses, type Harness } from './harness';
import type { EmulatorSnapshot } from '../../emulator';
import { SimulatedCrash } from '../../pipeline/engine/engine';
import type { CrashPoints } from '../../pipeline/engine/types';
import type { Run } from '../../pipeline/state/types';

class CrashAt implements CrashPoints {
  count = 0;
  readonly points: string[] = [];
  constructor(private readonly at: number) {}
  hit(point: string): void {
    this.count += 1;
    this.points.push(point);
    if (this.count === this.at) throw new SimulatedCrash(point);
  }
}

/** Identity Center on generation 1 (a completed migrate-to-cmk): where every rotation starts. */
let migrated: { base: Harness; snapshot: EmulatorSnapshot; oldKey: string };
beforeAll(async () => {
  const base = await createHarness({ quotas: false, emulator: { updateDelayMs: 5 }, workspace: { checks: [] } });
  const oldKey = (await migrateToCmk(base)).plan.newKeyArn!;
  migrated = { base, snapshot: base.emulator.snapshot(), oldKey };
});
afterAll(() => migrated.base.close());

/** The operator's view after a crash: continue the key ring's open run, or start one if none was saved; delete once it is ready. */
async function driveToCompletion(h: Harness, crash?: CrashPoints): Promise<Run> {
  for (let step = 0; step < 14; step += 1) {
    const engine = h.engine(crash ? { options: { crashPoints: crash } } : {});
    const runs = await h.store.listRuns({ keyring: h.keyring.name });
    let run = runs.filter((r) => r.kind === 'rotate').sort((a, b) => a.createdAt.localeCompare(b.createdAt)).pop();
    if (!run || run.status === 'rolled-back' || run.status === 'cancelled') run = await engine.start(h.keyring.name, 'rotate');
    const ready = stageStatuses(run)['schedule-deletion'] === 'waiting';
    // Advancing a completed run is how an operator finishes one whose last step crashed.
    run = await engine.advance(run.id, { allowDeletion: ready });
    if (run.status === 'completed') return run;
    const gate = run.stages.find((s) => s.name === 'approval-gate');
    if (gate?.status === 'waiting' && run.approvals.length === 0) await h.approveAll(run.id);
  }
  throw new Error('rotation did not converge in 14 steps');
}

const awsName = (service: string, operation: string): string => `${service === 'sso-admin' ? 'sso' : service}:${operation}`;

/**
 * The write-ahead invariant: every mutating call the emulator answered has an `aws.intent` entry
 * for the same operation and target (CreateKey's target is only known after it answered), and
 * every intent ends in an outcome or a reconciliation entry.
 */
async function expectEveryCallAudited(h: Harness, label: string): Promise<void> {
  const audit = await h.store.readAudit();
  const intents = audit.filter((e) => e.action === 'aws.intent').map((e) => ({ operation: String(e.detail?.operation), target: String(e.detail?.target) }));
  const endings = audit.filter((e) => /^aws\.(ok|failed|reconciled-done|reconciled-not-done)$/.test(e.action)).map((e) => ({ operation: String(e.detail?.operation), target: String(e.detail?.target) }));
  const calls = h.emulator.callLog().filter((c) => c.mutating).map((c) => ({ operation: awsName(c.service, c.operation), target: c.target ?? '' }));
  const count = <T extends { operation: string; target: string }>(list: readonly T[], keyOf: (x: T) => string): Record<string, number> =>
    list.reduce<Record<string, number>>((acc, x) => ({ ...acc, [keyOf(x)]: (acc[keyOf(x)] ?? 0) + 1 }), {});
  const byTarget = (x: { operation: string; target: string }): string => (x.operation === 'kms:CreateKey' ? x.operation : `${x.operation} ${x.target}`);
  const intentCounts = count(intents, byTarget);
  const unaudited = Object.entries(count(calls, byTarget)).filter(([k, n]) => (intentCounts[k] ?? 0) < n);
  expect({ label, unaudited }).toEqual({ label, unaudited: [] });
  const endingCounts = count(endings, (x) => `${x.operation} ${x.target}`);
  const unfinished = Object.entries(count(intents, (x) => `${x.operation} ${x.target}`)).filter(([k, n]) => (endingCounts[k] ?? 0) < n);
  expect({ label, unfinished }).toEqual({ label, unfinished: [] });
}

async function expectConvergedEndState(h: Harness, oldKey: string, label: string): Promise<void> {
  const run = (await h.store.listRuns({ keyring: h.keyring.name })).find((r) => r.kind === 'rotate' && r.status === 'completed');
  expect({ label, completed: Boolean(run) }).toEqual({ label, completed: true });
  const newKey = run!.plan.newKeyArn!;
  const keyArns = h.emulator.listKeyArns(h.keyring.account, h.keyring.region);
  expect({ label, keys: keyArns.length }).toEqual({ label, keys: 2 }); // generation 1 and exactly one new key
  expect(h.emulator.describeKeyState(oldKey)!.keyState).toBe('PendingDeletion');
  expect(h.emulator.describeKeyState(newKey)!.keyState).toBe('Enabled');
  expect((await h.clients.kms.send(new DescribeKeyCommand({ KeyId: h.keyring.alias }))).KeyMetadata!.Arn).toBe(newKey);
  const instance = await h.clients.ssoAdmin.send(new DescribeInstanceCommand({ InstanceArn: h.keyring.identityCenter!.instanceArn }));
  expect(instance.EncryptionConfigurationDetails).toEqual(expect.objectContaining({ KmsKeyArn: newKey, EncryptionStatus: 'ENABLED' }));

  const successful = h.emulator.callLog().filter((c) => c.mutating && c.outcome === 'ok');
  const perOperation: Record<string, number> = {};
  for (const c of successful) perOperation[c.operation] = (perOperation[c.operation] ?? 0) + 1;
  expect({ label, perOperation }).toEqual({
    label,
    perOperation: { CreateKey: 1, EnableKeyRotation: 1, UpdateAlias: 1, UpdateInstance: 1, DisableKey: 1, ScheduleKeyDeletion: 1 },
  });

  const ledger = (await h.store.getLedger(h.keyring.name))!;
  expect(ledger.generations.map((g) => [g.generation, g.state, g.keyArn])).toEqual([
    [1, 'pending-deletion', oldKey],
    [2, 'active', newKey],
  ]);
  expect(await h.store.verifyAudit()).toEqual(expect.objectContaining({ ok: true }));
  expect(await h.store.getLease(h.keyring.name)).toBeUndefined();
  expect(await h.store.getRunLock(run!)).toBeUndefined();
  await expectEveryCallAudited(h, label);
}

async function preparedHarness(): Promise<{ h: Harness; oldKey: string }> {
  return { h: await cloneHarness(migrated.base, migrated.snapshot), oldKey: migrated.oldKey };
}

describe('crash safety of a full rotation', () => {
  it('converges to the same end state, with every call audited, after a crash at every point', async () => {
    // A clean run counts the crash points.
    const counting = await preparedHarness();
    const counter = new CrashAt(Number.POSITIVE_INFINITY);
    await driveToCompletion(counting.h, counter);
    await expectConvergedEndState(counting.h, counting.oldKey, 'no crash');
    await counting.h.close();
    const total = counter.count;
    expect(counter.points).toEqual(
      expect.arrayContaining([
        'before:kms:CreateKey',
        'after:kms:CreateKey',
        'after:kms:UpdateAlias',
        'before:sso:UpdateInstance',
        'after:sso:UpdateInstance',
        'after:kms:ScheduleKeyDeletion',
        'before-write:run',
        'before-write:ledger',
        'before-write:audit',
        'before-write:lease',
      ]),
    );
    expect(total).toBeGreaterThan(60);
    process.stdout.write(`crash points in one rotation: ${total}\n`);

    for (let at = 1; at <= total; at += 1) {
      const { h, oldKey } = await preparedHarness();
      try {
        const crash = new CrashAt(at);
        await expect(driveToCompletion(h, crash)).rejects.toBeInstanceOf(SimulatedCrash);
        await driveToCompletion(h);
        await expectConvergedEndState(h, oldKey, `crash ${at} of ${total} at ${crash.points[at - 1]}`);
      } finally {
        await h.close();
      }
    }
  }, 240_000);

  it('converges, with every call audited, after a child `rotate advance` is killed at seeded random moments', async () => {
    const { h, oldKey } = await preparedHarness();
    try {
      const engine = h.engine();
      const run = await engine.start(h.keyring.name, 'rotate');
      let seed = 20261123;
      const random = (): number => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31; // LCG: the same moments on every test run
        return seed / 2 ** 31;
      };
      const bin = path.resolve(__dirname, '../../bin/rotate.js');
      const env = { ...process.env, KEYROTOR_OPERATOR: h.ws.operator, KEYROTOR_APPROVALS_DIR: h.ws.approvalsDir, AWS_ACCESS_KEY_ID: 'AKIATESTOPERATOR', AWS_SECRET_ACCESS_KEY: 'test', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
      let kills = 0;
      for (let attempt = 0; attempt < 10; attempt += 1) {
        const current = (await h.store.getRun(run.id))!;
        const command = stageStatuses(current)['schedule-deletion'] === 'waiting' ? ['delete', run.id, '--yes'] : ['advance', run.id];
        const child = spawn(process.execPath, [bin, '--config', h.ws.configPath, '--endpoint', h.emulator.endpoint, ...command], { env, stdio: 'ignore' });
        const delay = 60 + Math.floor(random() * 500);
        const timer = setTimeout(() => child.kill('SIGKILL'), delay);
        const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
        clearTimeout(timer);
        if (code === null) kills += 1;
        const after = (await h.store.getRun(run.id))!;
        if (after.status === 'completed') break;
        const gate = after.stages.find((s) => s.name === 'approval-gate');
        if (gate?.status === 'waiting' && after.approvals.length === 0) await h.approveAll(run.id);
      }
      expect(kills).toBeGreaterThan(0);
      await driveToCompletion(h);
      await expectConvergedEndState(h, oldKey, `after ${kills} kills`);
    } finally {
      await h.close();
    }
  }, 120_000);
});

describe('crash safety of a rollback', () => {
  it('converges to the old key, with every call audited, after a crash at every point of a rollback of a switched rotation', async () => {
    // The starting state, built once: a rotation waiting at its gate, old key disabled.
    const atGate = await preparedHarness();
    const engine = atGate.h.engine();
    const waiting = await engine.advance((await engine.start(atGate.h.keyring.name, 'rotate')).id);
    const gateSnapshot = atGate.h.emulator.snapshot();
    const setUp = async (): Promise<{ h: Harness; oldKey: string; runId: string; newKey: string }> => {
      const h = await cloneHarness(atGate.h, gateSnapshot);
      return { h, oldKey: atGate.oldKey, runId: waiting.id, newKey: waiting.plan.newKeyArn! };
    };
    const counting = await setUp();
    const counter = new CrashAt(Number.POSITIVE_INFINITY);
    await counting.h.engine({ options: { crashPoints: counter } }).rollback(counting.runId);
    await counting.h.close();
    expect(counter.count).toBeGreaterThan(20);

    for (let at = 1; at <= counter.count; at += 1) {
      const { h, oldKey, runId, newKey } = await setUp();
      try {
        await expect(h.engine({ options: { crashPoints: new CrashAt(at) } }).rollback(runId)).rejects.toBeInstanceOf(SimulatedCrash);
        const run = await h.engine().rollback(runId);
        const label = `crash ${at} of ${counter.count}`;
        expect({ label, status: run.status }).toEqual({ label, status: 'rolled-back' });
        expect((await h.clients.kms.send(new DescribeKeyCommand({ KeyId: h.keyring.alias }))).KeyMetadata!.Arn).toBe(oldKey);
        const instance = await h.clients.ssoAdmin.send(new DescribeInstanceCommand({ InstanceArn: h.keyring.identityCenter!.instanceArn }));
        expect(instance.EncryptionConfigurationDetails).toEqual(expect.objectContaining({ KmsKeyArn: oldKey, EncryptionStatus: 'ENABLED' }));
        expect(h.emulator.describeKeyState(oldKey)!.keyState).toBe('Enabled');
        expect(h.emulator.describeKeyState(newKey)!.keyState).toBe('Disabled');
        expect((await h.store.getLedger(h.keyring.name))!.generations.map((g) => g.state)).toEqual(['active', 'abandoned']);
        const undoCalls = h.emulator.callLog().filter((c) => c.mutating && c.outcome === 'ok').map((c) => c.operation);
        // The call log starts at the gate (the snapshot): exactly one of each undo.
        expect({ label, undo: undoCalls }).toEqual({ label, undo: ['EnableKey', 'UpdateInstance', 'UpdateAlias', 'DisableKey'] });
        expect(await h.store.verifyAudit()).toEqual(expect.objectContaining({ ok: true }));
        await expectEveryCallAudited(h, label);
      } finally {
        await h.close();
      }
    }
    await atGate.h.close();
  }, 240_000);
});
