/**
 * One key ring against AWS: every generation's key state, the alias target, Identity Center's
 * encryption configuration and status, each live generation's key policy (against the policy
 * builder, Identity Center statements included) and rotation settings; for a multi-Region key ring
 * also each recorded replica's state and policy in its own Region and the alias there. Reads only;
 * the ledger updates it finds due are returned for the caller to write.
 */
import type { KeyMetadata } from '@aws-sdk/client-kms';
import type { AwsClients } from '../aws/clients';
import type { KeyRingConfig } from '../config/types';
import type { Generation, Ledger, ReplicaKey } from '../ledger/types';
import { buildKeyPolicy } from '../policy/builder';
import { identityCenterGaps } from '../policy/identity-center';
import type { KeyPolicyDocument } from '../policy/types';
import { aliasTarget, describeInstanceEncryption } from '../stages/aws-reads';
import { expectedKeyState, isDueForDeleted } from './expected-state';
import { describeKeyIfExists, keyPolicy, rotationStatus } from './live-reads';
import { describeBudget } from '../material-rotation/budget';
import { readRotationBudget } from '../material-rotation/read';
import { describePolicyDifferences, diffKeyPolicy } from './policy-diff';
import type { DriftFinding, DriftKind } from './types';

export interface KeyringCheck {
  readonly checked: readonly string[];
  readonly findings: readonly DriftFinding[];
  readonly notes: readonly string[];
  /** Generations whose deletion date passed and whose key KMS no longer has. */
  readonly dueForDeleted: readonly Generation[];
}

/** Which kinds a deploy must not run over (see DriftFinding.blocksDeploy). */
const BLOCKS_DEPLOY: ReadonlySet<DriftKind> = new Set(['key-state', 'key-missing', 'key-not-deleted', 'alias-target', 'identity-center', 'stale-synth', 'undeclared-keyring']);
const TERRAFORM_OWNED: ReadonlySet<DriftKind> = new Set(['key-policy', 'identity-center-policy', 'rotation', 'key-spec']);

export function finding(kind: DriftKind, fields: Omit<DriftFinding, 'kind' | 'owner' | 'blocksDeploy'>): DriftFinding {
  return { kind, owner: TERRAFORM_OWNED.has(kind) ? 'terraform' : 'pipeline', blocksDeploy: BLOCKS_DEPLOY.has(kind), ...fields };
}

const RECONCILE = (keyring: string) =>
  `find out who changed it (CloudTrail) — if a rotation is in flight, let it finish or \`rotate rollback\` it and merge its state PR; otherwise restore AWS to the ledger, or record the change through a reviewed run (\`rotate status\` lists ${keyring}'s runs)`;
const DEPLOY_FIXES = 'a deploy (terraform apply) of the current config converges it; run `rotate lint` first if the config changed';

/** Clients for the key ring's account in another Region (its replicas'); without it, replicas are not checked (a note says so). */
export type ClientsForRegion = (keyring: KeyRingConfig, region: string) => AwsClients;

export async function checkKeyring(clients: AwsClients, keyring: KeyRingConfig, ledger: Ledger | undefined, now: Date, clientsForRegion?: ClientsForRegion): Promise<KeyringCheck> {
  const findings: DriftFinding[] = [];
  const checked: string[] = [];
  const notes: string[] = [];
  const dueForDeleted: Generation[] = [];
  const generations = [...(ledger?.generations ?? [])].sort((a, b) => a.generation - b.generation);

  if (generations.length === 0) {
    notes.push(
      keyring.identityCenter
        ? `no generation in the ledger: the stacks declare nothing for this attached key ring until \`rotate start ${keyring.name} --kind migrate-to-cmk\` (or \`--kind adopt\`)`
        : `no generation in the ledger: generation 1 is Terraform's (greenfield); \`rotate start ${keyring.name} --kind adopt\` brings it under the pipeline`,
    );
    return { checked, findings, notes, dueForDeleted };
  }

  const expectedPolicy = buildKeyPolicy(keyring);
  const live = new Map<number, KeyMetadata | undefined>();
  for (const g of generations) {
    const key = await describeKeyIfExists(clients, g.keyArn);
    live.set(g.generation, key);
    checkKeyState(keyring, g, key, now, findings, dueForDeleted);
    if (key && (key.KeyState === 'Enabled' || key.KeyState === 'Disabled') && g.state !== 'deleted') {
      checkKeySpec(keyring, g, key, findings);
      await checkPolicy(clients, keyring, { generation: g.generation, keyArn: g.keyArn, what: `generation ${g.generation}` }, expectedPolicy, findings);
      await checkRotation(clients, keyring, g, findings);
    }
  }
  checked.push(`key state of generation${generations.length === 1 ? '' : 's'} ${generations.map((g) => g.generation).join(', ')}`, 'key policies and rotation of the live generations');

  await checkAlias(clients, keyring, generations, findings);
  checked.push(`alias ${keyring.alias}`);

  const replicaRegions = [...new Set(generations.flatMap((g) => (g.replicas ?? []).map((r) => r.region)))].sort();
  if (replicaRegions.length > 0) {
    if (clientsForRegion) {
      await checkReplicas(clientsForRegion, keyring, generations, expectedPolicy, now, findings);
      checked.push(`replicas and the alias in ${replicaRegions.join(', ')}`);
    } else {
      notes.push(`replicas in ${replicaRegions.join(', ')} not checked (no clients for other Regions)`);
    }
  }
  notes.push(...(await onDemandRotationNotes(clients, generations, live)));

  if (keyring.identityCenter) {
    await checkIdentityCenter(clients, keyring, ledger!, findings);
    checked.push(`Identity Center ${keyring.identityCenter.instanceArn}`);
  }
  return { checked, findings, notes, dueForDeleted };
}

function checkKeyState(keyring: KeyRingConfig, g: Generation, key: KeyMetadata | undefined, now: Date, findings: DriftFinding[], due: Generation[]): void {
  const expected = expectedKeyState(g);
  const actual = key?.KeyState ?? 'absent';
  const base = { keyring: keyring.name, generation: g.generation, subject: g.keyArn };
  // A multi-Region primary scheduled with its replicas waits in PendingReplicaDeletion until they are gone.
  if (actual === 'PendingReplicaDeletion' && expected === 'PendingDeletion' && (g.replicas ?? []).some((r) => r.state === 'pending-deletion')) return;
  if (isDueForDeleted(g, key?.KeyState, now)) {
    due.push(g);
    return;
  }
  if (expected === actual) {
    if (expected === 'PendingDeletion' && g.deletionDate && key?.DeletionDate && Math.abs(key.DeletionDate.getTime() - Date.parse(g.deletionDate)) > 60_000) {
      findings.push(finding('deletion-date', {
        ...base,
        expected: g.deletionDate,
        actual: key.DeletionDate.toISOString(),
        message: `generation ${g.generation} is pending deletion on ${key.DeletionDate.toISOString()}, but the ledger says ${g.deletionDate} (cancelled and rescheduled outside the pipeline?)`,
        nextStep: RECONCILE(keyring.name),
      }));
    }
    return;
  }
  if (actual === 'absent') {
    findings.push(finding('key-missing', {
      ...base,
      expected,
      actual,
      message: `generation ${g.generation} (${g.state} in the ledger) does not exist in KMS${g.deletionDate ? ` although its deletion date ${g.deletionDate} has not passed` : ''}`,
      nextStep: `check the key ARN and the credentials' account; ${RECONCILE(keyring.name)}`,
    }));
    return;
  }
  if (expected === 'absent') {
    findings.push(finding('key-not-deleted', {
      ...base,
      expected,
      actual,
      message: `generation ${g.generation} is deleted in the ledger but KMS has it ${actual} (was its deletion cancelled?)`,
      nextStep: `a deleted generation cannot come back through the lifecycle: if KMS still has the key on purpose, restore its ledger entry from version control (the state/ history); otherwise ${RECONCILE(keyring.name)}`,
    }));
    return;
  }
  findings.push(finding('key-state', {
    ...base,
    expected,
    actual,
    message: `generation ${g.generation} is ${actual} in KMS, but the ledger has it ${g.state} (so it should be ${expected})`,
    nextStep: RECONCILE(keyring.name),
  }));
}

function checkKeySpec(keyring: KeyRingConfig, g: Generation, key: KeyMetadata, findings: DriftFinding[]): void {
  const problems: string[] = [];
  if (key.KeyManager !== 'CUSTOMER') problems.push(`KeyManager ${key.KeyManager}`);
  if (key.KeySpec !== 'SYMMETRIC_DEFAULT') problems.push(`KeySpec ${key.KeySpec}`);
  if (key.KeyUsage !== 'ENCRYPT_DECRYPT') problems.push(`KeyUsage ${key.KeyUsage}`);
  if ((key.Description ?? '') !== keyring.description) problems.push(`description ${JSON.stringify(key.Description ?? '')}`);
  if (problems.length === 0) return;
  findings.push(finding('key-spec', {
    keyring: keyring.name,
    generation: g.generation,
    subject: g.keyArn,
    expected: `CUSTOMER SYMMETRIC_DEFAULT ENCRYPT_DECRYPT, description ${JSON.stringify(keyring.description)}`,
    actual: problems.join(', '),
    message: `generation ${g.generation} differs from the config: ${problems.join(', ')}`,
    nextStep: DEPLOY_FIXES,
  }));
}

/** The KMS key state a recorded replica should have: a live one follows its generation's enablement. */
function expectedReplicaState(g: Generation, replica: ReplicaKey): ReturnType<typeof expectedKeyState> {
  if (replica.state === 'deleted') return 'absent';
  if (replica.state === 'pending-deletion') return 'PendingDeletion';
  return g.state === 'candidate' || g.state === 'active' || g.state === 'retiring' ? 'Enabled' : 'Disabled';
}

/**
 * Each recorded replica in its own Region: its key state against the ledger, its policy against
 * the builder's (KMS never copies a policy from the primary), and the alias of that Region on the
 * active generation's replica. A replica gone after its deletion date is simply gone.
 */
async function checkReplicas(clientsForRegion: ClientsForRegion, keyring: KeyRingConfig, generations: readonly Generation[], expectedPolicy: KeyPolicyDocument, now: Date, findings: DriftFinding[]): Promise<void> {
  for (const g of generations) {
    if (g.state === 'deleted') continue;
    for (const replica of g.replicas ?? []) {
      const clients = clientsForRegion(keyring, replica.region);
      const key = await describeKeyIfExists(clients, replica.keyArn);
      const expected = expectedReplicaState(g, replica);
      const actual = key?.KeyState ?? 'absent';
      const what = `the replica of generation ${g.generation} in ${replica.region}`;
      const base = { keyring: keyring.name, generation: g.generation, subject: replica.keyArn, expected, actual };
      const gonePastItsDate = actual === 'absent' && expected === 'PendingDeletion' && replica.deletionDate !== undefined && Date.parse(replica.deletionDate) <= now.getTime();
      if (actual !== expected && !gonePastItsDate) {
        const kind = actual === 'absent' ? 'key-missing' : expected === 'absent' ? 'key-not-deleted' : 'key-state';
        findings.push(finding(kind, {
          ...base,
          message:
            kind === 'key-missing'
              ? `${what} (${replica.state} in the ledger) does not exist in KMS; a multi-Region Identity Center needs a replica in each of its Regions`
              : `${what} is ${actual} in KMS, but the ledger has it ${replica.state} (so it should be ${expected})`,
          nextStep: RECONCILE(keyring.name),
        }));
      }
      if (key && (key.KeyState === 'Enabled' || key.KeyState === 'Disabled') && replica.state === 'live') {
        await checkPolicy(clients, keyring, { generation: g.generation, keyArn: replica.keyArn, what }, expectedPolicy, findings);
      }
      if (g.state === 'active' && replica.state === 'live') {
        const target = await aliasTarget({ clients }, keyring.alias);
        if (target !== replica.keyArn) {
          findings.push(finding('alias-target', {
            keyring: keyring.name,
            subject: `${keyring.alias} in ${replica.region}`,
            expected: replica.keyArn,
            actual: target ?? 'no alias',
            message: `alias ${keyring.alias} in ${replica.region} points to ${target ?? 'nothing (no alias)'}, but the ledger's active generation ${g.generation} has its replica there at ${replica.keyArn}`,
            nextStep: RECONCILE(keyring.name),
          }));
        }
      }
    }
  }
}

/**
 * A key policy as GetKeyPolicy returns it, read as a document (not JSON reads as one without
 * statements). Written by AWS or by hand, it need not be keyrotor's shape: the readers (the diff,
 * the Identity Center check) take statements without Sids and a single statement object.
 */
function livePolicy(text: string): KeyPolicyDocument {
  try {
    return JSON.parse(text) as KeyPolicyDocument;
  } catch {
    return { Version: '2012-10-17', Statement: [] };
  }
}

/** `subject`: which key (a generation, or its replica in a Region) and how messages name it. */
async function checkPolicy(clients: AwsClients, keyring: KeyRingConfig, subject: { generation: number; keyArn: string; what: string }, expected: KeyPolicyDocument, findings: DriftFinding[]): Promise<void> {
  const live = livePolicy(await keyPolicy(clients, subject.keyArn));
  const differences = diffKeyPolicy(expected, live);
  if (differences.length === 0) return;
  const gaps = keyring.identityCenter ? identityCenterGaps(live, { account: keyring.account, includeOrganizationStatements: true }) : [];
  findings.push(finding(gaps.length > 0 ? 'identity-center-policy' : 'key-policy', {
    keyring: keyring.name,
    generation: subject.generation,
    subject: subject.keyArn,
    expected: 'the policy builder\'s document for this key ring',
    actual: describePolicyDifferences(differences),
    message:
      gaps.length > 0
        ? `the key policy of ${subject.what} lacks what Identity Center needs (${gaps.map((x) => x.missing).join('; ')}); Identity Center never re-checks a policy after the switch, so sign-in breaks when it next uses the key`
        : `the key policy of ${subject.what} is not the builder's: ${describePolicyDifferences(differences)}`,
    nextStep: `${DEPLOY_FIXES} (the apply puts the builder's policy back); find who ran PutKeyPolicy in CloudTrail`,
  }));
}

async function checkRotation(clients: AwsClients, keyring: KeyRingConfig, g: Generation, findings: DriftFinding[]): Promise<void> {
  const status = await rotationStatus(clients, g.keyArn);
  const want = keyring.rotation.automaticRotationPeriodDays;
  if (status.enabled && (status.periodDays === undefined || status.periodDays === want)) return;
  const actual = status.enabled ? `every ${status.periodDays} days` : 'off';
  findings.push(finding('rotation', {
    keyring: keyring.name,
    generation: g.generation,
    subject: g.keyArn,
    expected: `every ${want} days`,
    actual,
    message: `automatic rotation of generation ${g.generation} is ${actual}; the config says every ${want} days`,
    nextStep: DEPLOY_FIXES,
  }));
}

async function checkAlias(clients: AwsClients, keyring: KeyRingConfig, generations: readonly Generation[], findings: DriftFinding[]): Promise<void> {
  const target = await aliasTarget({ clients }, keyring.alias);
  const active = generations.find((g) => g.state === 'active');
  if (target === active?.keyArn) return;
  const targetGeneration = generations.find((g) => g.keyArn === target);
  const describe = (arn: string | undefined, g: Generation | undefined) => (arn === undefined ? 'nothing (no alias)' : g ? `generation ${g.generation} (${arn}, ${g.state})` : `${arn} (not in the ledger)`);
  findings.push(finding('alias-target', {
    keyring: keyring.name,
    subject: keyring.alias,
    expected: active?.keyArn ?? 'no alias (no active generation)',
    actual: target ?? 'no alias',
    message: `alias ${keyring.alias} points to ${describe(target, targetGeneration)}, but the ledger's active generation is ${active ? describe(active.keyArn, active) : 'none'}`,
    nextStep: RECONCILE(keyring.name),
  }));
}

async function checkIdentityCenter(clients: AwsClients, keyring: KeyRingConfig, ledger: Ledger, findings: DriftFinding[]): Promise<void> {
  const instanceArn = keyring.identityCenter!.instanceArn;
  const recorded = ledger.identityCenter;
  const instance = await describeInstanceEncryption({ clients }, instanceArn);
  const actualTarget = instance.keyType === 'CUSTOMER_MANAGED_KEY' ? `CUSTOMER_MANAGED_KEY ${instance.kmsKeyArn}` : `${instance.keyType ?? 'unknown key type'}`;
  const status = `${instance.status ?? '?'} / encryption ${instance.encryptionStatus ?? '?'}${instance.reason ? ` (${instance.reason})` : ''}`;
  if (!recorded) {
    findings.push(finding('identity-center-unrecorded', {
      keyring: keyring.name,
      subject: instanceArn,
      expected: 'a recorded Identity Center target',
      actual: actualTarget,
      message: `the ledger of ${keyring.name} has generations but records no Identity Center target; the instance uses ${actualTarget}`,
      nextStep: `record it through the pipeline (a \`migrate-to-cmk\` run switches and records; \`adopt\` records an existing setting on a key ring without generations)`,
    }));
    return;
  }
  const expectedTarget = recorded.keyType === 'CUSTOMER_MANAGED_KEY' ? `CUSTOMER_MANAGED_KEY ${recorded.kmsKeyArn}` : recorded.keyType;
  const healthy = instance.status === 'ACTIVE' && instance.encryptionStatus === 'ENABLED';
  if (expectedTarget !== actualTarget || !healthy) {
    const generation = ledger.generations.find((g) => g.keyArn === instance.kmsKeyArn);
    findings.push(finding('identity-center', {
      keyring: keyring.name,
      subject: instanceArn,
      expected: `${expectedTarget}, ACTIVE / encryption ENABLED`,
      actual: `${actualTarget}, ${status}`,
      message:
        expectedTarget !== actualTarget
          ? `Identity Center encrypts with ${actualTarget}${generation ? ` (generation ${generation.generation}, ${generation.state})` : instance.kmsKeyArn ? ' (not in the ledger)' : ''}, but the ledger records ${expectedTarget}`
          : `Identity Center is ${status}, not ACTIVE / ENABLED`,
      nextStep: healthy ? RECONCILE(keyring.name) : 'wait for a switch in progress to finish (UPDATING), or read EncryptionStatusReason and fix the key (UPDATE_FAILED); then run `rotate drift` again',
    }));
  }
  // Whatever the ledger says, the key Identity Center uses right now must let it in.
  if (instance.keyType === 'CUSTOMER_MANAGED_KEY' && instance.kmsKeyArn && !ledger.generations.some((g) => g.keyArn === instance.kmsKeyArn)) {
    const text = await keyPolicy(clients, instance.kmsKeyArn);
    const gaps = identityCenterGaps(livePolicy(text), { account: keyring.account });
    if (gaps.length > 0) {
      findings.push(finding('identity-center-policy', {
        keyring: keyring.name,
        subject: instance.kmsKeyArn,
        expected: 'the Identity Center service statements',
        actual: gaps.map((g) => g.missing).join('; '),
        message: `the key Identity Center uses (${instance.kmsKeyArn}, not in the ledger) lacks what Identity Center needs: ${gaps.map((g) => g.missing).join('; ')}`,
        nextStep: 'restore the key policy now (Identity Center never re-checks it), then reconcile the ledger',
      }));
    }
  }
}

/** The active key's rotation history and on-demand budget (material-rotation/budget.ts), as notes: not drift, but what `rotate-material` has left. */
async function onDemandRotationNotes(clients: AwsClients, generations: readonly Generation[], live: ReadonlyMap<number, KeyMetadata | undefined>): Promise<string[]> {
  const active = generations.find((g) => g.state === 'active');
  if (!active || live.get(active.generation)?.KeyState !== 'Enabled') return [];
  const budget = await readRotationBudget(clients.kms, active.keyArn);
  return [`generation ${active.generation} (active): ${describeBudget(budget)}`];
}
