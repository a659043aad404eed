/**
 * `rotate` on a multi-Region key ring (issue 12), end to end against the emulator: a two-Region
 * Identity Center, a multi-Region primary in us-east-1 with a replica in eu-west-1. The
 * organization is prepared once (migrate-to-cmk, then Identity Center replicated to eu-west-1) and
 * each scenario starts from a copy of it.
 */
import { DescribeInstanceCommand, RemoveRegionCommand } from '@aws-sdk/client-sso-admin';
import { replicateIdentityCenter } from '../../emulator/organization-admin';
import { CreateKeyCommand, DeleteAliasCommand, DescribeKeyCommand, DisableKeyCommand, EnableKeyCommand, PutKeyPolicyCommand, UpdateAliasCommand } from '@aws-sdk/client-kms';
import { cloneHarness, createHarness, migrateToCmk, stageStatuses, type Harness } from './harness';
import type { EmulatorSnapshot } from '../../emulator';
import { loadConfig } from '../../pipeline/config/load';
import type { Run } from '../../pipeline/state/types';
import { rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { buildPayload, describePayload } from '../../pipeline/approvals/payload';
import { runDrift } from '../../pipeline/drift/run-drift';
import { SimulatedCrash } from '../../pipeline/engine/engine';
import type { CrashPoints } from '../../pipeline/engine/types';

const PRIMARY = 'us-east-1';
const REPLICA = 'eu-west-1';
const inRegion = (arn: string, region: string): string => arn.replace(`:${PRIMARY}:`, `:${region}:`);

async function aliasIn(h: Harness, region: string): Promise<string | undefined> {
  return (await h.clientsIn(region).kms.send(new DescribeKeyCommand({ KeyId: h.keyring.alias }))).KeyMetadata?.Arn;
}

async function instanceKey(h: Harness): Promise<string | undefined> {
  const out = await h.clients.ssoAdmin.send(new DescribeInstanceCommand({ InstanceArn: h.keyring.identityCenter!.instanceArn }));
  return out.EncryptionConfigurationDetails?.EncryptionStatus === 'ENABLED' ? out.EncryptionConfigurationDetails.KmsKeyArn : `not ENABLED: ${out.EncryptionConfigurationDetails?.EncryptionStatus}`;
}

async function toGate(h: Harness): Promise<Run> {
  const engine = h.engine();
  return engine.advance((await engine.start(h.keyring.name, 'rotate')).id);
}

async function toCompletion(h: Harness, run: Run): Promise<Run> {
  await h.approveAll(run.id);
  const approved = await h.engine().advance(run.id);
  return h.engine().advance(approved.id, { allowDeletion: true });
}

const EMULATOR = { quotas: false, emulator: { updateDelayMs: 5, regionDelayMs: 1, replicaDelayMs: 5, rotationDelayMs: 5 } } as const;

let prepared: { base: Harness; snapshot: EmulatorSnapshot; oldKey: string };
beforeAll(async () => {
  const base = await createHarness({ ...EMULATOR, workspace: { checks: [], replicaRegions: [REPLICA], identityCenterRegions: [REPLICA] } });
  const migration = await migrateToCmk(base);
  await replicateIdentityCenter(base.clients.ssoAdmin, base.keyring.identityCenter!.instanceArn, REPLICA);
  prepared = { base, snapshot: base.emulator.snapshot(), oldKey: migration.plan.newKeyArn! };
}, 30_000);
afterAll(() => prepared.base.close());

describe('GIVEN migrate-to-cmk on a multi-Region key ring', () => {
  it('THEN generation 1 is a multi-Region primary with a replica carrying the same policy, and the alias in both Regions', async () => {
    const { base: h, oldKey } = prepared;
    expect(oldKey).toMatch(/^arn:aws:kms:us-east-1:111111111111:key\/mrk-[0-9a-f]{32}$/);
    const primary = h.emulator.describeKeyState(oldKey)!;
    const replica = h.emulator.describeKeyState(inRegion(oldKey, REPLICA))!;
    expect(primary.multiRegion).toEqual({ type: 'PRIMARY', primaryArn: oldKey, replicaArns: [inRegion(oldKey, REPLICA)] });
    expect(replica.keyState).toBe('Enabled');
    expect(replica.policy).toBe(primary.policy);
    expect(await aliasIn(h, REPLICA)).toBe(inRegion(oldKey, REPLICA));
    const ledger = (await h.store.getLedger(h.keyring.name))!;
    expect(ledger.generations[0]!.replicas).toEqual([{ region: REPLICA, keyArn: inRegion(oldKey, REPLICA), state: 'live' }]);
  });
});

describe('GIVEN Identity Center in two Regions on a multi-Region key WHEN rotated', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('THEN the new key is replicated, verified and aliased in every Region, the switch holds, the evidence has each Region\'s last use, and the replica is scheduled before the primary, which waits in PendingReplicaDeletion', async () => {
    h = await cloneHarness(prepared.base, prepared.snapshot);
    const oldKey = prepared.oldKey;
    h.emulator.clearCallLog();
    let run = await toGate(h);
    expect(stageStatuses(run)['approval-gate']).toBe('waiting');
    const newKey = run.plan.newKeyArn!;
    expect(run.plan.replicaRegions).toEqual([REPLICA]);
    expect(newKey).toMatch(/:key\/mrk-/);
    expect(h.emulator.describeKeyState(inRegion(newKey, REPLICA))).toEqual(expect.objectContaining({ keyState: 'Enabled', policy: h.emulator.describeKeyState(newKey)!.policy }));
    expect([await aliasIn(h, PRIMARY), await aliasIn(h, REPLICA)]).toEqual([newKey, inRegion(newKey, REPLICA)]);
    expect(await instanceKey(h)).toBe(newKey);
    // The soak disables the old key in every Region: a replica's state is its own.
    expect([h.emulator.describeKeyState(oldKey)!.keyState, h.emulator.describeKeyState(inRegion(oldKey, REPLICA))!.keyState]).toEqual(['Disabled', 'Disabled']);
    const checks = (run.evidence as { checks: Array<{ name: string; ok: boolean }> }).checks;
    expect(checks.map((c) => [c.name, c.ok])).toEqual(
      expect.arrayContaining([
        ['alias round trip', true],
        [`alias round trip in ${REPLICA}`, true],
        ['identity store read', true],
        [`identity store read in ${REPLICA}`, true],
      ]),
    );
    expect(run.evidence).toEqual(expect.objectContaining({ oldKeyLastUsageByRegion: { [REPLICA]: expect.objectContaining({ KeyLastUsage: expect.objectContaining({ Operation: 'Decrypt' }) }) } }));
    expect(run.stages.find((s) => s.name === 'verify-key')!.summary).toMatch(/replica in eu-west-1: Enabled, same policy, round trip ok/);
    // What an approver reads before signing names each Region's last use.
    const words = describePayload(buildPayload({ run, approver: 'approver1@example.com', now: new Date(), lifetimeHours: 24, auditHead: (await h.store.auditHead())! }), run);
    expect(words).toMatch(/its replica in eu-west-1 \(deleted too, first\) was last used: \d{4}-.* for Decrypt\n +this proves: the last successful cryptographic operation KMS recorded on this key in eu-west-1/);

    run = await toCompletion(h, run);
    expect(run.status).toBe('completed');
    expect(h.emulator.describeKeyState(inRegion(oldKey, REPLICA))!.keyState).toBe('PendingDeletion');
    expect(h.emulator.describeKeyState(oldKey)!.keyState).toBe('PendingReplicaDeletion');
    const deletions = h.emulator.callLog().filter((c) => c.operation === 'ScheduleKeyDeletion').map((c) => [c.region, c.target]);
    expect(deletions).toEqual([
      [REPLICA, inRegion(oldKey, REPLICA)],
      [PRIMARY, oldKey],
    ]);
    expect(h.emulator.callLog().filter((c) => c.operation === 'ReplicateKey').map((c) => [c.region, c.target])).toEqual([[PRIMARY, inRegion(newKey, REPLICA)]]);

    // The ledger: the primary waits on its replica; its earliest deletion is the replica's date plus the window.
    const ledger = (await h.store.getLedger(h.keyring.name))!;
    const [gen1, gen2] = ledger.generations;
    const replicaDate = h.emulator.describeKeyState(inRegion(oldKey, REPLICA))!.deletionDate!;
    expect(gen1).toEqual(expect.objectContaining({ state: 'pending-deletion', replicas: [{ region: REPLICA, keyArn: inRegion(oldKey, REPLICA), state: 'pending-deletion', deletionDate: replicaDate }] }));
    expect(Date.parse(gen1!.deletionDate!) - Date.parse(replicaDate)).toBe(30 * 24 * 3600_000);
    expect(gen2).toEqual(expect.objectContaining({ state: 'active', replicas: [{ region: REPLICA, keyArn: inRegion(newKey, REPLICA), state: 'live' }] }));
    expect(run.stages.find((s) => s.name === 'schedule-deletion')!.summary).toMatch(/primary PendingReplicaDeletion: KMS starts its 30-day window when its last replica is deleted/);

    // rotate drift: a primary waiting on its replicas is what the ledger says, and the notes show the active key's on-demand budget.
    const report = await runDrift({ config: h.config, store: h.store, clientsFor: () => h.clients, clientsForRegion: (_k, region) => h.clientsIn(region), actor: async () => 'drift@example.com' }, { readOnly: true });
    expect(report.keyrings[0]!.findings).toEqual([]);
    expect(report.keyrings[0]!.notes).toEqual(expect.arrayContaining([expect.stringMatching(/^generation 2 \(active\): 25 of 25 on-demand rotations left/)]));

    // KMS follows PendingReplicaDeletion to the end: once the replica is gone, the primary's window runs to the date the ledger recorded.
    h.emulator.advanceClock(Date.parse(replicaDate) - h.emulator.now().getTime() + 1000);
    expect(h.emulator.describeKeyState(inRegion(oldKey, REPLICA))).toBeUndefined();
    expect(h.emulator.describeKeyState(oldKey)).toEqual(expect.objectContaining({ keyState: 'PendingDeletion' }));
    expect(Math.abs(Date.parse(h.emulator.describeKeyState(oldKey)!.deletionDate!) - Date.parse(gen1!.deletionDate!))).toBeLessThan(2000);
  });

  it('THEN cancel-deletion cancels the primary waiting on its replicas and the replica, in each Region, and --enable enables both', async () => {
    h = await cloneHarness(prepared.base, prepared.snapshot);
    const oldKey = prepared.oldKey;
    await toCompletion(h, await toGate(h));
    const engine = h.engine();
    const cancel = await engine.advance((await engine.start(h.keyring.name, 'cancel-deletion', { generation: '1', enable: true })).id);
    expect(cancel.status).toBe('completed');
    expect([h.emulator.describeKeyState(oldKey)!.keyState, h.emulator.describeKeyState(inRegion(oldKey, REPLICA))!.keyState]).toEqual(['Enabled', 'Enabled']);
    expect(cancel.stages[1]!.summary).toMatch(/cancelled the replicas' deletion in eu-west-1.*enabled the replicas in eu-west-1/);
    const gen1 = (await h.store.getLedger(h.keyring.name))!.generations[0]!;
    expect(gen1).toEqual(expect.objectContaining({ state: 'retiring', replicas: [{ region: REPLICA, keyArn: inRegion(oldKey, REPLICA), state: 'live' }] }));
  });

  it('THEN a rollback from the gate puts the alias back in every Region, Identity Center back, re-enables the old key everywhere and disables the new one everywhere', async () => {
    h = await cloneHarness(prepared.base, prepared.snapshot);
    const oldKey = prepared.oldKey;
    const run = await toGate(h);
    const newKey = run.plan.newKeyArn!;
    const rolled = await h.engine().rollback(run.id);
    expect(rolled.status).toBe('rolled-back');
    expect([await aliasIn(h, PRIMARY), await aliasIn(h, REPLICA)]).toEqual([oldKey, inRegion(oldKey, REPLICA)]);
    expect(await instanceKey(h)).toBe(oldKey);
    const states = (arn: string) => [h.emulator.describeKeyState(arn)!.keyState, h.emulator.describeKeyState(inRegion(arn, REPLICA))!.keyState];
    expect(states(oldKey)).toEqual(['Enabled', 'Enabled']);
    expect(states(newKey)).toEqual(['Disabled', 'Disabled']);
    expect((await h.store.getLedger(h.keyring.name))!.generations.map((g) => g.state)).toEqual(['active', 'abandoned']);
  });

  it('THEN a soak that disabled the primary and then refused a replica (its Region\'s alias moved back by hand) rolls back completely: the primary is re-enabled and Identity Center returns to it', async () => {
    h = await cloneHarness(prepared.base, prepared.snapshot);
    const oldKey = prepared.oldKey;
    const started = await h.engine().start(h.keyring.name, 'rotate');
    const soakIndex = started.plan.stages.indexOf('soak');
    const beforeSoak = started.stages.filter((st, i) => i < soakIndex && st.status !== 'done' && st.status !== 'skipped').length;
    const atSoak = await h.engine().advance(started.id, { stageLimit: beforeSoak });
    expect(atSoak.stages[soakIndex]!.status).toBe('pending');
    await h.clientsIn(REPLICA).kms.send(new UpdateAliasCommand({ AliasName: h.keyring.alias, TargetKeyId: inRegion(oldKey, REPLICA) }));
    await expect(h.engine().advance(started.id)).rejects.toThrow(/refusing to disable .*eu-west-1.*alias .* in eu-west-1 still points to it/);
    expect(h.emulator.describeKeyState(oldKey)!.keyState).toBe('Disabled'); // the primary went first

    const rolled = await h.engine().rollback(started.id);
    expect(rolled.status).toBe('rolled-back');
    expect(rolled.stages[soakIndex]!.summary).toMatch(/undone: re-enabled old key/);
    expect(h.emulator.describeKeyState(oldKey)!.keyState).toBe('Enabled');
    expect(await instanceKey(h)).toBe(oldKey);
    expect((await h.store.getLedger(h.keyring.name))!.generations.map((g) => g.state)).toEqual(['active', 'abandoned']);
  });

  it('THEN the switch is refused while a Region lacks a ready replica, nothing is switched, and it goes ahead once the replica is ready', async () => {
    h = await cloneHarness(prepared.base, prepared.snapshot);
    const engine = h.engine();
    let run = await engine.advance((await engine.start(h.keyring.name, 'rotate')).id, { stageLimit: 4 });
    expect(stageStatuses(run)['promote-alias']).toBe('done');
    const replica = inRegion(run.plan.newKeyArn!, REPLICA);
    await h.clientsIn(REPLICA).kms.send(new DisableKeyCommand({ KeyId: replica }));
    await expect(h.engine().advance(run.id)).rejects.toThrow(`stage switch-identity-center: Identity Center was not switched to ${run.plan.newKeyArn}: not every Region it serves has a ready replica (eu-west-1: replica ${replica} is Disabled); nothing was changed`);
    expect(await instanceKey(h)).toBe(prepared.oldKey);
    expect(h.emulator.callLog().some((c) => c.operation === 'UpdateInstance')).toBe(false);
    await h.clientsIn(REPLICA).kms.send(new EnableKeyCommand({ KeyId: replica }));
    run = await h.engine().advance(run.id);
    expect(stageStatuses(run)['switch-identity-center']).toBe('done');
    expect(await instanceKey(h)).toBe(run.plan.newKeyArn);
  });

  it('THEN a run whose config does not replicate to a Region Identity Center serves is refused at preflight, naming the Region and the config fix', async () => {
    h = await cloneHarness(prepared.base, prepared.snapshot);
    const raw = JSON.parse(await import('node:fs/promises').then((fs) => fs.readFile(h.ws.configPath, 'utf8')));
    raw.keyrings[0].multiRegion.replicaRegions = ['ap-southeast-2'];
    raw.keyrings[0].identityCenter.additionalRegions = [];
    await writeFile(h.ws.configPath, JSON.stringify(raw));
    const engine = h.engine({ config: loadConfig(h.ws.configPath) });
    const started = await engine.start(h.keyring.name, 'rotate');
    await expect(engine.advance(started.id)).rejects.toThrow(/Identity Center instance .* also serves eu-west-1 \(ACTIVE\), which this run does not replicate the new key to \(it replicates to ap-southeast-2\)/);
    expect((await h.store.getRun(started.id))!.status).toBe('cancelled');
    expect(h.emulator.callLog().filter((c) => c.mutating)).toEqual([]);
  });

  it('THEN a generation abandoned by a rollback is retired through the gate with each Region\'s last use as evidence, the replica deleted first', async () => {
    h = await cloneHarness(prepared.base, prepared.snapshot);
    const run = await toGate(h);
    await h.engine().rollback(run.id);
    const abandoned = run.plan.newKeyArn!;
    const engine = h.engine();
    let retire = await engine.advance((await engine.start(h.keyring.name, 'retire-key', { generation: '2' })).id);
    expect(retire.evidence).toEqual(expect.objectContaining({ oldKeyArn: abandoned, oldKeyLastUsageByRegion: { [REPLICA]: expect.objectContaining({ KeyId: expect.stringMatching(/^mrk-/) }) } }));
    retire = await toCompletion(h, retire);
    expect(retire.status).toBe('completed');
    expect([h.emulator.describeKeyState(abandoned)!.keyState, h.emulator.describeKeyState(inRegion(abandoned, REPLICA))!.keyState]).toEqual(['PendingReplicaDeletion', 'PendingDeletion']);
  });

  it('THEN a rotation that crashed after CreateKey and before its ledger write, then rolled back, leaves the candidate recorded as abandoned with its replica, so retire-key can reach it and drift has no orphan', async () => {
    h = await cloneHarness(prepared.base, prepared.snapshot);
    let fired = false;
    const crashBeforeFirstLedgerWrite: CrashPoints = {
      hit(point: string) {
        if (!fired && point === 'before-write:ledger') {
          fired = true;
          throw new SimulatedCrash(point);
        }
      },
    };
    const started = await h.engine().start(h.keyring.name, 'rotate');
    await expect(h.engine({ options: { crashPoints: crashBeforeFirstLedgerWrite } }).advance(started.id)).rejects.toThrow(SimulatedCrash);
    const candidate = (await h.store.getRun(started.id))!.stages.find((st) => st.name === 'create-key')!.outputs!.newKeyArn as string;
    expect((await h.store.getLedger(h.keyring.name))!.generations).toHaveLength(1);

    expect((await h.engine().rollback(started.id)).status).toBe('rolled-back');
    const ledger = (await h.store.getLedger(h.keyring.name))!;
    expect(ledger.generations.map((g) => [g.generation, g.keyArn, g.state])).toEqual([[1, prepared.oldKey, 'active'], [2, candidate, 'abandoned']]);
    expect(ledger.generations[1]!.replicas).toEqual([{ region: REPLICA, keyArn: inRegion(candidate, REPLICA), state: 'live' }]);
    const retire = await h.engine().start(h.keyring.name, 'retire-key', { generation: '2' });
    expect(retire.plan.oldKeyArn).toBe(candidate);
    const report = await runDrift({ config: h.config, store: h.store, clientsFor: () => h.clients, clientsForRegion: (_k, region) => h.clientsIn(region), actor: async () => 'drift@example.com' }, { readOnly: true });
    expect(report.orphans).toEqual([]);
  });

  it('THEN a rotation whose config dropped the replica Region while the alias there still uses the old key\'s replica is refused at preflight, naming the Region; with that alias gone it goes ahead', async () => {
    h = await cloneHarness(prepared.base, prepared.snapshot);
    const singleRegion = { ...h.config, keyrings: h.config.keyrings.map((k) => (k.name === h.keyring.name ? { ...k, multiRegion: undefined, identityCenter: { ...k.identityCenter!, additionalRegions: [] } } : k)) };
    h.emulator.clearCallLog();
    const engine = h.engine({ config: singleRegion });
    const started = await engine.start(h.keyring.name, 'rotate');
    await expect(engine.advance(started.id, { stageLimit: 1 })).rejects.toThrow(
      new RegExp(`the alias ${h.keyring.alias} in ${REPLICA} uses a replica of the key this run replaces .* but this run does not replicate to that Region`),
    );
    expect(h.emulator.callLog().filter((c) => c.mutating)).toEqual([]);
    await h.clientsIn(REPLICA).kms.send(new DeleteAliasCommand({ AliasName: h.keyring.alias }));
    // A refused preflight ends its run; the next one goes ahead.
    const again = await h.engine({ config: singleRegion }).start(h.keyring.name, 'rotate');
    const past = await h.engine({ config: singleRegion }).advance(again.id, { stageLimit: 1 });
    expect(stageStatuses(past).preflight).toBe('done');
  });

  it('THEN migrate-to-aws-owned is refused at preflight while Identity Center serves a second Region', async () => {
    h = await cloneHarness(prepared.base, prepared.snapshot);
    const engine = h.engine();
    const started = await engine.start(h.keyring.name, 'migrate-to-aws-owned');
    await expect(engine.advance(started.id)).rejects.toThrow(/serves eu-west-1 besides us-east-1; an instance in several Regions needs a multi-Region customer managed key, so it cannot move to an AWS owned key/);
  });

  it('THEN once Identity Center is back in one Region, migrate-to-aws-owned retires the alias in every Region and deletes the replica before the primary', async () => {
    h = await cloneHarness(prepared.base, prepared.snapshot);
    const InstanceArn = h.keyring.identityCenter!.instanceArn;
    await h.clients.ssoAdmin.send(new RemoveRegionCommand({ InstanceArn, RegionName: REPLICA }));
    while ((h.emulator.instanceRegions(InstanceArn) ?? []).length > 1) await new Promise((r) => setTimeout(r, 5));
    const engine = h.engine();
    let run = await engine.advance((await engine.start(h.keyring.name, 'migrate-to-aws-owned')).id);
    expect(run.stages.find((s) => s.name === 'retire-alias')!.summary).toBe(`deleted alias ${h.keyring.alias}; removed alias ${h.keyring.alias} in ${REPLICA}`);
    await expect(aliasIn(h, REPLICA)).rejects.toThrow(/not found|NotFound|does not exist/i);
    run = await toCompletion(h, run);
    expect(run.status).toBe('completed');
    expect([h.emulator.describeKeyState(prepared.oldKey)!.keyState, h.emulator.describeKeyState(inRegion(prepared.oldKey, REPLICA))!.keyState]).toEqual(['PendingReplicaDeletion', 'PendingDeletion']);
  });

  it('THEN adopting a multi-Region key records its replicas, so the stacks import them instead of creating new ones', async () => {
    h = await cloneHarness(prepared.base, prepared.snapshot);
    await rm(path.join(h.ws.stateDir, 'ledgers'), { recursive: true, force: true });
    const engine = h.engine();
    const adopted = await engine.advance((await engine.start(h.keyring.name, 'adopt')).id);
    expect(adopted.stages[1]!.summary).toContain(`with its replicas in ${REPLICA}`);
    expect((await h.store.getLedger(h.keyring.name))!.generations[0]!.replicas).toEqual([{ region: REPLICA, keyArn: inRegion(prepared.oldKey, REPLICA), state: 'live' }]);
  });
});

describe('GIVEN a multi-Region key ring WHEN `rotate drift` checks it', () => {
  let h: Harness;
  afterEach(async () => h?.close());
  const driftOf = (withRegions = true) =>
    runDrift(
      { config: h.config, store: h.store, clientsFor: () => h.clients, ...(withRegions ? { clientsForRegion: (_k, region) => h.clientsIn(region) } : {}), actor: async () => 'drift@example.com' },
      { readOnly: true },
    );
  const replicaArn = () => inRegion(prepared.oldKey, REPLICA);

  it('THEN as the pipeline left it there is no drift, and it says it compared the replicas and the alias in their Region', async () => {
    h = await cloneHarness(prepared.base, prepared.snapshot);
    const report = await driftOf();
    expect(report.keyrings[0]!.findings).toEqual([]);
    expect(report.keyrings[0]!.checked).toContain(`replicas and the alias in ${REPLICA}`);
  });

  it('THEN a replica disabled outside the pipeline is key-state drift that blocks a deploy, naming the replica and its Region', async () => {
    h = await cloneHarness(prepared.base, prepared.snapshot);
    await h.clientsIn(REPLICA).kms.send(new DisableKeyCommand({ KeyId: replicaArn() }));
    const findings = (await driftOf()).keyrings[0]!.findings;
    expect(findings).toEqual([expect.objectContaining({ kind: 'key-state', subject: replicaArn(), expected: 'Enabled', actual: 'Disabled', blocksDeploy: true })]);
    expect(findings[0]!.message).toBe(`the replica of generation 1 in ${REPLICA} is Disabled in KMS, but the ledger has it live (so it should be Enabled)`);
  });

  it('THEN a replica whose policy was replaced is policy drift (KMS never copies the primary\'s), and the alias moved in its Region is alias-target drift', async () => {
    h = await cloneHarness(prepared.base, prepared.snapshot);
    const kms = h.clientsIn(REPLICA).kms;
    const policy = JSON.parse(h.emulator.describeKeyState(replicaArn())!.policy) as { Statement: Array<{ Sid?: string }> };
    await kms.send(new PutKeyPolicyCommand({ KeyId: replicaArn(), PolicyName: 'default', Policy: JSON.stringify({ ...policy, Statement: policy.Statement.slice(0, 1) }) }));
    const other = (await kms.send(new CreateKeyCommand({ Description: 'not keyrotor\'s' }))).KeyMetadata!.Arn!;
    await kms.send(new UpdateAliasCommand({ AliasName: h.keyring.alias, TargetKeyId: other }));
    const findings = (await driftOf()).keyrings[0]!.findings;
    expect(findings.map((f) => [f.kind, f.subject])).toEqual([
      ['identity-center-policy', replicaArn()],
      ['alias-target', `${h.keyring.alias} in ${REPLICA}`],
    ]);
    expect(findings[0]!.message).toContain(`the key policy of the replica of generation 1 in ${REPLICA} lacks what Identity Center needs`);
    expect(findings[1]!.message).toBe(`alias ${h.keyring.alias} in ${REPLICA} points to ${other}, but the ledger's active generation 1 has its replica there at ${replicaArn()}`);
  });

  it('THEN without clients for other Regions the replicas are not silently passed: a note says they were not checked', async () => {
    h = await cloneHarness(prepared.base, prepared.snapshot);
    await h.clientsIn(REPLICA).kms.send(new DisableKeyCommand({ KeyId: replicaArn() }));
    const keyring = (await driftOf(false)).keyrings[0]!;
    expect(keyring.findings).toEqual([]);
    expect(keyring.notes).toContain(`replicas in ${REPLICA} not checked (no clients for other Regions)`);
  });
});
