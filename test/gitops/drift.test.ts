/**
 * `rotate drift` against the emulator through the real SDK clients: each kind of drift the issue
 * names, the one write it makes (pending-deletion → deleted once KMS has deleted the key), the
 * deploy gate, and its exit codes through the real CLI parser.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CreateKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
  UpdateAliasCommand,
} from '@aws-sdk/client-kms';
import { UpdateInstanceCommand } from '@aws-sdk/client-sso-admin';
import { runDrift, UnknownKeyringError } from '../../pipeline/drift/run-drift';
import type { DriftReport } from '../../pipeline/drift/types';
import { withGenerationState } from '../../pipeline/ledger/generations';
import { buildKeyPolicy, renderKeyPolicy } from '../../pipeline/policy/builder';
import { main } from '../../scripts/cli/main';
import type { CliIo } from '../../scripts/cli/context';
import { buildApp, keyStacksOf } from '../../stacks/app';
import { writeSynthManifest } from '../../stacks/synth-manifest';
import { createHarness, migrateToCmk, type Harness } from '../engine/harness';

const DAY = 24 * 3600_000;

/** Emulator and drift share a clock that a test can move forward (KMS deletes keys past their date). */
const clock = { offsetMs: 0 };
const now = () => new Date(Date.now() + clock.offsetMs);

let h: Harness;
beforeEach(async () => {
  clock.offsetMs = 0;
  h = await createHarness({ emulator: { now } });
});
afterEach(async () => h.close());

function drift(options: Parameters<typeof runDrift>[1] = {}): Promise<DriftReport> {
  return runDrift({ config: h.config, store: h.store, clientsFor: () => h.clients, actor: async () => 'drift-check@example.com', now }, options);
}

const kinds = (report: DriftReport) => report.keyrings.flatMap((k) => k.findings.map((f) => f.kind));

/** Rotation up to the approval gate: generation 2 active (alias and Identity Center on it), generation 1 disabled by the soak. */
async function rotateToGate(): Promise<{ oldKey: string; newKey: string; runId: string }> {
  const oldKey = (await migrateToCmk(h)).plan.newKeyArn!;
  const engine = h.engine();
  const run = await engine.advance((await engine.start(h.keyring.name, 'rotate')).id);
  expect(run.stages.find((s) => s.name === 'approval-gate')!.status).toBe('waiting');
  return { oldKey, newKey: run.plan.newKeyArn!, runId: run.id };
}

/** ScheduleKeyDeletion on the old key and the ledger entry schedule-deletion would write. */
async function scheduleDeletion(keyArn: string, days = 7): Promise<string> {
  const out = await h.clients.kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyArn, PendingWindowInDays: days }));
  const deletionDate = out.DeletionDate!.toISOString();
  const ledger = (await h.store.getLedger(h.keyring.name))!;
  const generation = ledger.generations.find((g) => g.keyArn === keyArn)!.generation;
  await h.store.putLedger(withGenerationState(ledger, generation, 'pending-deletion', now().toISOString(), { deletionDate }));
  return deletionDate;
}

describe('GIVEN AWS as the pipeline left it', () => {
  test('WHEN checked after a migration THEN no drift, exit 0, and it says what it compared', async () => {
    await migrateToCmk(h);
    const report = await drift();
    expect(report).toMatchObject({ version: 1, drift: false, exitCode: 0, orphans: [], synth: [] });
    expect(report.keyrings).toEqual([
      expect.objectContaining({
        name: 'identity-center',
        findings: [],
        updates: [],
        checked: ['key state of generation 1', 'key policies and rotation of the live generations', 'alias alias/identity-center', 'Identity Center arn:aws:sso:::instance/ssoins-7223f2cd9d6a6b51'],
      }),
    ]);
  });

  test('WHEN checked mid-rotation at the approval gate (old key disabled by the soak) THEN no drift', async () => {
    await rotateToGate();
    const report = await drift();
    expect(kinds(report)).toEqual([]);
    expect(report.exitCode).toBe(0);
  });

  test('WHEN checked THEN it never changes AWS', async () => {
    await rotateToGate();
    h.emulator.clearCallLog();
    await drift();
    expect(h.emulator.callLog().filter((c) => c.mutating)).toEqual([]);
  });
});

describe('GIVEN a change made outside the pipeline', () => {
  test('WHEN the alias was moved to another key THEN alias-target drift that blocks a deploy, naming both keys', async () => {
    const active = (await migrateToCmk(h)).plan.newKeyArn!;
    const stray = (await h.clients.kms.send(new CreateKeyCommand({ Description: 'stray' }))).KeyMetadata!.Arn!;
    await h.clients.kms.send(new UpdateAliasCommand({ AliasName: h.keyring.alias, TargetKeyId: stray }));
    const report = await drift();
    const [f] = report.keyrings[0]!.findings;
    expect(f).toMatchObject({ kind: 'alias-target', owner: 'pipeline', blocksDeploy: true, subject: 'alias/identity-center', expected: active, actual: stray });
    expect(f!.message).toContain(`${stray} (not in the ledger)`);
    expect(report.exitCode).toBe(1);
  });

  test('WHEN the active key was disabled THEN key-state drift', async () => {
    const active = (await migrateToCmk(h)).plan.newKeyArn!;
    await h.clients.kms.send(new DisableKeyCommand({ KeyId: active }));
    const report = await drift();
    expect(report.keyrings[0]!.findings[0]).toMatchObject({ kind: 'key-state', generation: 1, expected: 'Enabled', actual: 'Disabled', blocksDeploy: true });
    // Identity Center cannot use a disabled key either: the emulator's instance reports it.
    expect(report.exitCode).toBe(1);
  });

  test('WHEN Identity Center was switched back to an AWS owned key THEN identity-center drift', async () => {
    await migrateToCmk(h);
    await h.clients.ssoAdmin.send(new UpdateInstanceCommand({ InstanceArn: h.keyring.identityCenter!.instanceArn, EncryptionConfiguration: { KeyType: 'AWS_OWNED_KMS_KEY' } }));
    await new Promise((r) => setTimeout(r, 60)); // the emulator's UPDATING → ENABLED
    const report = await drift();
    expect(kinds(report)).toEqual(['identity-center']);
    expect(report.keyrings[0]!.findings[0]!.message).toMatch(/Identity Center encrypts with AWS_OWNED_KMS_KEY, but the ledger records CUSTOMER_MANAGED_KEY arn:aws:kms:/);
  });

  test('WHEN the key policy lost the Identity Center statements THEN identity-center-policy drift (Terraform-owned: reported, not blocking a deploy)', async () => {
    const active = (await migrateToCmk(h)).plan.newKeyArn!;
    const policy = buildKeyPolicy(h.keyring);
    const stripped = { ...policy, Statement: policy.Statement.filter((s) => !s.Sid.startsWith('AllowIdentityCenterAndIdentityStore')) };
    await h.clients.kms.send(new PutKeyPolicyCommand({ KeyId: active, PolicyName: 'default', Policy: renderKeyPolicy(stripped) }));
    const report = await drift();
    const [f] = report.keyrings[0]!.findings;
    expect(f).toMatchObject({ kind: 'identity-center-policy', owner: 'terraform', blocksDeploy: false, generation: 1 });
    expect(f!.actual).toContain('statement "AllowIdentityCenterAndIdentityStoreToUseKey" is missing');
    expect(f!.message).toContain('Identity Center never re-checks a policy');
    expect(report.exitCode).toBe(1);
    const gate = await drift({ deployGate: true });
    expect(gate).toMatchObject({ drift: false, exitCode: 0 });
  });

  test('WHEN a statement was edited THEN key-policy drift names it; a reformatted but equal policy is no drift', async () => {
    const active = (await migrateToCmk(h)).plan.newKeyArn!;
    const policy = buildKeyPolicy(h.keyring);
    await h.clients.kms.send(new PutKeyPolicyCommand({ KeyId: active, PolicyName: 'default', Policy: JSON.stringify({ ...policy, Statement: [...policy.Statement].reverse() }) }));
    expect(kinds(await drift())).toEqual([]);
    const edited = { ...policy, Statement: policy.Statement.map((s) => (s.Sid === 'AllowKeyAdministrators' ? { ...s, Principal: { AWS: 'arn:aws:iam::111111111111:role/Someone' } } : s)) };
    await h.clients.kms.send(new PutKeyPolicyCommand({ KeyId: active, PolicyName: 'default', Policy: JSON.stringify(edited) }));
    const [f] = (await drift()).keyrings[0]!.findings;
    expect(f).toMatchObject({ kind: 'key-policy', actual: 'statement "AllowKeyAdministrators" differs' });
  });

  test('WHEN automatic rotation was turned off THEN rotation drift', async () => {
    const active = (await migrateToCmk(h)).plan.newKeyArn!;
    await h.clients.kms.send(new DisableKeyRotationCommand({ KeyId: active }));
    const [f] = (await drift()).keyrings[0]!.findings;
    expect(f).toMatchObject({ kind: 'rotation', expected: 'every 365 days', actual: 'off', owner: 'terraform' });
  });

  test('WHEN a run died between CreateKey and its ledger write THEN its key is reported as an orphan with the run to resume', async () => {
    await migrateToCmk(h);
    const orphan = (
      await h.clients.kms.send(
        new CreateKeyCommand({
          Description: h.keyring.description,
          Tags: [
            { TagKey: 'keyrotor:keyring', TagValue: 'identity-center' },
            { TagKey: 'keyrotor:generation', TagValue: '2' },
            { TagKey: 'keyrotor:run-id', TagValue: 'identity-center-20261201T000000Z-abcdef' },
          ],
        }),
      )
    ).KeyMetadata!.Arn!;
    await h.clients.kms.send(new CreateKeyCommand({ Description: 'someone else\'s key' })); // untagged: not ours
    const report = await drift();
    expect(report.orphans).toEqual([
      expect.objectContaining({ kind: 'orphan-key', subject: orphan, keyring: 'identity-center', actual: 'Enabled, created by run identity-center-20261201T000000Z-abcdef', blocksDeploy: false }),
    ]);
    expect(report.orphans[0]!.nextStep).toContain('rotate advance identity-center-20261201T000000Z-abcdef');
    expect(report.exitCode).toBe(1);
  });
});

describe('GIVEN a generation pending deletion', () => {
  test('WHEN its deletion date has passed and KMS deleted the key THEN the ledger moves it to deleted, with an audit entry; a second run changes nothing', async () => {
    const { oldKey } = await rotateToGate();
    await scheduleDeletion(oldKey, 7);
    expect((await drift()).keyrings[0]!.updates).toEqual([]); // not due yet
    clock.offsetMs = 8 * DAY;
    const before = (await h.store.getLedger(h.keyring.name))!;
    const report = await drift();
    expect(report.keyrings[0]!.updates).toEqual([expect.objectContaining({ generation: 1, from: 'pending-deletion', to: 'deleted', written: true, keyArn: oldKey })]);
    expect(report.exitCode).toBe(0);
    const after = (await h.store.getLedger(h.keyring.name))!;
    expect(after.version).toBe(before.version + 1);
    expect(after.generations.find((g) => g.generation === 1)!.state).toBe('deleted');
    const audit = await h.store.readAudit();
    expect(audit[audit.length - 1]).toMatchObject({ action: 'ledger.intent', actor: 'drift-check@example.com', keyring: 'identity-center', detail: expect.objectContaining({ by: 'rotate drift', generations: '1:deleted' }) });
    expect((await h.store.verifyAudit()).ok).toBe(true);

    const again = await drift();
    expect(again.keyrings[0]!.updates).toEqual([]);
    expect((await h.store.getLedger(h.keyring.name))!.version).toBe(after.version);
  });

  test('WHEN --read-only THEN the due update is reported but not written', async () => {
    const { oldKey } = await rotateToGate();
    await scheduleDeletion(oldKey, 7);
    clock.offsetMs = 8 * DAY;
    const version = (await h.store.getLedger(h.keyring.name))!.version;
    const report = await drift({ readOnly: true });
    expect(report.keyrings[0]!.updates).toEqual([expect.objectContaining({ generation: 1, written: false })]);
    expect((await h.store.getLedger(h.keyring.name))!.version).toBe(version);
  });
});

describe('the races a deploy must not run over', () => {
  test('GIVEN main\'s ledger from before a rollback (its state PR not merged) THEN drift --deploy-gate fails on the alias, the keys and Identity Center', async () => {
    const { runId } = await rotateToGate();
    const staleMain = (await h.store.getLedger(h.keyring.name))!; // gen2 active, gen1 disabled: what main still says
    await h.engine().rollback(runId);
    const rolledBack = (await h.store.getLedger(h.keyring.name))!;
    await h.store.putLedger({ ...staleMain, version: rolledBack.version });
    const report = await drift({ deployGate: true, readOnly: true });
    expect(report.exitCode).toBe(1);
    expect(new Set(kinds(report))).toEqual(new Set(['key-state', 'alias-target', 'identity-center']));
    expect(report.keyrings[0]!.findings.every((f) => f.blocksDeploy)).toBe(true);
  });

  test('GIVEN main\'s ledger from before ScheduleKeyDeletion THEN key-state drift: the key is PendingDeletion, not Disabled', async () => {
    const { oldKey } = await rotateToGate();
    await h.clients.kms.send(new ScheduleKeyDeletionCommand({ KeyId: oldKey, PendingWindowInDays: 30 }));
    const report = await drift({ deployGate: true, readOnly: true });
    expect(report.keyrings[0]!.findings).toEqual([expect.objectContaining({ kind: 'key-state', generation: 1, expected: 'Disabled', actual: 'PendingDeletion' })]);
  });

  test('GIVEN a synth made from an older ledger THEN stale-synth; GIVEN one from the latest THEN none', async () => {
    await migrateToCmk(h);
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyrotor-drift-synth-'));
    const synth = async () => {
      const app = buildApp(h.config, new Map([[h.keyring.name, (await h.store.getLedger(h.keyring.name))!]]), { outdir, identityCenterHelperCommand: ['node', 'helper.js'] });
      app.synth();
      for (const stack of keyStacksOf(app)) writeSynthManifest(outdir, stack);
    };
    await synth();
    const { readSynthManifests } = await import('../../pipeline/gitops/synth-manifest');
    expect((await drift({ manifests: readSynthManifests(outdir), deployGate: true })).synth).toEqual([]);
    const engine = h.engine();
    await engine.advance((await engine.start(h.keyring.name, 'rotate')).id, { stageLimit: 2 }); // the ledger gains generation 2
    const report = await drift({ manifests: readSynthManifests(outdir), deployGate: true });
    expect(report.synth).toEqual([expect.objectContaining({ kind: 'stale-synth', keyring: 'identity-center', blocksDeploy: true })]);
    expect(report.exitCode).toBe(1);
    fs.rmSync(outdir, { recursive: true, force: true });
  });
});

describe('errors', () => {
  test('GIVEN an unknown key ring name THEN an operator error naming the configured ones', async () => {
    await expect(drift({ keyrings: ['nope'] })).rejects.toThrow(UnknownKeyringError);
    await expect(drift({ keyrings: ['nope'] })).rejects.toThrow('unknown key ring nope (the config');
  });

  test('GIVEN credentials of another account THEN the key ring is not checked (exit 2), never reported as drift', async () => {
    await migrateToCmk(h);
    h.emulator.addPrincipal('AKIATESTOPERATOR', 'arn:aws:iam::222222222222:user/elsewhere');
    const report = await drift();
    expect(report.keyrings[0]!.error).toMatchObject({ fault: 'operator', message: expect.stringContaining('credentials are for account 222222222222') });
    expect(report).toMatchObject({ drift: false, exitCode: 2 });
  });

  test('GIVEN KMS failing with 5xx THEN exit 3 (AWS side, retry)', async () => {
    await migrateToCmk(h);
    h.emulator.failNext('kms:DescribeKey', 100, { code: 'KMSInternalException', status: 500 });
    const report = await drift();
    expect(report.keyrings[0]!.error).toMatchObject({ fault: 'aws' });
    expect(report.exitCode).toBe(3);
  });
});

describe('the rotate drift command', () => {
  async function rotateCli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const io: CliIo = { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`), interactive: false, readLine: async () => undefined };
    const env = { KEYROTOR_OPERATOR: 'ci@example.com', AWS_ACCESS_KEY_ID: 'AKIATESTOPERATOR', AWS_SECRET_ACCESS_KEY: 'test' };
    const code = await main(['node', 'rotate', '--config', h.ws.configPath, '--endpoint', h.emulator.endpoint, ...args], { io, env, cwd: h.ws.dir });
    return { code, out, err };
  }

  test('GIVEN no drift THEN exit 0 and one line per key ring; --json is the versioned report', async () => {
    await migrateToCmk(h);
    const text = await rotateCli('drift');
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^identity-center \(111111111111\/us-east-1, ledger v\d+\): no drift/m);
    expect(text.out).toContain('drift: none');
    const json = await rotateCli('--json', 'drift', 'identity-center');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out)).toMatchObject({ version: 1, drift: false, exitCode: 0, keyrings: [{ name: 'identity-center' }] });
  });

  test('GIVEN drift THEN exit 1 with what drifted, what was expected and the next step', async () => {
    const active = (await migrateToCmk(h)).plan.newKeyArn!;
    await h.clients.kms.send(new DisableKeyCommand({ KeyId: active }));
    const result = await rotateCli('drift');
    expect(result.code).toBe(1);
    expect(result.out).toContain('DRIFT [key-state] generation 1 is Disabled in KMS, but the ledger has it active');
    expect(result.out).toContain('next: find out who changed it (CloudTrail)');
  });

  test('GIVEN an unknown key ring THEN exit 2; GIVEN a --synth-dir without manifests THEN exit 2 naming it', async () => {
    expect((await rotateCli('drift', 'nope')).code).toBe(2);
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'keyrotor-empty-'));
    const result = await rotateCli('drift', '--synth-dir', empty);
    expect(result.code).toBe(2);
    expect(result.err).toContain(`${empty}: holds no keyrotor-synth.json`);
  });

  test('GIVEN several key ring names THEN each is one argument (variadic)', async () => {
    await migrateToCmk(h);
    const result = await rotateCli('--json', 'drift', 'identity-center', 'identity-center');
    expect(JSON.parse(result.out).keyrings.map((k: { name: string }) => k.name)).toEqual(['identity-center']);
  });
});

