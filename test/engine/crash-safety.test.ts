/**
 * Crash safety, proven: a full rotation is interrupted at every AWS mutation and before every state
 * write (one crash per scenario), and also by killing a child `rotate advance` at seeded random
 * moments; resuming with `advance` must always converge to the same end state — exactly one new
 * key, no mutation made twice, an intact audit chain.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { DescribeKeyCommand } from '@aws-sdk/client-kms';
import { DescribeInstanceCommand } from '@aws-sdk/client-sso-admin';
import { createHarness, migrateToCmk, type Harness } from './harness';
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

/** The operator's view after a crash: continue the key ring's open run, or start one if none was saved. */
async function driveToCompletion(h: Harness, crash?: CrashPoints): Promise<Run> {
  for (let step = 0; step < 12; step += 1) {
    const engine = h.engine(crash ? { options: { crashPoints: crash } } : {});
    const runs = await h.store.listRuns({ keyring: h.keyring.name });
    let run = runs.filter((r) => r.kind === 'rotate').sort((a, b) => a.createdAt.localeCompare(b.createdAt)).pop();
    if (!run || run.status === 'rolled-back') run = await engine.start(h.keyring.name, 'rotate');
    // Advancing a completed run is how an operator finishes one whose last step crashed.
    run = await engine.advance(run.id);
    if (run.status === 'completed') return run;
    const gate = run.stages.find((s) => s.name === 'approval-gate');
    if (gate?.status === 'waiting' && run.approvals.length === 0) await h.approveAll(run.id);
  }
  throw new Error('rotation did not converge in 12 steps');
}

async function expectConvergedEndState(h: Harness, oldKey: string, label: string): Promise<void> {
  const run = (await h.store.listRuns({ keyring: h.keyring.name })).find((r) => r.kind === 'rotate' && r.status === 'completed');
  expect({ label, completed: Boolean(run) }).toEqual({ label, completed: true });
  const newKey = run!.plan.newKeyArn!;
  const keys = h.emulator.listKeyArns(h.keyring.account, h.keyring.region);
  expect({ label, keys: keys.length }).toEqual({ label, keys: 2 }); // generation 1 and exactly one new key
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
}

async function preparedHarness(): Promise<{ h: Harness; oldKey: string }> {
  const h = await createHarness({ emulator: { updateDelayMs: 5 } });
  const oldKey = (await migrateToCmk(h)).plan.newKeyArn!;
  h.emulator.clearCallLog();
  return { h, oldKey };
}

describe('crash safety of a full rotation', () => {
  it('converges to the same end state after a crash at every mutation and before every state write', async () => {
    // A clean run counts the crash points.
    const counting = await preparedHarness();
    const counter = new CrashAt(Number.POSITIVE_INFINITY);
    await driveToCompletion(counting.h, counter);
    await expectConvergedEndState(counting.h, counting.oldKey, 'no crash');
    await counting.h.close();
    const total = counter.count;
    expect(counter.points).toEqual(expect.arrayContaining(['after:kms:CreateKey', 'after:kms:UpdateAlias', 'after:sso:UpdateInstance', 'after:kms:ScheduleKeyDeletion', 'before-write:run', 'before-write:ledger', 'before-write:audit']));
    expect(total).toBeGreaterThan(40);
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
  }, 300_000);

  it('converges after a child `rotate advance` is killed at seeded random moments', async () => {
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
      const env = { ...process.env, KEYROTOR_OPERATOR: h.ws.operator, AWS_ACCESS_KEY_ID: 'AKIATESTOPERATOR', AWS_SECRET_ACCESS_KEY: 'test', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
      let kills = 0;
      for (let attempt = 0; attempt < 8; attempt += 1) {
        const child = spawn(process.execPath, [bin, '--config', h.ws.configPath, '--endpoint', h.emulator.endpoint, 'advance', run.id], { env, stdio: 'ignore' });
        const delay = 60 + Math.floor(random() * 500);
        const timer = setTimeout(() => child.kill('SIGKILL'), delay);
        const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
        clearTimeout(timer);
        if (code === null) kills += 1;
        const current = (await h.store.getRun(run.id))!;
        if (current.status === 'completed') break;
        const gate = current.stages.find((s) => s.name === 'approval-gate');
        if (gate?.status === 'waiting' && current.approvals.length === 0) await h.approveAll(run.id);
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
  it('converges to the old key after a crash at every point of a rollback of a switched rotation', async () => {
    const setUp = async (): Promise<{ h: Harness; oldKey: string; runId: string; newKey: string }> => {
      const { h, oldKey } = await preparedHarness();
      const engine = h.engine();
      const run = await engine.advance((await engine.start(h.keyring.name, 'rotate')).id); // waits at the gate, old key disabled
      return { h, oldKey, runId: run.id, newKey: run.plan.newKeyArn! };
    };
    const counting = await setUp();
    const counter = new CrashAt(Number.POSITIVE_INFINITY);
    await counting.h.engine({ options: { crashPoints: counter } }).rollback(counting.runId);
    await counting.h.close();
    expect(counter.count).toBeGreaterThan(10);

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
        // The rotation's five mutations up to the gate, then exactly one of each undo.
        expect({ label, undo: undoCalls.slice(5) }).toEqual({ label, undo: ['EnableKey', 'UpdateInstance', 'UpdateAlias', 'DisableKey'] });
        expect(await h.store.verifyAudit()).toEqual(expect.objectContaining({ ok: true }));
      } finally {
        await h.close();
      }
    }
  }, 300_000);
});
