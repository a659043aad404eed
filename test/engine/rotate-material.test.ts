/**
 * The `rotate-material` kind (issue 12): in-place rotation with RotateKeyOnDemand, refused when the
 * key's on-demand budget would fall below the reserve, waiting until ListKeyRotations lists the
 * rotation, then the integration checks. No approval: nothing is switched or deleted.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { ListKeyRotationsCommand, RotateKeyOnDemandCommand } from '@aws-sdk/client-kms';
import { replicateIdentityCenter } from '../../emulator/organization-admin';
import { cloneHarness, createHarness, migrateToCmk, stageStatuses, type Harness } from './harness';
import type { EmulatorSnapshot } from '../../emulator';
import { loadConfig } from '../../pipeline/config/load';
import { rotationBudget } from '../../pipeline/material-rotation/budget';

const EMULATOR = { quotas: false, emulator: { updateDelayMs: 5, regionDelayMs: 1, replicaDelayMs: 5, rotationDelayMs: 30 } } as const;

async function onDemandCount(h: Harness, keyArn: string, region = h.keyring.region): Promise<number> {
  return rotationBudget(await h.clientsIn(region).kms.send(new ListKeyRotationsCommand({ KeyId: keyArn }))).onDemandUsed;
}

/** The config with `change` applied, loaded as an engine would load it. */
async function editConfig(h: Harness, change: (keyring: Record<string, any>) => void): Promise<ReturnType<typeof loadConfig>> {
  const raw = JSON.parse(await readFile(h.ws.configPath, 'utf8'));
  change(raw.keyrings[0]);
  await writeFile(h.ws.configPath, JSON.stringify(raw));
  return loadConfig(h.ws.configPath);
}

describe('GIVEN a single-Region key ring on a customer managed key', () => {
  let prepared: { base: Harness; snapshot: EmulatorSnapshot; key: string };
  beforeAll(async () => {
    const base = await createHarness({ ...EMULATOR, workspace: { checks: [] } });
    const key = (await migrateToCmk(base)).plan.newKeyArn!;
    prepared = { base, snapshot: base.emulator.snapshot(), key };
  }, 30_000);
  afterAll(() => prepared.base.close());
  let h: Harness;
  afterEach(async () => h?.close());

  it('WHEN rotate-material runs THEN the same key gets new material in one advance, without soak or approval, and the checks pass on it', async () => {
    h = await cloneHarness(prepared.base, prepared.snapshot);
    h.emulator.clearCallLog();
    const engine = h.engine();
    const started = await engine.start(h.keyring.name, 'rotate-material');
    expect(started.plan).toEqual(expect.objectContaining({ kind: 'rotate-material', newKeyArn: prepared.key, onDemandRotationReserve: 5, stages: ['preflight', 'rotate-key-material', 'integration-checks'] }));
    expect(started.plan).not.toHaveProperty('approvals');
    const run = await engine.advance(started.id);
    expect(run.status).toBe('completed');
    expect(stageStatuses(run)).toEqual({ preflight: 'done', 'rotate-key-material': 'done', 'integration-checks': 'done' });
    expect(run.stages[1]!.summary).toMatch(/^rotated the material of .* on \d{4}-.*; 24 of 25 on-demand rotations left \(1 used, 0 automatic\)/);
    expect(await onDemandCount(h, prepared.key)).toBe(1);
    const mutating = h.emulator.callLog().filter((c) => c.mutating && c.outcome === 'ok').map((c) => c.operation);
    expect(mutating).toEqual(['RotateKeyOnDemand']);
    // The key in use did not change: the ledger has the same single generation.
    expect((await h.store.getLedger(h.keyring.name))!.generations.map((g) => [g.generation, g.state, g.keyArn])).toEqual([[1, 'active', prepared.key]]);
    expect((run.evidence as { checks: Array<{ name: string; ok: boolean }> }).checks.every((c) => c.ok)).toBe(true);
  });

  it('WHEN one more rotation would leave fewer on-demand rotations than the reserve THEN preflight refuses, naming the budget and the way out, and nothing is called', async () => {
    h = await cloneHarness(prepared.base, prepared.snapshot);
    for (let i = 0; i < 3; i += 1) {
      await h.clients.kms.send(new RotateKeyOnDemandCommand({ KeyId: prepared.key }));
      while ((await onDemandCount(h, prepared.key)) < i + 1) await new Promise((r) => setTimeout(r, 10));
    }
    const config = await editConfig(h, (k) => (k.rotation.onDemandRotationReserve = 22));
    h.emulator.clearCallLog();
    const engine = h.engine({ config });
    const started = await engine.start(h.keyring.name, 'rotate-material');
    await expect(engine.advance(started.id)).rejects.toThrow(
      /will not rotate the material of .*: the key has 22 of 25 on-demand rotations left; one more would leave 21, below the reserve of 22 \(rotation\.onDemandRotationReserve\)/,
    );
    expect((await h.store.getRun(started.id))!.status).toBe('cancelled');
    expect(h.emulator.callLog().filter((c) => c.mutating)).toEqual([]);
    // The same budget with a reserve it can keep: allowed.
    const relaxed = h.engine({ config: await editConfig(h, (k) => (k.rotation.onDemandRotationReserve = 21)) });
    expect((await relaxed.advance((await relaxed.start(h.keyring.name, 'rotate-material')).id)).status).toBe('completed');
  });

  it('WHEN the reserve is reached between preflight and the call THEN the stage refuses right before RotateKeyOnDemand', async () => {
    h = await cloneHarness(prepared.base, prepared.snapshot);
    const engine = h.engine({ config: await editConfig(h, (k) => (k.rotation.onDemandRotationReserve = 24)) });
    const run = await engine.advance((await engine.start(h.keyring.name, 'rotate-material')).id, { stageLimit: 1 });
    expect(stageStatuses(run).preflight).toBe('done');
    await h.clients.kms.send(new RotateKeyOnDemandCommand({ KeyId: prepared.key })); // someone else spends one meanwhile
    while ((await onDemandCount(h, prepared.key)) < 1) await new Promise((r) => setTimeout(r, 10));
    await expect(h.engine().advance(run.id)).rejects.toThrow(/stage rotate-key-material: will not rotate the material .* 24 of 25 on-demand rotations left; one more would leave 23, below the reserve of 24/);
    expect(await onDemandCount(h, prepared.key)).toBe(1);
  });
});

describe('GIVEN a multi-Region key ring with Identity Center in two Regions', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('WHEN rotate-material runs THEN the primary rotates once, the rotation is listed in every Region, and the checks run in every Region', async () => {
    h = await createHarness({ ...EMULATOR, workspace: { checks: [], replicaRegions: ['eu-west-1'], identityCenterRegions: ['eu-west-1'] } });
    const key = (await migrateToCmk(h)).plan.newKeyArn!;
    await replicateIdentityCenter(h.clients.ssoAdmin, h.keyring.identityCenter!.instanceArn, 'eu-west-1');
    h.emulator.clearCallLog();
    const engine = h.engine();
    const run = await engine.advance((await engine.start(h.keyring.name, 'rotate-material')).id);
    expect(run.status).toBe('completed');
    expect(run.stages[1]!.summary).toMatch(/\(listed in us-east-1, eu-west-1\)/);
    expect(await onDemandCount(h, key)).toBe(1);
    expect(await onDemandCount(h, key.replace(':us-east-1:', ':eu-west-1:'), 'eu-west-1')).toBe(1);
    expect(h.emulator.callLog().filter((c) => c.operation === 'RotateKeyOnDemand').map((c) => c.region)).toEqual(['us-east-1']);
    const checks = (run.evidence as { checks: Array<{ name: string; ok: boolean }> }).checks.map((c) => [c.name, c.ok]);
    expect(checks).toEqual(expect.arrayContaining([['alias round trip in eu-west-1', true], ['identity store read in eu-west-1', true]]));
  });
});
