/**
 * Readers for the mutations issue 12 added (reconcile.ts routes each to the Region its mutation
 * concerns): whether a ReplicateKey made its replica, and whether a RotateKeyOnDemand started.
 */
import { AwsCallError } from '../../errors';
import type { StageContext } from '../../engine/types';
import type { MutationRecord } from '../../state/types';
import { onDemandRotationInProgress, readRotationBudget } from '../../material-rotation/read';
import { describeKey } from '../aws-reads';

interface Found {
  readonly done: boolean;
  readonly note: string;
}

/** ReplicateKey (target: the replica's ARN; `ctx` in the replica's Region): does the replica exist? */
export async function replicaExists(ctx: StageContext, m: MutationRecord): Promise<Found> {
  try {
    const key = await describeKey(ctx, m.target);
    return { done: true, note: `replica ${m.target} exists (${key.KeyState})` };
  } catch (error) {
    if (error instanceof AwsCallError && error.awsCode === 'NotFoundException') return { done: false, note: `no replica ${m.target}` };
    throw error;
  }
}

/** RotateKeyOnDemand: in progress now, or more ON_DEMAND rotations listed than before the call. */
export async function rotationStarted(ctx: StageContext, m: MutationRecord): Promise<Found> {
  if (await onDemandRotationInProgress(ctx.clients.kms, m.target)) return { done: true, note: `an on-demand rotation of ${m.target} is in progress` };
  const before = Number(m.detail?.onDemandBefore ?? Number.NaN);
  const { onDemandUsed } = await readRotationBudget(ctx.clients.kms, m.target);
  if (Number.isNaN(before)) return { done: false, note: `cannot tell: the intent recorded no count of earlier rotations (${onDemandUsed} now)` };
  return { done: onDemandUsed > before, note: `${onDemandUsed} on-demand rotations listed, ${before} before the call` };
}
