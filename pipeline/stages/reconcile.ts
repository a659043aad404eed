/**
 * Reconciling a written-ahead mutation whose outcome was never recorded (the process died between
 * sending it and writing what AWS answered): read AWS and record whether it took effect. Every
 * mutating operation a stage sends has a reader here; the engine calls it on resume, before the
 * stage runs again, and the stage (idempotent) then acts on what is true.
 */
import { GetKeyRotationStatusCommand } from '@aws-sdk/client-kms';
import { callAws } from '../aws/call';
import { KeyrotorError } from '../errors';
import type { StageContext } from '../engine/types';
import type { MutationRecord } from '../state/types';
import { aliasTarget, describeInstanceEncryption, describeKey, findKeyByRunTag } from './aws-reads';
import { inRegion, regionOfMutation } from './multi-region/regions';
import { replicaExists, rotationStarted } from './multi-region/reconcile-readers';

export interface Reconciliation {
  /** Whether the mutation took effect. */
  readonly done: boolean;
  /** What was read, in words, for the run and the audit log. */
  readonly note: string;
  /** Facts the stage needs again (e.g. the ARN of a key created before the crash). */
  readonly outputs?: Readonly<Record<string, unknown>>;
}

type Reader = (ctx: StageContext, m: MutationRecord) => Promise<Reconciliation>;

async function keyState(ctx: StageContext, keyArn: string): Promise<string | undefined> {
  return (await describeKey(ctx, keyArn)).KeyState;
}

const stateIs =
  (wanted: (state: string | undefined) => boolean, label: string): Reader =>
  async (ctx, m) => {
    const state = await keyState(ctx, m.target);
    return { done: wanted(state), note: `${m.target} is ${state ?? 'unknown'} (${label})` };
  };

const aliasIs =
  (expected: (m: MutationRecord) => string | undefined): Reader =>
  async (ctx, m) => {
    const target = await aliasTarget(ctx, m.target);
    const wanted = expected(m);
    return { done: target === wanted, note: `${m.target} → ${target ?? 'nothing'}` };
  };

const READERS: Readonly<Record<string, Reader>> = {
  'kms:CreateKey': async (ctx) => {
    const keyArn = await findKeyByRunTag(ctx, ctx.run().id);
    return keyArn
      ? { done: true, note: `found ${keyArn} by its run tag`, outputs: { newKeyArn: keyArn } }
      : { done: false, note: 'no key carries this run\'s tag' };
  },
  'kms:EnableKeyRotation': async (ctx, m) => {
    const out = await callAws('kms:GetKeyRotationStatus', { target: m.target }, () => ctx.clients.kms.send(new GetKeyRotationStatusCommand({ KeyId: m.target })));
    return { done: out.KeyRotationEnabled === true, note: `automatic rotation ${out.KeyRotationEnabled ? 'enabled' : 'not enabled'} on ${m.target}` };
  },
  'kms:CreateAlias': aliasIs((m) => m.detail?.key),
  'kms:UpdateAlias': aliasIs((m) => m.detail?.to),
  'kms:DeleteAlias': aliasIs(() => undefined),
  'kms:DisableKey': stateIs((s) => s === 'Disabled' || s === 'PendingDeletion', 'expected Disabled'),
  'kms:EnableKey': stateIs((s) => s === 'Enabled', 'expected Enabled'),
  // A multi-Region primary scheduled while it has replicas waits in PendingReplicaDeletion.
  'kms:ScheduleKeyDeletion': stateIs((s) => s === 'PendingDeletion' || s === 'PendingReplicaDeletion', 'expected PendingDeletion or PendingReplicaDeletion'),
  'kms:CancelKeyDeletion': stateIs((s) => s !== undefined && s !== 'PendingDeletion' && s !== 'PendingReplicaDeletion', 'expected no longer pending deletion'),
  'kms:ReplicateKey': replicaExists,
  'kms:RotateKeyOnDemand': rotationStarted,
  'sso:UpdateInstance': async (ctx, m) => {
    const state = await describeInstanceEncryption(ctx, m.target);
    const wantedType = m.detail?.keyType;
    const done = state.keyType === wantedType && (wantedType !== 'CUSTOMER_MANAGED_KEY' || state.kmsKeyArn === m.detail?.kmsKeyArn);
    return { done, note: `instance ${state.status}/${state.encryptionStatus} on ${state.kmsKeyArn ?? state.keyType ?? 'unknown'}` };
  },
};

export function canReconcile(operation: string): boolean {
  return operation in READERS;
}

export async function reconcileMutation(ctx: StageContext, mutation: MutationRecord): Promise<Reconciliation> {
  const reader = READERS[mutation.operation];
  if (!reader) {
    throw new KeyrotorError(`no way to reconcile an unfinished ${mutation.operation} on ${mutation.target}`, {
      fault: 'internal',
      nextStep: 'check AWS by hand (CloudTrail shows whether the call was made), then report this as a bug',
    });
  }
  // Each mutation is read back in the Region it was sent to (a replica's, for multi-Region key rings).
  return reader(inRegion(ctx, regionOfMutation(ctx, mutation)), mutation);
}
