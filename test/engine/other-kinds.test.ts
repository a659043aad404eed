import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand } from '@aws-sdk/client-kms';
import { DescribeInstanceCommand } from '@aws-sdk/client-sso-admin';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createHarness, migrateToCmk, stageStatuses, type Harness } from './harness';
import { KeyrotorError } from '../../pipeline/errors';
import { FileStateStore } from '../../pipeline/state/file-store';
import type { KeyRingConfig } from '../../pipeline/config/types';
import { readLedgersForSynth } from '../../pipeline/team/ledger-export';
import { planGenerations } from '../../stacks/generation-plan';
import { LIVE_GENERATION_STATES } from '../../pipeline/ledger/types';

describe('run kinds besides rotate', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('GIVEN a key and alias made outside keyrotor WHEN adopted THEN the ledger records it as generation 1 (imported by the stacks) and a rotation can follow', async () => {
    h = await createHarness();
    const key = (await h.clients.kms.send(new CreateKeyCommand({ Description: 'made by hand' }))).KeyMetadata!;
    await h.clients.kms.send(new CreateAliasCommand({ AliasName: h.keyring.alias, TargetKeyId: key.KeyId }));
    const engine = h.engine();
    const adopt = await engine.advance((await engine.start(h.keyring.name, 'adopt')).id);
    expect(adopt.status).toBe('completed');
    const ledger = (await h.store.getLedger(h.keyring.name))!;
    expect(ledger.generations).toEqual([expect.objectContaining({ generation: 1, keyArn: key.Arn, origin: 'adopted', state: 'active' })]);
    expect(ledger.identityCenter).toEqual({ keyType: 'AWS_OWNED_KMS_KEY' });
    expect(planGenerations(h.keyring.name, ledger)).toEqual([expect.objectContaining({ kind: 'key', generation: 1, importKeyId: key.KeyId, active: true })]);
    // Adopting twice is refused: the ledger already has an active generation.
    const again = h.engine();
    await expect(again.advance((await again.start(h.keyring.name, 'adopt')).id)).rejects.toThrow(/already has active generation 1/);
  });

  it('GIVEN a key a keyrotor run created WHEN adopted from a state that does not know that run (a mistyped --state-dir) THEN adopt refuses naming the run and the state, and records nothing', async () => {
    h = await createHarness();
    const migration = await migrateToCmk(h);
    const emptyDir = mkdtempSync(path.join(tmpdir(), 'keyrotor-wrong-state-'));
    try {
      const wrongStore = new FileStateStore(emptyDir);
      const engine = h.engine({ store: wrongStore });
      const started = await engine.start(h.keyring.name, 'adopt');
      const error = (await engine.advance(started.id).catch((e: unknown) => e)) as KeyrotorError;
      expect(error).toBeInstanceOf(KeyrotorError);
      expect(error.message).toContain(`${migration.plan.newKeyArn} was created by keyrotor run ${migration.id} (tag keyrotor:run-id), which the file store at ${emptyDir} does not know`);
      expect(error.nextStep).toContain(`point the command at the state that ran ${migration.id}`);
      expect(await wrongStore.getLedger(h.keyring.name)).toBeUndefined();
      await wrongStore.close();
    } finally {
      rmSync(emptyDir, { recursive: true, force: true });
    }
  });

  it('GIVEN two aliases on one key in AWS WHEN both key rings adopt it THEN the second adopt refuses naming the key ring that records it, and synth refuses ledgers that share a key', async () => {
    h = await createHarness();
    const key = (await h.clients.kms.send(new CreateKeyCommand({ Description: 'one key, two aliases' }))).KeyMetadata!;
    await h.clients.kms.send(new CreateAliasCommand({ AliasName: h.keyring.alias, TargetKeyId: key.KeyId }));
    await h.clients.kms.send(new CreateAliasCommand({ AliasName: 'alias/second', TargetKeyId: key.KeyId }));
    const first = h.engine();
    expect((await first.advance((await first.start(h.keyring.name, 'adopt')).id)).status).toBe('completed');
    const second: KeyRingConfig = { ...h.keyring, name: 'second', alias: 'alias/second', identityCenter: undefined };
    const config = { ...h.config, keyrings: [...h.config.keyrings, second] };
    const engine = h.engine({ config });
    const error = (await engine.advance((await engine.start('second', 'adopt')).id).catch((e: unknown) => e)) as KeyrotorError;
    expect(error).toBeInstanceOf(KeyrotorError);
    expect(error.message).toContain(`alias alias/second points to ${key.Arn}, which key ring ${h.keyring.name} already records`);
    expect(await h.store.getLedger('second')).toBeUndefined();

    // A hand-edited ledger that records the same key: synth refuses to build from it.
    await h.store.putLedger({ ...(await h.store.getLedger(h.keyring.name))!, keyring: 'second', version: 0 });
    await expect(readLedgersForSynth(config, h.ws.stateDir)).rejects.toThrow(new RegExp(`key ${key.Arn} is recorded by key ring ${h.keyring.name} \\(generation 1\\) and key ring second \\(generation 1\\)`));
  });

  it('GIVEN Identity Center on a CMK WHEN migrated back to an AWS owned key THEN the alias goes, the CMK soaks disabled, and is scheduled for deletion only after approvals', async () => {
    h = await createHarness();
    const cmk = (await migrateToCmk(h)).plan.newKeyArn!;
    const engine = h.engine();
    let run = await engine.advance((await engine.start(h.keyring.name, 'migrate-to-aws-owned')).id);
    expect(stageStatuses(run)).toEqual({
      preflight: 'done', 'switch-identity-center': 'done', 'integration-checks': 'done', 'retire-alias': 'done', soak: 'done', 'approval-gate': 'waiting', 'schedule-deletion': 'pending',
    });
    const instance = await h.clients.ssoAdmin.send(new DescribeInstanceCommand({ InstanceArn: h.keyring.identityCenter!.instanceArn }));
    expect(instance.EncryptionConfigurationDetails).toEqual(expect.objectContaining({ KeyType: 'AWS_OWNED_KMS_KEY', EncryptionStatus: 'ENABLED' }));
    await expect(h.clients.kms.send(new DescribeKeyCommand({ KeyId: h.keyring.alias }))).rejects.toThrow(/not found|NotFound|does not exist/i);
    expect(h.emulator.describeKeyState(cmk)!.keyState).toBe('Disabled');

    await h.approveAll(run.id);
    run = await h.engine().advance(run.id, { allowDeletion: true });
    expect(run.status).toBe('completed');
    expect(h.emulator.describeKeyState(cmk)!.keyState).toBe('PendingDeletion');
    const ledger = (await h.store.getLedger(h.keyring.name))!;
    expect(ledger.generations.map((g) => g.state)).toEqual(['pending-deletion']);
    expect(ledger.identityCenter).toEqual({ keyType: 'AWS_OWNED_KMS_KEY' });
  });

  it('GIVEN a migration back to an AWS owned key WHEN rolled back at the gate THEN Identity Center, the alias and the key return', async () => {
    h = await createHarness();
    const cmk = (await migrateToCmk(h)).plan.newKeyArn!;
    const engine = h.engine();
    const run = await engine.advance((await engine.start(h.keyring.name, 'migrate-to-aws-owned')).id);
    await h.engine().rollback(run.id);
    const instance = await h.clients.ssoAdmin.send(new DescribeInstanceCommand({ InstanceArn: h.keyring.identityCenter!.instanceArn }));
    expect(instance.EncryptionConfigurationDetails).toEqual(expect.objectContaining({ KmsKeyArn: cmk, EncryptionStatus: 'ENABLED' }));
    expect((await h.clients.kms.send(new DescribeKeyCommand({ KeyId: h.keyring.alias }))).KeyMetadata!.Arn).toBe(cmk);
    expect(h.emulator.describeKeyState(cmk)!.keyState).toBe('Enabled');
    expect((await h.store.getLedger(h.keyring.name))!.generations.map((g) => g.state)).toEqual(['active']);
  });
});

describe('the ledger the stacks read stays true after every stage', () => {
  it('GIVEN a rotation advanced one stage at a time THEN after each stage the declared keys are exactly the live generations, and the alias target is the key the alias resolves to', async () => {
    const h = await createHarness();
    try {
      await migrateToCmk(h);
      const engine = h.engine();
      const run = await engine.start(h.keyring.name, 'rotate');
      for (let step = 0; step < 12; step += 1) {
        const current = await h.engine().advance(run.id, { stageLimit: 1, allowDeletion: true });
        if (current.stages.some((s) => s.name === 'approval-gate' && s.status === 'waiting') && current.approvals.length === 0) await h.approveAll(run.id);
        const ledger = (await h.store.getLedger(h.keyring.name))!;
        const declared = planGenerations(h.keyring.name, ledger);
        const live = ledger.generations.filter((g) => LIVE_GENERATION_STATES.includes(g.state)).map((g) => g.generation);
        expect(declared.filter((d) => d.kind === 'key').map((d) => d.generation)).toEqual(live);
        for (const d of declared) {
          if (d.kind === 'key' && d.importKeyId) expect(h.emulator.describeKeyState(d.importKeyId)!.keyState).not.toBe('PendingDeletion');
          if (d.kind === 'removed') expect(h.emulator.describeKeyState(d.keyArn)!.keyState).toBe('PendingDeletion');
        }
        const active = declared.find((d) => d.kind === 'key' && d.active);
        const aliasKey = (await h.clients.kms.send(new DescribeKeyCommand({ KeyId: h.keyring.alias }))).KeyMetadata!.Arn;
        expect({ stage: current.stages.find((s) => s.status !== 'done')?.name, alias: aliasKey }).toEqual({ stage: current.stages.find((s) => s.status !== 'done')?.name, alias: active && active.kind === 'key' ? active.keyArn : undefined });
        if (current.status === 'completed') return;
      }
      throw new Error('rotation did not complete');
    } finally {
      await h.close();
    }
  });
});

describe('retire-key: deleting a generation a run left behind, through the gate', () => {
  it('GIVEN a candidate abandoned by a rollback WHEN retired THEN its last use is the evidence, it waits for approvals, and only it is scheduled for deletion', async () => {
    const h = await createHarness();
    try {
      const active = (await migrateToCmk(h)).plan.newKeyArn!;
      const engine = h.engine();
      const rotation = await engine.advance((await engine.start(h.keyring.name, 'rotate')).id);
      const abandoned = rotation.plan.newKeyArn!;
      await h.engine().rollback(rotation.id);

      const retire = h.engine();
      let run = await retire.advance((await retire.start(h.keyring.name, 'retire-key', { key: abandoned })).id);
      expect(stageStatuses(run)).toEqual({ preflight: 'done', 'collect-evidence': 'done', 'approval-gate': 'waiting', 'schedule-deletion': 'pending' });
      expect(run.evidence).toEqual(expect.objectContaining({ oldKeyArn: abandoned, oldKeyLastUsage: expect.any(Object) }));
      expect(h.emulator.describeKeyState(abandoned)!.keyState).toBe('Disabled');

      await h.approveAll(run.id);
      run = await h.engine().advance(run.id, { allowDeletion: true });
      expect(run.status).toBe('completed');
      expect(h.emulator.describeKeyState(abandoned)!.keyState).toBe('PendingDeletion');
      expect(h.emulator.describeKeyState(active)!.keyState).toBe('Enabled');
      expect((await h.store.getLedger(h.keyring.name))!.generations.map((g) => [g.generation, g.state])).toEqual([[1, 'active'], [2, 'pending-deletion']]);
    } finally {
      await h.close();
    }
  });

  it('GIVEN the active generation WHEN asked to retire it THEN it is refused before anything starts, naming the generation and its state', async () => {
    const h = await createHarness();
    try {
      const active = (await migrateToCmk(h)).plan.newKeyArn!;
      await expect(h.engine().start(h.keyring.name, 'retire-key', { key: active })).rejects.toThrow(
        `generation 1 of key ring identity-center (${active}) is active — it is the key the alias and Identity Center use; only a generation nothing uses any more can be retired (accepted: abandoned, retiring, disabled)`,
      );
      await expect(h.engine().start(h.keyring.name, 'retire-key', { key: 'arn:aws:kms:us-east-1:111111111111:key/nope' })).rejects.toThrow(/is not a key of key ring identity-center/);
      expect(await h.store.getLease(h.keyring.name)).toBeUndefined();
    } finally {
      await h.close();
    }
  });
});
