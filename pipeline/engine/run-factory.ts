/**
 * Builds a new run: its id, its plan (fixed at start; approvers sign its digest) and its stage
 * records. Pure: no I/O, so `rotate plan` shows exactly what `rotate start` would store.
 */
import { randomBytes } from 'node:crypto';
import type { KeyRingConfig } from '../config/types';
import type { Ledger } from '../ledger/types';
import type { Run, RunPlan } from '../state/types';
import { digestOf } from '../canonical-json';
import { KeyrotorError } from '../errors';
import { barFor, type BarInputs } from '../approvals/bar';
import { stagesFor, type StartableKind } from './stage-lists';
import { ROTATION_DEFAULTS } from '../config/schema';

const DEFAULT_ON_DEMAND_ROTATION_RESERVE = ROTATION_DEFAULTS.onDemandRotationReserve ?? 5;
import type { RunTarget } from './targets';

export function newRunId(keyring: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${keyring}-${stamp}-${randomBytes(3).toString('hex')}`;
}

export function activeKeyArn(ledger: Ledger | undefined): string | undefined {
  return ledger?.generations.find((g) => g.state === 'active')?.keyArn;
}

/** Whether runs of `kind` delete through the approval gate, and so record an approval bar in their plan. */
export function kindNeedsApprovals(kind: StartableKind): boolean {
  return stagesFor(kind).some((s) => s.name === 'approval-gate');
}

/**
 * The plan of a run of `kind` on `keyring`, given the ledger as it is now and the target that
 * `resolveTarget` validated (cancel-deletion, retire-key). Kinds with an approval gate also record
 * the bar their approvers sign for (`bar`: the allowed_signers text and people read by the caller,
 * since this stays free of I/O).
 */
export function buildPlan(kind: StartableKind, keyring: KeyRingConfig, ledger: Ledger | undefined, target?: RunTarget, bar?: BarInputs): RunPlan {
  const targeted = kind === 'cancel-deletion' || kind === 'retire-key';
  if (targeted && !target) throw new KeyrotorError(`--kind ${kind} needs the key it acts on`, { fault: 'internal', nextStep: 'resolve the target with resolveTarget first' });
  // Only kinds that retire a key name one: rotate and migrate-to-aws-owned retire the active
  // generation, cancel-deletion and retire-key act on the one they were given.
  const oldKeyArn = targeted ? target?.keyArn : kind === 'rotate' || kind === 'migrate-to-aws-owned' ? activeKeyArn(ledger) : undefined;
  if ((kind === 'rotate' || kind === 'migrate-to-aws-owned') && !oldKeyArn) {
    throw new KeyrotorError(`key ring ${keyring.name} has no active generation in its ledger, so there is nothing to ${kind === 'rotate' ? 'rotate' : 'retire'}`, {
      fault: 'operator',
      nextStep: `record the key the alias uses with \`rotate start ${keyring.name} --kind adopt\`, or create one with \`rotate start ${keyring.name} --kind migrate-to-cmk\``,
    });
  }
  if ((kind === 'migrate-to-cmk' || kind === 'migrate-to-aws-owned') && !keyring.identityCenter) {
    throw new KeyrotorError(`key ring ${keyring.name} has no identityCenter attachment in the config, so ${kind} has nothing to switch`, {
      fault: 'operator',
      nextStep: `add keyrings[].identityCenter for ${keyring.name}, or use \`--kind rotate\``,
    });
  }
  const materialKeyArn = kind === 'rotate-material' ? activeKeyArn(ledger) : undefined;
  if (kind === 'rotate-material' && !materialKeyArn) {
    throw new KeyrotorError(`key ring ${keyring.name} has no active generation in its ledger, so there is no key whose material could rotate`, {
      fault: 'operator',
      nextStep: `record the key the alias uses with \`rotate start ${keyring.name} --kind adopt\`, or create one with \`rotate start ${keyring.name} --kind migrate-to-cmk\``,
    });
  }
  // Kinds that create a key replicate it to the Regions the config names at start.
  const createsKey = kind === 'rotate' || kind === 'migrate-to-cmk';
  const needsApprovals = kindNeedsApprovals(kind);
  if (needsApprovals && !bar) {
    throw new KeyrotorError(`a ${kind} run deletes a key through the approval gate, so its plan must record the approval bar (allowed_signers contents); none was given`, {
      fault: 'internal',
      nextStep: 'report this as a keyrotor bug',
    });
  }
  return {
    kind,
    keyring: keyring.name,
    account: keyring.account,
    region: keyring.region,
    alias: keyring.alias,
    ...(oldKeyArn !== undefined ? { oldKeyArn } : {}),
    identityCenterInstanceArn: keyring.identityCenter?.instanceArn,
    deletionWindowDays: keyring.rotation.deletionWindowDays,
    minimumSoakHours: keyring.rotation.minimumSoakHours,
    ...(needsApprovals && bar ? { disableOldKeyDuringSoak: keyring.rotation.disableOldKeyDuringSoak, approvals: barFor(keyring, bar) } : {}),
    stages: stagesFor(kind).map((s) => s.name),
    ...(kind === 'cancel-deletion' ? { enableAfterCancel: target?.enable ?? false } : {}),
    ...(createsKey && keyring.multiRegion ? { replicaRegions: [...keyring.multiRegion.replicaRegions] } : {}),
    ...(materialKeyArn ? { newKeyArn: materialKeyArn, onDemandRotationReserve: keyring.rotation.onDemandRotationReserve ?? DEFAULT_ON_DEMAND_ROTATION_RESERVE } : {}),
  };
}

export function newRun(id: string, plan: RunPlan, initiator: string, now: Date): Run {
  const at = now.toISOString();
  return {
    id,
    kind: plan.kind,
    keyring: plan.keyring,
    initiator,
    createdAt: at,
    updatedAt: at,
    status: 'open',
    plan,
    planDigest: digestOf(plan),
    stages: plan.stages.map((name) => ({ name, status: 'pending', attempts: 0, mutations: [] })),
    approvals: [],
    version: 0,
  };
}
