import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, DisableKeyCommand, EnableKeyCommand, ScheduleKeyDeletionCommand, UpdateAliasCommand } from '@aws-sdk/client-kms';
import { planGenerations } from '../../stacks/generation-plan';
import { DescribeInstanceCommand } from '@aws-sdk/client-sso-admin';
import { createHarness, migrateToCmk, stageStatuses, type Harness } from './harness';
import { KeyrotorError, StateError } from '../../pipeline/errors';
import type { Run } from '../../pipeline/state/types';

const INSTANCE = 'arn:aws:sso:::instance/ssoins-7223f2cd9d6a6b51';

async function instanceKey(h: Harness): Promise<{ status?: string; arn?: string; type?: string }> {
  const out = await h.clients.ssoAdmin.send(new DescribeInstanceCommand({ InstanceArn: INSTANCE }));
  return { status: out.EncryptionConfigurationDetails?.EncryptionStatus, arn: out.EncryptionConfigurationDetails?.KmsKeyArn, type: out.EncryptionConfigurationDetails?.KeyType };
}

/** Every file of the state directory that is committed in GitOps (not the lock directories), with its content. */
function committedState(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (sub: string): void => {
    for (const entry of readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = path.join(sub, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== '.locks' && entry.name !== 'run-locks') walk(rel);
      } else files[rel] = readFileSync(path.join(dir, rel), 'utf8');
    }
  };
  walk('');
  return files;
}

async function aliasTarget(h: Harness): Promise<string | undefined> {
  const out = await h.clients.kms.send(new DescribeKeyCommand({ KeyId: h.keyring.alias }));
  return out.KeyMetadata?.Arn;
}

/** A CMK in use, rotated to its approval gate, and approved by the quorum. */
async function approvedAtTheGate(h: Harness): Promise<Run> {
  await migrateToCmk(h);
  const engine = h.engine();
  const run = await engine.advance((await engine.start(h.keyring.name, 'rotate')).id);
  await h.approveAll(run.id);
  return run;
}

describe('a rotation run against the emulator', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('GIVEN an organization on an AWS owned key WHEN migrated to a CMK THEN Identity Center, the alias and the ledger agree on generation 1', async () => {
    h = await createHarness();
    const run = await migrateToCmk(h);
    expect(run.status).toBe('completed');
    const ledger = (await h.store.getLedger(h.keyring.name))!;
    expect(ledger.generations).toEqual([expect.objectContaining({ generation: 1, state: 'active', origin: 'pipeline', keyArn: run.plan.newKeyArn })]);
    expect(ledger.identityCenter).toEqual({ keyType: 'CUSTOMER_MANAGED_KEY', kmsKeyArn: run.plan.newKeyArn });
    expect(await instanceKey(h)).toEqual({ status: 'ENABLED', arn: run.plan.newKeyArn, type: 'CUSTOMER_MANAGED_KEY' });
    expect(await aliasTarget(h)).toBe(run.plan.newKeyArn);
    expect(await h.store.getLease(h.keyring.name)).toBeUndefined();
  });

  it('GIVEN a CMK in use WHEN rotated THEN it stops at the approval gate, and after two approvals schedules only the old key for deletion', async () => {
    h = await createHarness();
    const migration = await migrateToCmk(h);
    const oldKey = migration.plan.newKeyArn!;
    const engine = h.engine();
    let run = await engine.advance((await engine.start(h.keyring.name, 'rotate')).id);
    expect(run.status).toBe('waiting');
    expect(stageStatuses(run)['approval-gate']).toBe('waiting');
    expect(run.stages.find((s) => s.name === 'approval-gate')!.summary).toMatch(/0 of 2/);
    const newKey = run.plan.newKeyArn!;
    expect(h.emulator.describeKeyState(oldKey)!.keyState).toBe('Disabled'); // disabled during soak, not deleted

    await h.approveAll(run.id);
    run = await h.engine().advance(run.id);
    // A routine advance never goes on into the deletion: that takes `rotate delete`.
    expect(run.status).toBe('waiting');
    expect(stageStatuses(run)).toEqual(expect.objectContaining({ 'approval-gate': 'done', 'schedule-deletion': 'waiting' }));
    expect(h.emulator.describeKeyState(oldKey)!.keyState).toBe('Disabled');
    run = await h.engine().advance(run.id, { allowDeletion: true });
    expect(run.status).toBe('completed');
    expect(h.emulator.describeKeyState(oldKey)!.keyState).toBe('PendingDeletion');
    expect(h.emulator.describeKeyState(newKey)!.keyState).toBe('Enabled');
    expect(await aliasTarget(h)).toBe(newKey);
    expect((await instanceKey(h)).arn).toBe(newKey);
    const ledger = (await h.store.getLedger(h.keyring.name))!;
    expect(ledger.generations.map((g) => [g.generation, g.state])).toEqual([[1, 'pending-deletion'], [2, 'active']]);
    expect(ledger.generations[0]!.deletionDate).toBe(h.emulator.describeKeyState(oldKey)!.deletionDate);
    expect(run.evidence).toEqual(expect.objectContaining({ oldKeyArn: oldKey, newKeyArn: newKey }));
    expect(await h.store.verifyAudit()).toEqual(expect.objectContaining({ ok: true }));
  });

  it('GIVEN a soak of 24 hours WHEN advanced early THEN it reports the time left instead of blocking, and moves on once the time has passed', async () => {
    h = await createHarness({ workspace: { minimumSoakHours: 24, disableOldKeyDuringSoak: false } });
    await migrateToCmk(h);
    const engine = h.engine();
    let run = await engine.advance((await engine.start(h.keyring.name, 'rotate')).id);
    expect(stageStatuses(run).soak).toBe('waiting');
    expect(run.stages.find((s) => s.name === 'soak')!.summary).toMatch(/soaking: 2[34]h \d+m left/);
    // Checking whether the soak is over changes nothing that goes to version control.
    const before = committedState(h.ws.stateDir);
    h.clock.now = new Date(Date.now() + 3600_000);
    expect(stageStatuses(await h.engine().advance(run.id)).soak).toBe('waiting');
    expect(committedState(h.ws.stateDir)).toEqual(before);
    h.clock.now = new Date(Date.now() + 25 * 3600_000);
    run = await h.engine().advance(run.id);
    expect(stageStatuses(run).soak).toBe('done');
    expect(stageStatuses(run)['approval-gate']).toBe('waiting');
  });

  it('GIVEN the new key is disabled before the switch WHEN Identity Center reports UPDATE_FAILED THEN the alias goes back, the old key is untouched, and a retry after the fix completes', async () => {
    h = await createHarness();
    const oldKey = (await migrateToCmk(h)).plan.newKeyArn!;
    const engine = h.engine();
    let run = await engine.start(h.keyring.name, 'rotate');
    run = await engine.advance(run.id, { stageLimit: 4 }); // through promote-alias
    const newKey = run.plan.newKeyArn!;
    await h.clients.kms.send(new DisableKeyCommand({ KeyId: newKey }));

    await expect(h.engine().advance(run.id)).rejects.toThrow(/switch-identity-center: Identity Center could not switch .*the old key is untouched; alias alias\/identity-center back to/);
    run = (await h.store.getRun(run.id))!;
    expect(run.status).toBe('failed');
    expect(await aliasTarget(h)).toBe(oldKey);
    expect(await instanceKey(h)).toEqual(expect.objectContaining({ arn: oldKey }));
    expect(h.emulator.describeKeyState(oldKey)!.keyState).toBe('Enabled');
    expect((await h.store.getLedger(h.keyring.name))!.generations.find((g) => g.keyArn === oldKey)!.state).toBe('active');

    await h.clients.kms.send(new EnableKeyCommand({ KeyId: newKey }));
    run = await h.engine().advance(run.id);
    expect(stageStatuses(run)['switch-identity-center']).toBe('done');
    expect(await aliasTarget(h)).toBe(newKey);
    expect((await instanceKey(h)).arn).toBe(newKey);
  });

  it('GIVEN a run switched to the new key WHEN rolled back THEN Identity Center and the alias return to the old key and the candidate is disabled and abandoned', async () => {
    h = await createHarness();
    const oldKey = (await migrateToCmk(h)).plan.newKeyArn!;
    const engine = h.engine();
    let run = await engine.advance((await engine.start(h.keyring.name, 'rotate')).id);
    const newKey = run.plan.newKeyArn!;
    run = await h.engine().rollback(run.id);
    expect(run.status).toBe('rolled-back');
    expect(await aliasTarget(h)).toBe(oldKey);
    expect(await instanceKey(h)).toEqual({ status: 'ENABLED', arn: oldKey, type: 'CUSTOMER_MANAGED_KEY' });
    expect(h.emulator.describeKeyState(oldKey)!.keyState).toBe('Enabled');
    expect(h.emulator.describeKeyState(newKey)!.keyState).toBe('Disabled');
    const ledger = (await h.store.getLedger(h.keyring.name))!;
    expect(ledger.generations.map((g) => [g.generation, g.state])).toEqual([[1, 'active'], [2, 'abandoned']]);
    expect(await h.store.getLease(h.keyring.name)).toBeUndefined();
    // the key ring is free for a new run
    await expect(h.engine().start(h.keyring.name, 'rotate')).resolves.toEqual(expect.objectContaining({ status: 'open' }));
  });

  it('GIVEN a completed rotation WHEN rollback is asked THEN it is refused with the cancel-deletion command; cancel-deletion restores the key, disabled', async () => {
    h = await createHarness();
    let run = await approvedAtTheGate(h);
    run = await h.engine().advance(run.id, { allowDeletion: true });
    const oldKey = run.plan.oldKeyArn!;
    await expect(h.engine().rollback(run.id)).rejects.toThrow(expect.objectContaining({ nextStep: expect.stringContaining(`rotate cancel-deletion identity-center --key ${oldKey}`) }));

    const cancel = h.engine();
    const cancelRun = await cancel.advance((await cancel.start(h.keyring.name, 'cancel-deletion', { key: oldKey })).id);
    expect(cancelRun.status).toBe('completed');
    expect(h.emulator.describeKeyState(oldKey)!.keyState).toBe('Disabled');
    expect((await h.store.getLedger(h.keyring.name))!.generations.find((g) => g.keyArn === oldKey)!.state).toBe('disabled');
  });

  it('GIVEN a generation the stacks created (origin terraform) WHEN its scheduled deletion is cancelled THEN the ledger marks it adopted, so the stacks import it back instead of planning a new key at its address', async () => {
    h = await createHarness();
    // A key ring that only keeps a key (no Identity Center): the stacks made its generation 1.
    const keyring = { ...h.keyring, identityCenter: undefined };
    const config = { ...h.config, keyrings: [keyring] };
    const kms = h.clients.kms;
    const made = (await kms.send(new CreateKeyCommand({ Description: 'made by the stacks', Tags: [{ TagKey: 'keyrotor:keyring', TagValue: keyring.name }] }))).KeyMetadata!;
    await kms.send(new CreateAliasCommand({ AliasName: keyring.alias, TargetKeyId: made.KeyId }));
    const adopt = h.engine({ config });
    await adopt.advance((await adopt.start(keyring.name, 'adopt')).id);
    expect((await h.store.getLedger(keyring.name))!.generations[0]!.origin).toBe('terraform');
    const engine = h.engine({ config });
    let run = await engine.advance((await engine.start(keyring.name, 'rotate')).id);
    await h.approveAll(run.id);
    run = await h.engine({ config }).advance(run.id, { allowDeletion: true });
    expect(run.status).toBe('completed');
    const cancel = h.engine({ config });
    await cancel.advance((await cancel.start(keyring.name, 'cancel-deletion', { key: made.Arn! })).id);
    const ledger = (await h.store.getLedger(keyring.name))!;
    expect(ledger.generations[0]).toEqual(expect.objectContaining({ keyArn: made.Arn, origin: 'adopted', state: 'disabled' }));
    expect(planGenerations(keyring.name, ledger)).toEqual(expect.arrayContaining([expect.objectContaining({ generation: 1, importKeyId: made.KeyId })]));
  });

  it('GIVEN the old key already pending deletion when schedule-deletion runs (a retried call whose first answer was lost, or scheduled by hand) THEN the stage records KMS\'s date instead of failing on KMS\'s refusal', async () => {
    h = await createHarness();
    let run = await approvedAtTheGate(h);
    run = await h.engine().advance(run.id);
    const oldKey = run.plan.oldKeyArn!;
    const scheduled = await h.clients.kms.send(new ScheduleKeyDeletionCommand({ KeyId: oldKey, PendingWindowInDays: 7 }));
    run = await h.engine().advance(run.id, { allowDeletion: true });
    expect(run.status).toBe('completed');
    expect(run.stages.find((st) => st.name === 'schedule-deletion')!.summary).toContain('found already pending deletion (PendingDeletion)');
    const generation = (await h.store.getLedger(h.keyring.name))!.generations.find((g) => g.keyArn === oldKey)!;
    expect([generation.state, generation.deletionDate]).toEqual(['pending-deletion', scheduled.DeletionDate!.toISOString()]);
  });

  it('GIVEN an open run WHEN a second run is started on the same key ring THEN it is refused naming the open run and how to finish it', async () => {
    h = await createHarness();
    await migrateToCmk(h);
    const first = await h.engine().start(h.keyring.name, 'rotate');
    const attempt = h.engine().start(h.keyring.name, 'rotate');
    await expect(attempt).rejects.toThrow(new RegExp(`already has an open run ${first.id}`));
    await expect(attempt).rejects.toBeInstanceOf(KeyrotorError);
  });

  it('GIVEN the config moved the key ring to another Region while a run is open WHEN advanced, rolled back or replanned THEN each refuses naming the field and both values, and AWS is not touched', async () => {
    h = await createHarness();
    await migrateToCmk(h);
    const started = await h.engine().start(h.keyring.name, 'rotate');
    const moved = { ...h.config, keyrings: h.config.keyrings.map((k) => (k.name === h.keyring.name ? { ...k, region: 'us-west-2', alias: 'alias/elsewhere' } : k)) };
    const calls = h.emulator.callLog().length;
    for (const act of [(id: string) => h.engine({ config: moved }).advance(id), (id: string) => h.engine({ config: moved }).rollback(id), (id: string) => h.engine({ config: moved }).replan(id)]) {
      const error = (await act(started.id).catch((e: unknown) => e)) as KeyrotorError;
      expect(error).toBeInstanceOf(KeyrotorError);
      expect(error.fault).toBe('operator');
      expect(error.message).toContain(`key ring ${h.keyring.name} was moved while run ${started.id} is open: region is "us-west-2" in the config, but the run was started with "${h.keyring.region}"`);
      expect(error.message).toContain(`alias is "alias/elsewhere" in the config, but the run was started with "${h.keyring.alias}"`);
      expect(error.nextStep).toContain(`restore keyrings[${h.keyring.name}].region to "${h.keyring.region}"`);
    }
    expect(h.emulator.callLog().length).toBe(calls);
    expect((await h.store.getRun(started.id))!.stages.every((s) => s.status === 'pending')).toBe(true);
    // Restored, the run goes on where it was.
    expect((await h.engine().advance(started.id)).status).toBe('waiting');
  });

  it('GIVEN the key ring renamed in the config while its run is open WHEN the new name is started THEN start refuses naming the old one, and drift reports the old one as undeclared (blocking a deploy)', async () => {
    h = await createHarness();
    await migrateToCmk(h);
    const open = await h.engine().start(h.keyring.name, 'rotate');
    const renamed = { ...h.config, keyrings: h.config.keyrings.map((k) => (k.name === h.keyring.name ? { ...k, name: 'renamed' } : k)) };
    for (const kind of ['adopt', 'rotate'] as const) {
      const error = (await h.engine({ config: renamed }).start('renamed', kind).catch((e: unknown) => e)) as KeyrotorError;
      expect(error).toBeInstanceOf(KeyrotorError);
      expect(error.message).toContain(`key ring renamed looks like ${h.keyring.name} renamed`);
      expect(error.message).toContain(`still has 1 live key(s)`);
      expect(error.message).toContain(`open run(s) ${open.id}`);
      expect(error.nextStep).toContain('restore its name in the config');
    }
    expect(await h.store.getLease('renamed')).toBeUndefined();
    const { runDrift } = await import('../../pipeline/drift/run-drift');
    const report = await runDrift({ config: renamed, store: h.store, clientsFor: () => h.clients, actor: async () => 'drift@example.com' }, { readOnly: true, deployGate: true });
    expect(report.orphans).toEqual([expect.objectContaining({ kind: 'undeclared-keyring', keyring: h.keyring.name, blocksDeploy: true, actual: `1 live key(s), open run(s) ${open.id}` })]);
    expect(report.drift).toBe(true);
  });

  it('GIVEN a run waiting at its gate and a hand-edited, invalid ledger WHEN advanced or rolled back THEN each stops with a StateError naming the ledger file, though the next stage would not read it', async () => {
    h = await createHarness();
    await migrateToCmk(h);
    const run = await h.engine().advance((await h.engine().start(h.keyring.name, 'rotate')).id);
    expect(stageStatuses(run)['approval-gate']).toBe('waiting');
    const file = path.join(h.ws.stateDir, 'ledgers', `${h.keyring.name}.json`);
    const ledger = JSON.parse(readFileSync(file, 'utf8'));
    ledger.generations[0].state = 'bogus';
    writeFileSync(file, JSON.stringify(ledger));
    for (const act of [() => h.engine().advance(run.id), () => h.engine().rollback(run.id)]) {
      const error = (await act().catch((e: unknown) => e)) as StateError;
      expect(error).toBeInstanceOf(StateError);
      expect(error.message).toContain(file);
    }
    expect((await h.store.getRun(run.id))!.status).toBe('waiting');
  });

  it('GIVEN someone moved the alias outside the pipeline WHEN a rotation starts THEN preflight fails naming the alias and the ledger key, and changes nothing', async () => {
    h = await createHarness();
    const gen1 = (await migrateToCmk(h)).plan.newKeyArn!;
    const { CreateKeyCommand } = await import('@aws-sdk/client-kms');
    const stray = (await h.clients.kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    await h.clients.kms.send(new UpdateAliasCommand({ AliasName: h.keyring.alias, TargetKeyId: stray }));
    const engine = h.engine();
    const run = await engine.start(h.keyring.name, 'rotate');
    await expect(engine.advance(run.id)).rejects.toThrow(`alias alias/identity-center points to ${stray} but the ledger's active generation 1 is ${gen1}`);
    expect(h.emulator.callLog().filter((c) => c.mutating && c.operation === 'CreateKey')).toHaveLength(2); // the migration's and the stray one only
  });

  it('GIVEN a key ring check command that fails WHEN checks run THEN the stage fails naming the check and keeps its output as evidence', async () => {
    h = await createHarness({ workspace: { checks: [{ name: 'app can decrypt', command: ['node', '-e', "console.log('decrypt failed for', process.env.KEYROTOR_NEW_KEY_ARN); process.exit(3)"] }] } });
    await migrateToCmk(h).catch(() => undefined); // the migration runs the same failing check
    const run = (await h.store.listRuns())[0]!;
    expect(stageStatuses(run)['integration-checks']).toBe('failed');
    expect(run.stages.find((s) => s.name === 'integration-checks')!.error!.message).toMatch(/command: app can decrypt \(exit 3: decrypt failed for arn:aws:kms:/);
    expect(JSON.stringify(run.evidence)).toContain('decrypt failed for');
  });

  it('GIVEN the real KMS quotas in the emulator WHEN a full rotation runs THEN the client-side limiter means no call is ever throttled', async () => {
    h = await createHarness();
    await migrateToCmk(h);
    const engine = h.engine();
    const run = await engine.advance((await engine.start(h.keyring.name, 'rotate')).id);
    await h.approveAll(run.id);
    await h.engine().advance(run.id, { allowDeletion: true });
    expect(h.emulator.callLog().filter((c) => c.outcome === 'ThrottlingException')).toEqual([]);
  });
});

describe('what the pipeline creates matches what the stacks declare (adoption shows no diff)', () => {
  it('GIVEN a rotated key WHEN the stacks are synthesized from the ledger THEN the key policy, description and tags are those CreateKey used', async () => {
    const h = await createHarness();
    try {
      await migrateToCmk(h);
      const engine = h.engine();
      const run = await engine.advance((await engine.start(h.keyring.name, 'rotate')).id);
      const newKey = run.plan.newKeyArn!;
      const { buildApp } = await import('../../stacks/app');
      const { Testing } = await import('cdktf');
      const ledgers = new Map([[h.keyring.name, (await h.store.getLedger(h.keyring.name))!]]);
      const app = buildApp(h.config, ledgers, { outdir: `${h.ws.dir}/cdktf.out` });
      const stack = app.node.children.find((c) => c.node.id.startsWith('keys-'))!;
      const synthesized = JSON.parse(Testing.synth(stack as never));
      const declared = synthesized.resource.aws_kms_key.identity_center_key_gen2;
      const provider = synthesized.provider.aws[0];
      const actual = h.emulator.describeKeyState(newKey)!;

      expect(JSON.parse(actual.policy)).toEqual(JSON.parse(declared.policy));
      expect(actual.tags).toEqual({ ...provider.default_tags[0].tags, ...declared.tags, 'keyrotor:run-id': run.id });
      expect(synthesized.import).toEqual(expect.arrayContaining([{ to: 'aws_kms_key.identity_center_key_gen2', id: newKey.split('/').pop() }]));
    } finally {
      await h.close();
    }
  });
});

describe('a rollback that cannot finish', () => {
  it('GIVEN Identity Center refuses to switch back WHEN rolling back THEN the failure is recorded on the stage, advance is refused, and a second rollback after the fix completes', async () => {
    const h = await createHarness();
    try {
      const oldKey = (await migrateToCmk(h)).plan.newKeyArn!;
      const engine = h.engine();
      const run = await engine.advance((await engine.start(h.keyring.name, 'rotate')).id); // old key disabled during soak
      // KMS keeps failing the EnableKey the soak's undo needs, past the client's retries.
      h.emulator.failNext('EnableKey', 5, { code: 'KMSInternalException', status: 500 });
      const failure = (await h.engine().rollback(run.id).catch((e: unknown) => e)) as KeyrotorError;
      expect(failure.message).toMatch(/EnableKey/);
      expect(failure.message).toMatch(/\[AWS request id [0-9a-f-]+\]/);
      // The advice names the command that works now: the rollback again, never `rotate advance`.
      expect(failure.nextStep).toContain(`\`rotate rollback ${run.id}\``);
      expect(failure.nextStep).not.toContain('rotate advance');
      expect(failure).toMatchObject({ fault: 'aws', retryable: true });
      const stuck = (await h.store.getRun(run.id))!;
      expect(stuck.stages.find((s) => s.name === 'soak')!.error!.message).toMatch(/^undo failed: /);
      expect(stuck.stages.find((s) => s.name === 'approval-gate')!.status).toBe('undone');
      await expect(h.engine().advance(run.id)).rejects.toThrow(`run ${run.id} is part-way through a rollback`);

      h.emulator.clearFaults();
      const rolled = await h.engine().rollback(run.id);
      expect(rolled.status).toBe('rolled-back');
      expect(h.emulator.describeKeyState(oldKey)!.keyState).toBe('Enabled');
      expect(await aliasTarget(h)).toBe(oldKey);
    } finally {
      await h.close();
    }
  });
});
