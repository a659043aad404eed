/**
 * The ordered stage list of each run kind, in one place (the SDK middleware-stack model): the
 * engine walks it, `rotate plan` prints it, and a run stores the names at start so a later code
 * change cannot silently reorder a run in flight. Stage modules (and with them the AWS SDK and
 * execa) are loaded only when a stage runs.
 */
import type { RunKind } from '../state/types';
import type { StageCatalogEntry, StageDefinition } from './types';

export type StartableKind = Exclude<RunKind, 'rollback'>;

const entry = (name: string, description: string, undoable: boolean, load: () => Promise<StageDefinition>): StageCatalogEntry => ({ name, description, undoable, load });

const preflight = entry('preflight', 'check credentials, the plan against the ledger, the live alias and Identity Center, one open run', false, async () => (await import('../stages/preflight')).preflight);
const createKey = entry('create-key', 'CreateKey with the key ring policy and a run tag; EnableKeyRotation (finds its own key on resume)', true, async () => (await import('../stages/create-key')).createKey);
const verifyKey = entry('verify-key', 'DescribeKey, GetKeyPolicy has the Identity Center statements, Encrypt/Decrypt round trip', false, async () => (await import('../stages/verify-key')).verifyKey);
const promoteAlias = entry('promote-alias', 'UpdateAlias to the new key (CreateAlias for a first generation)', true, async () => (await import('../stages/promote-alias')).promoteAlias);
const switchToNewKey = entry('switch-identity-center', 'UpdateInstance to the new key ARN; poll until ENABLED (UPDATE_FAILED → alias back, old key untouched)', true, async () => (await import('../stages/switch-identity-center')).switchIdentityCenter);
const switchToAwsOwned = entry('switch-identity-center', 'UpdateInstance to an AWS owned key; poll until ENABLED', true, async () => (await import('../stages/switch-identity-center')).switchIdentityCenterToAwsOwned);
const integrationChecks = entry('integration-checks', "alias round trip, instance on the new key, Identity Store read, the key ring's check commands", false, async () => (await import('../stages/integration-checks')).integrationChecks);
const soak = entry('soak', 'wait the minimum soak; optionally DisableKey on the old key (reversible); reports time left', true, async () => (await import('../stages/soak')).soak);
const approvalGate = entry('approval-gate', 'wait for M valid SSH-signed approvals over the plan and evidence digests', false, async () => (await import('../stages/approval-gate')).approvalGate);
const scheduleDeletion = entry('schedule-deletion', 're-check the old key is unused and its last use, re-check the quorum, ScheduleKeyDeletion with the signed window (only by `rotate delete`)', false, async () => (await import('../stages/schedule-deletion')).scheduleDeletion);
const retireAlias = entry('retire-alias', 'DeleteAlias (the key ring is being retired); the key becomes retiring', true, async () => (await import('../stages/retire-alias')).retireAlias);
const adoptKey = entry('adopt-key', 'record the key the alias points to as generation 1 (and what Identity Center uses)', false, async () => (await import('../stages/adopt-key')).adoptKey);
const cancelKeyDeletion = entry('cancel-key-deletion', 'CancelKeyDeletion (key stays Disabled), then EnableKey if --enable', false, async () => (await import('../stages/cancel-key-deletion')).cancelKeyDeletion);
const rotateKeyMaterial = entry('rotate-key-material', 'RotateKeyOnDemand on the active key unless its on-demand budget would fall below the reserve; wait until ListKeyRotations shows the rotation', false, async () => (await import('../stages/rotate-key-material')).rotateKeyMaterial);
const collectEvidence = entry('collect-evidence', 'DescribeKey and GetKeyLastUsage of the key to retire, recorded as the evidence approvers sign', false, async () => (await import('../stages/collect-evidence')).collectEvidence);

const STAGES: Record<StartableKind, readonly StageCatalogEntry[]> = {
  rotate: [preflight, createKey, verifyKey, promoteAlias, switchToNewKey, integrationChecks, soak, approvalGate, scheduleDeletion],
  'migrate-to-cmk': [preflight, createKey, verifyKey, promoteAlias, switchToNewKey, integrationChecks],
  // The alias goes before the soak: the soak is where anything still using it shows up.
  'migrate-to-aws-owned': [preflight, switchToAwsOwned, integrationChecks, retireAlias, soak, approvalGate, scheduleDeletion],
  adopt: [preflight, adoptKey],
  'cancel-deletion': [preflight, cancelKeyDeletion],
  // A generation a run left behind (abandoned by a rollback, or retiring): deleted through the gate.
  'retire-key': [preflight, collectEvidence, approvalGate, scheduleDeletion],
  // New key material in the same key: nothing is switched or deleted, so no soak and no approval.
  'rotate-material': [preflight, rotateKeyMaterial, integrationChecks],
};

/** Stages whose effect cannot be undone by rollback, and which run only when asked explicitly. */
export const DELETION_STAGE = 'schedule-deletion';
/** Stages that change what the alias or Identity Center uses. */
export const SWITCHING_STAGES: readonly string[] = ['promote-alias', 'switch-identity-center', 'retire-alias'];

export function stagesFor(kind: StartableKind): readonly StageCatalogEntry[] {
  return STAGES[kind];
}

export function isStartableKind(kind: string): kind is StartableKind {
  return kind in STAGES;
}

/** The catalog entry of a run's stage; an unknown name means the run was written by another version. */
export function stageEntry(kind: StartableKind, name: string): StageCatalogEntry {
  const found = STAGES[kind].find((s) => s.name === name);
  if (!found) {
    throw new Error(`run kind ${kind} has no stage ${name} (the run was started by another keyrotor version?)`);
  }
  return found;
}
