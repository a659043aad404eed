/**
 * Crash safety of the multi-Region path (issue 12): every crash point — before and after every AWS
 * mutation, before every state write — of each stage that differs for a multi-Region key ring
 * (create-key with replication, verify-key, promote-alias in every Region, the soak disabling the
 * replica, schedule-deletion of the replica then the primary) and of a rotate-material run. Each
 * scenario starts from a prepared state (an emulator snapshot and a copy of the workspace taken
 * right before the stage), crashes once, resumes, and must reach the same end state with each
 * mutation made once, and the write-ahead audit complete.
 */
import { replicateIdentityCenter } from '../../emulator/organization-admin';
import { ListKeyRotationsCommand } from '@aws-sdk/client-kms';
import { cloneHarness, createHarness, migrateToCmk, stageStatuses, type Harness } from './harness';
import { CrashAt, expectEveryCallAudited } from './crash-support';
import type { EmulatorSnapshot } from '../../emulator';
import { SimulatedCrash } from '../../pipeline/engine/engine';
import type { CrashPoints } from '../../pipeline/engine/types';
import type { Run } from '../../pipeline/state/types';

const PRIMARY = 'us-east-1';
const REPLICA = 'eu-west-1';
const inRegion = (arn: string, region: string): string => arn.replace(`:${PRIMARY}:`, `:${region}:`);

interface Checkpoint {
  readonly frozen: Harness;
  readonly snapshot: EmulatorSnapshot;
}

/** The state right now, kept for scenarios: an emulator snapshot and a copy of the workspace nobody advances. */
async function checkpoint(base: Harness): Promise<Checkpoint> {
  const snapshot = base.emulator.snapshot();
  return { frozen: await cloneHarness(base, snapshot), snapshot };
}

let base: Harness;
let runId: string;
let oldKey: string;
let newKey: string;
let materialRunId: string;
const at: Record<string, Checkpoint> = {};

beforeAll(async () => {
  base = await createHarness({ quotas: false, emulator: { updateDelayMs: 5, regionDelayMs: 1, replicaDelayMs: 5, rotationDelayMs: 5 }, workspace: { checks: [], replicaRegions: [REPLICA], identityCenterRegions: [REPLICA] } });
  oldKey = (await migrateToCmk(base)).plan.newKeyArn!;
  await replicateIdentityCenter(base.clients.ssoAdmin, base.keyring.identityCenter!.instanceArn, REPLICA);
  const engine = base.engine();
  runId = (await engine.start(base.keyring.name, 'rotate')).id;
  const step = (): Promise<Run> => base.engine().advance(runId, { stageLimit: 1 });
  await step(); // preflight
  at['create-key'] = await checkpoint(base);
  newKey = (await step()).plan.newKeyArn!;
  at['verify-key'] = await checkpoint(base);
  await step();
  at['promote-alias'] = await checkpoint(base);
  await step(); // promote-alias
  await step(); // switch-identity-center
  await step(); // integration-checks
  at.soak = await checkpoint(base);
  await base.engine().advance(runId); // soak, then the gate waits
  await base.approveAll(runId);
  const ready = await base.engine().advance(runId);
  expect(stageStatuses(ready)['schedule-deletion']).toBe('waiting');
  at['schedule-deletion'] = await checkpoint(base);
  await base.engine().advance(runId, { allowDeletion: true });
  const material = base.engine();
  materialRunId = (await material.start(base.keyring.name, 'rotate-material')).id;
  await material.advance(materialRunId, { stageLimit: 1 }); // preflight
  at['rotate-key-material'] = await checkpoint(base);
}, 60_000);

afterAll(async () => {
  for (const c of Object.values(at)) await c.frozen.close();
  await base.close();
});

/** Successful mutating calls since the checkpoint, as `operation region`. */
function madeOnce(h: Harness): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of h.emulator.callLog().filter((c) => c.mutating && c.outcome === 'ok')) counts[`${c.operation} ${c.region}`] = (counts[`${c.operation} ${c.region}`] ?? 0) + 1;
  return counts;
}

type Act = (h: Harness, crash?: CrashPoints) => Promise<unknown>;

/**
 * Runs `stage` (the next stage of the run), or after a crash resumes it: a crash after the stage
 * was recorded done (at its last audit entry) leaves nothing of it to redo, so the resume then
 * only takes the run back (stage limit 0) instead of going on to the next stage.
 */
const runStage =
  (stage: string, run: () => string = () => runId): Act =>
  async (h, crash) => {
    const done = stageStatuses((await h.store.getRun(run()))!)[stage] === 'done';
    return h.engine(crash ? { options: { crashPoints: crash } } : {}).advance(run(), { stageLimit: done ? 0 : 1 });
  };

/**
 * Counts the crash points of `act` from the checkpoint, then for each: crash there, resume with
 * `act` again, and check the end state and the audit.
 */
async function everyCrashPoint(stage: string, act: Act, expectEnd: (h: Harness, label: string) => Promise<void>): Promise<readonly string[]> {
  const { frozen, snapshot } = at[stage]!;
  const counting = await cloneHarness(frozen, snapshot);
  const counter = new CrashAt(Number.POSITIVE_INFINITY);
  try {
    await act(counting, counter);
    await expectEnd(counting, `${stage}: no crash`);
  } finally {
    await counting.close();
  }
  for (let n = 1; n <= counter.count; n += 1) {
    const h = await cloneHarness(frozen, snapshot);
    try {
      const crash = new CrashAt(n);
      await expect(act(h, crash)).rejects.toBeInstanceOf(SimulatedCrash);
      const label = `${stage}: crash ${n} of ${counter.count} at ${crash.points[n - 1]}`;
      await act(h);
      await expectEnd(h, label);
      await expectEveryCallAudited(h, label);
      expect(await h.store.verifyAudit()).toEqual(expect.objectContaining({ ok: true }));
    } finally {
      await h.close();
    }
  }
  return counter.points;
}


describe('crash safety of a rotation on a multi-Region key ring', () => {
  it('create-key: one multi-Region primary and one replica, each made once, recorded in the ledger', async () => {
    const points = await everyCrashPoint('create-key', runStage('create-key'), async (h, label) => {
      const run = (await h.store.getRun(runId))!;
      expect({ label, stage: stageStatuses(run)['create-key'] }).toEqual({ label, stage: 'done' });
      const made = run.plan.newKeyArn!;
      expect({ label, primaries: h.emulator.listKeyArns(h.keyring.account, PRIMARY).length, replicas: h.emulator.listKeyArns(h.keyring.account, REPLICA).length }).toEqual({ label, primaries: 2, replicas: 2 });
      expect({ label, made: madeOnce(h) }).toEqual({ label, made: { [`CreateKey ${PRIMARY}`]: 1, [`EnableKeyRotation ${PRIMARY}`]: 1, [`ReplicateKey ${PRIMARY}`]: 1 } });
      expect(h.emulator.describeKeyState(inRegion(made, REPLICA))).toEqual(expect.objectContaining({ keyState: 'Enabled', policy: h.emulator.describeKeyState(made)!.policy }));
      const gen2 = (await h.store.getLedger(h.keyring.name))!.generations[1]!;
      expect({ label, gen2: [gen2.state, gen2.keyArn, gen2.replicas] }).toEqual({ label, gen2: ['candidate', made, [{ region: REPLICA, keyArn: inRegion(made, REPLICA), state: 'live' }]] });
    });
    expect(points).toEqual(expect.arrayContaining(['before:kms:CreateKey', 'after:kms:CreateKey', 'before:kms:ReplicateKey', 'after:kms:ReplicateKey', 'before-write:ledger']));
  }, 60_000);

  it('verify-key: reads only, in both Regions, whatever the crash', async () => {
    await everyCrashPoint('verify-key', runStage('verify-key'), async (h, label) => {
      expect({ label, stage: stageStatuses((await h.store.getRun(runId))!)['verify-key'] }).toEqual({ label, stage: 'done' });
      expect({ label, made: madeOnce(h) }).toEqual({ label, made: {} });
    });
  }, 60_000);

  it('promote-alias: the alias moves once in each Region', async () => {
    const points = await everyCrashPoint('promote-alias', runStage('promote-alias'), async (h, label) => {
      expect({ label, stage: stageStatuses((await h.store.getRun(runId))!)['promote-alias'] }).toEqual({ label, stage: 'done' });
      expect({ label, made: madeOnce(h) }).toEqual({ label, made: { [`UpdateAlias ${PRIMARY}`]: 1, [`UpdateAlias ${REPLICA}`]: 1 } });
      expect(h.emulator.listKeyArns(h.keyring.account, REPLICA)).toContain(inRegion(newKey, REPLICA));
      expect((await h.store.getLedger(h.keyring.name))!.generations.map((g) => g.state)).toEqual(['retiring', 'active']);
    });
    expect(points.filter((p) => p === 'after:kms:UpdateAlias')).toHaveLength(2);
  }, 60_000);

  it('soak: the old key is disabled once in each Region', async () => {
    await everyCrashPoint('soak', runStage('soak'), async (h, label) => {
      expect({ label, stage: stageStatuses((await h.store.getRun(runId))!).soak }).toEqual({ label, stage: 'done' });
      expect({ label, made: madeOnce(h) }).toEqual({ label, made: { [`DisableKey ${PRIMARY}`]: 1, [`DisableKey ${REPLICA}`]: 1 } });
      expect([h.emulator.describeKeyState(oldKey)!.keyState, h.emulator.describeKeyState(inRegion(oldKey, REPLICA))!.keyState]).toEqual(['Disabled', 'Disabled']);
    });
  }, 60_000);

  it('schedule-deletion: the replica, then the primary, each once; the primary waits in PendingReplicaDeletion and the run completes', async () => {
    const deleteStage = (h: Harness, crash?: CrashPoints): Promise<Run> => h.engine(crash ? { options: { crashPoints: crash } } : {}).advance(runId, { allowDeletion: true });
    const points = await everyCrashPoint('schedule-deletion', deleteStage, async (h, label) => {
      const run = (await h.store.getRun(runId))!;
      expect({ label, status: run.status }).toEqual({ label, status: 'completed' });
      expect({ label, made: madeOnce(h) }).toEqual({ label, made: { [`ScheduleKeyDeletion ${REPLICA}`]: 1, [`ScheduleKeyDeletion ${PRIMARY}`]: 1 } });
      const order = h.emulator.callLog().filter((c) => c.operation === 'ScheduleKeyDeletion' && c.outcome === 'ok').map((c) => c.region);
      expect({ label, order }).toEqual({ label, order: [REPLICA, PRIMARY] });
      expect([h.emulator.describeKeyState(oldKey)!.keyState, h.emulator.describeKeyState(inRegion(oldKey, REPLICA))!.keyState]).toEqual(['PendingReplicaDeletion', 'PendingDeletion']);
      const gen1 = (await h.store.getLedger(h.keyring.name))!.generations[0]!;
      expect({ label, gen1: [gen1.state, gen1.replicas?.[0]?.state] }).toEqual({ label, gen1: ['pending-deletion', 'pending-deletion'] });
      expect(await h.store.getLease(h.keyring.name)).toBeUndefined();
    });
    expect(points.filter((p) => p === 'after:kms:ScheduleKeyDeletion')).toHaveLength(2);
  }, 60_000);
});

describe('crash safety of rotate-material', () => {
  it('rotate-key-material: RotateKeyOnDemand is made once whatever the crash, and the stage ends with the rotation listed', async () => {
    const points = await everyCrashPoint('rotate-key-material', runStage('rotate-key-material', () => materialRunId), async (h, label) => {
      const run = (await h.store.getRun(materialRunId))!;
      expect({ label, stage: stageStatuses(run)['rotate-key-material'] }).toEqual({ label, stage: 'done' });
      expect({ label, made: madeOnce(h) }).toEqual({ label, made: { [`RotateKeyOnDemand ${PRIMARY}`]: 1 } });
      const listed = await h.clients.kms.send(new ListKeyRotationsCommand({ KeyId: newKey }));
      expect({ label, onDemand: (listed.Rotations ?? []).filter((r) => r.RotationType === 'ON_DEMAND').length }).toEqual({ label, onDemand: 1 });
    });
    expect(points).toEqual(expect.arrayContaining(['before:kms:RotateKeyOnDemand', 'after:kms:RotateKeyOnDemand']));
  }, 60_000);
});
