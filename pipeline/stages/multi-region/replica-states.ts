/**
 * State changes on a multi-Region key's replicas, each in its own Region and each a written-ahead
 * mutation whose target is the replica's ARN (so reconcile.ts reads it back in that Region):
 * disabling and re-enabling them with their primary (soak, rollback of create-key), scheduling
 * their deletion before the primary's (KMS keeps a primary with replicas in PendingReplicaDeletion
 * until every replica is deleted), and cancelling those deletions.
 *
 * A replica's key state is its own: disabling or deleting the primary leaves its replicas usable
 * in their Regions, which is exactly where a hidden consumer would still be using the old key.
 */
import { CancelKeyDeletionCommand, DisableKeyCommand, EnableKeyCommand, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { AwsCallError, StageError } from '../../errors';
import type { StageContext } from '../../engine/types';
import { aliasTarget, describeKey } from '../aws-reads';
import { pollUntil } from '../poll-until';
import { mutationDone } from '../shared';
import { inRegion, isMultiRegionKeyArn } from './regions';

export interface ReplicaRef {
  readonly region: string;
  readonly keyArn: string;
}

/**
 * The replicas a multi-Region primary has now, as KMS lists them (DescribeKey on the primary): the
 * truth, including a replica the ledger never heard of, which would otherwise keep the primary in
 * PendingReplicaDeletion forever. Empty for a single-Region key.
 */
export async function currentReplicas(ctx: StageContext, primaryArn: string): Promise<ReplicaRef[]> {
  if (!isMultiRegionKeyArn(primaryArn)) return [];
  const key = await describeKey(ctx, primaryArn);
  return (key.MultiRegionConfiguration?.ReplicaKeys ?? []).flatMap((r) => (r.Arn && r.Region ? [{ region: r.Region, keyArn: r.Arn }] : []));
}

/** Refuses to act on a replica its Region's alias still points to (the rule that never bends, per Region). */
async function assertReplicaUnused(ctx: StageContext, stage: string, replica: ReplicaRef, action: string): Promise<void> {
  const target = await aliasTarget(inRegion(ctx, replica.region), ctx.keyring.alias);
  if (target === replica.keyArn) {
    throw new StageError(stage, `refusing to ${action} ${replica.keyArn}: alias ${ctx.keyring.alias} in ${replica.region} still points to it`, {
      fault: 'operator',
      nextStep: `find out why the alias in ${replica.region} was not moved (run \`rotate status ${ctx.run().id}\`); roll back with \`rotate rollback ${ctx.run().id}\` if the switch did not hold`,
    });
  }
}

/** DisableKey on each replica (after checking its Region's alias does not use it); returns the Regions disabled. */
export async function disableReplicas(ctx: StageContext, stage: string, replicas: readonly ReplicaRef[]): Promise<string[]> {
  const done: string[] = [];
  for (const replica of replicas) {
    if (!mutationDone(ctx, 'kms:DisableKey', replica.keyArn)) {
      await assertReplicaUnused(ctx, stage, replica, 'disable');
      const regional = inRegion(ctx, replica.region);
      await regional.mutate('kms:DisableKey', replica.keyArn, () => regional.clients.kms.send(new DisableKeyCommand({ KeyId: replica.keyArn })));
    }
    done.push(replica.region);
  }
  return done;
}

/**
 * Disables the replicas of a candidate the run created and gives up (rollback of create-key). A
 * replica still `Creating` cannot be disabled yet, so it is waited for first.
 */
export async function disableNewReplicas(ctx: StageContext, stage: string, replicas: readonly ReplicaRef[]): Promise<void> {
  for (const replica of replicas) {
    const regional = inRegion(ctx, replica.region);
    const state = await pollUntil(ctx, {
      stage,
      what: `replica ${replica.keyArn} to finish Creating`,
      read: async () => (await describeKey(regional, replica.keyArn)).KeyState,
      done: (s) => s !== 'Creating',
      describe: (s) => s ?? 'unknown',
    });
    if (state !== 'Enabled') continue;
    await assertReplicaUnused(ctx, stage, replica, 'disable');
    await regional.mutate('kms:DisableKey', replica.keyArn, () => regional.clients.kms.send(new DisableKeyCommand({ KeyId: replica.keyArn })));
  }
}

/** EnableKey on each replica that is Disabled (rollback of the soak, cancel-deletion --enable). */
export async function enableReplicas(ctx: StageContext, replicas: readonly ReplicaRef[]): Promise<string[]> {
  const enabled: string[] = [];
  for (const replica of replicas) {
    const regional = inRegion(ctx, replica.region);
    if ((await describeKey(regional, replica.keyArn)).KeyState !== 'Disabled') continue;
    await regional.mutate('kms:EnableKey', replica.keyArn, () => regional.clients.kms.send(new EnableKeyCommand({ KeyId: replica.keyArn })));
    enabled.push(replica.region);
  }
  return enabled;
}

export interface ScheduledReplica extends ReplicaRef {
  readonly deletionDate: string | undefined;
}

/**
 * ScheduleKeyDeletion on each replica, in its Region, with the signed window — before the primary.
 * A replica already scheduled (by this stage, or found so) keeps the date KMS set; the checks that
 * nothing in its Region uses it run right before its call, under the run's execution lock.
 */
export async function scheduleReplicaDeletions(ctx: StageContext, stage: string, replicas: readonly ReplicaRef[], windowDays: number): Promise<ScheduledReplica[]> {
  const out: ScheduledReplica[] = [];
  for (const replica of replicas) {
    const regional = inRegion(ctx, replica.region);
    const key = await describeKey(regional, replica.keyArn);
    if (key.KeyState === 'PendingDeletion') {
      out.push({ ...replica, deletionDate: key.DeletionDate?.toISOString() });
      continue;
    }
    if (!mutationDone(ctx, 'kms:ScheduleKeyDeletion', replica.keyArn)) await assertReplicaUnused(ctx, stage, replica, 'schedule deletion of');
    const answer = await regional.mutate(
      'kms:ScheduleKeyDeletion',
      replica.keyArn,
      () => regional.clients.kms.send(new ScheduleKeyDeletionCommand({ KeyId: replica.keyArn, PendingWindowInDays: windowDays })),
      { pendingWindowInDays: String(windowDays) },
      (a) => ({ deletionDate: a.DeletionDate?.toISOString() ?? 'unknown' }),
    );
    out.push({ ...replica, deletionDate: answer.DeletionDate?.toISOString() });
  }
  return out;
}

export interface CancelledReplica extends ReplicaRef {
  /** `gone`: KMS already deleted it (past its date). */
  readonly outcome: 'cancelled' | 'not-pending' | 'gone';
}

/** CancelKeyDeletion on each replica pending deletion (a replica already deleted is reported gone). */
export async function cancelReplicaDeletions(ctx: StageContext, replicas: readonly ReplicaRef[]): Promise<CancelledReplica[]> {
  const out: CancelledReplica[] = [];
  for (const replica of replicas) {
    const regional = inRegion(ctx, replica.region);
    let state: string | undefined;
    try {
      state = (await describeKey(regional, replica.keyArn)).KeyState;
    } catch (error) {
      if (error instanceof AwsCallError && error.awsCode === 'NotFoundException') {
        out.push({ ...replica, outcome: 'gone' });
        continue;
      }
      throw error;
    }
    if (state === 'PendingDeletion') {
      await regional.mutate('kms:CancelKeyDeletion', replica.keyArn, () => regional.clients.kms.send(new CancelKeyDeletionCommand({ KeyId: replica.keyArn })));
      out.push({ ...replica, outcome: 'cancelled' });
    } else {
      out.push({ ...replica, outcome: 'not-pending' });
    }
  }
  return out;
}
