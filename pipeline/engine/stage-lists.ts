/**
 * The ordered stage list of each run kind, in one place (the SDK middleware-stack model): the
 * engine walks it, `rotate plan` prints it, and a run stores the names at start so a later code
 * change cannot silently reorder a run in flight.
 */
import type { RunKind } from '../state/types';
import type { StageDefinition } from './types';
import { preflight } from '../stages/preflight';
import { createKey } from '../stages/create-key';
import { verifyKey } from '../stages/verify-key';
import { promoteAlias } from '../stages/promote-alias';
import { switchIdentityCenter, switchIdentityCenterToAwsOwned } from '../stages/switch-identity-center';
import { integrationChecks } from '../stages/integration-checks';
import { soak } from '../stages/soak';
import { approvalGate } from '../stages/approval-gate';
import { scheduleDeletion } from '../stages/schedule-deletion';
import { retireAlias } from '../stages/retire-alias';
import { adoptKey } from '../stages/adopt-key';
import { cancelKeyDeletion } from '../stages/cancel-key-deletion';
import { collectEvidence } from '../stages/collect-evidence';

export type StartableKind = Exclude<RunKind, 'rollback'>;

const STAGES: Record<StartableKind, readonly StageDefinition[]> = {
  rotate: [preflight, createKey, verifyKey, promoteAlias, switchIdentityCenter, integrationChecks, soak, approvalGate, scheduleDeletion],
  'migrate-to-cmk': [preflight, createKey, verifyKey, promoteAlias, switchIdentityCenter, integrationChecks],
  // The alias goes before the soak: the soak is where anything still using it shows up.
  'migrate-to-aws-owned': [preflight, switchIdentityCenterToAwsOwned, integrationChecks, retireAlias, soak, approvalGate, scheduleDeletion],
  adopt: [preflight, adoptKey],
  'cancel-deletion': [preflight, cancelKeyDeletion],
  // A generation a run left behind (abandoned by a rollback, or retiring): deleted through the gate.
  'retire-key': [preflight, collectEvidence, approvalGate, scheduleDeletion],
};

export function stagesFor(kind: StartableKind): readonly StageDefinition[] {
  return STAGES[kind];
}

export function stageByName(kind: StartableKind, name: string): StageDefinition {
  const stage = STAGES[kind].find((s) => s.name === name);
  if (!stage) throw new Error(`run kind ${kind} has no stage ${name}`);
  return stage;
}
