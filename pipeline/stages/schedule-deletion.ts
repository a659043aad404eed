/**
 * schedule-deletion — the only irreversible step (after its window). Re-checks, right before the
 * call, that the old key is not the alias target, not Identity Center's key and not the ledger's
 * active key, that the approval quorum still holds, and that the old key has not been used since
 * the evidence the approvers signed (a fresh GetKeyLastUsage); then ScheduleKeyDeletion with the
 * window the run recorded at start — the one approvers signed — never the current config's.
 * Already pending deletion → nothing to do.
 */
import { ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { AwsCallError, StageError } from '../errors';
import { assertQuorum } from '../approvals/gate';
import type { LastUseReading } from '../approvals/evidence';
import type { StageContext, StageDefinition, StageOutcome } from '../engine/types';
import { describeKey } from './aws-reads';
import { assertNotUsedSinceSigned } from './last-use-guard';
import { currentReplicas, scheduleReplicaDeletions } from './multi-region/replica-states';
import { assertReplicasNotUsedSinceEvidence } from './multi-region/regional-checks';
import { projectedPrimaryDeletionDate, setReplicaStates } from './multi-region/ledger-replicas';
import { gateInputFor, recordCounted } from './approval-gate';
import { setGenerationStates } from './ledger-edits';
import { assertKeyUnused, mutationDone } from './shared';

const NAME = 'schedule-deletion';

function isPendingDeletion(state: string | undefined): boolean {
  return state === 'PendingDeletion' || state === 'PendingReplicaDeletion';
}

/** The old key's fresh last use against the signed one (last-use-guard.ts), in the key ring's Region. */
async function assertNotUsedSinceEvidence(ctx: StageContext, oldKeyArn: string): Promise<void> {
  await assertNotUsedSinceSigned(ctx, NAME, {
    keyArn: oldKeyArn,
    signed: (ctx.run().evidence as { oldKeyLastUsage?: LastUseReading } | undefined)?.oldKeyLastUsage,
    record: (evidence, fresh, meaning) => ({ ...evidence, oldKeyLastUsage: fresh, oldKeyLastUseMeaning: meaning }),
  });
}

async function run(ctx: StageContext): Promise<StageOutcome> {
  const run = ctx.run();
  const oldKeyArn = run.plan.oldKeyArn;
  if (!oldKeyArn) return { status: 'skipped', summary: 'no customer managed key to retire' };
  // The window approvers signed (recorded in the plan at start), never the current config's.
  const window = run.plan.deletionWindowDays;
  // Already sent (or found sent by reconciliation): read the date KMS set instead of asking twice.
  const sent = mutationDone(ctx, 'kms:ScheduleKeyDeletion', oldKeyArn);
  // A multi-Region key's replicas go first, every one KMS lists (not only those the ledger knows):
  // KMS keeps a primary with replicas in PendingReplicaDeletion until each replica is deleted.
  const replicas = await currentReplicas(ctx, oldKeyArn);
  const started = sent || replicas.some((r) => mutationDone(ctx, 'kms:ScheduleKeyDeletion', r.keyArn));
  let deletionDate = sent ? (await describeKey(ctx, oldKeyArn)).DeletionDate?.toISOString() : undefined;
  if (!started) {
    await assertKeyUnused(ctx, NAME, oldKeyArn, 'schedule deletion of');
    const gateInput = await gateInputFor(ctx);
    const gate = await assertQuorum(run, gateInput);
    await assertNotUsedSinceEvidence(ctx, oldKeyArn);
    await assertReplicasNotUsedSinceEvidence(ctx, NAME, replicas);
    await recordCounted(ctx, gateInput, gate);
  }
  const scheduledReplicas = await scheduleReplicaDeletions(ctx, NAME, replicas, window);
  let foundScheduled: string | undefined;
  if (!sent) {
    // Resumed after some replicas were scheduled: the check-then-act for the primary runs again.
    if (started) await assertKeyUnused(ctx, NAME, oldKeyArn, 'schedule deletion of');
    // Already pending deletion (an earlier call whose answer was lost, retried; or scheduled outside
    // the pipeline): KMS refuses a second ScheduleKeyDeletion, so read the date it set instead.
    const before = await describeKey(ctx, oldKeyArn);
    if (isPendingDeletion(before.KeyState)) {
      deletionDate = before.DeletionDate?.toISOString();
      foundScheduled = `found already pending deletion (${before.KeyState})`;
    } else {
      try {
        const out = await ctx.mutate(
          'kms:ScheduleKeyDeletion',
          oldKeyArn,
          () => ctx.clients.kms.send(new ScheduleKeyDeletionCommand({ KeyId: oldKeyArn, PendingWindowInDays: window })),
          { pendingWindowInDays: String(window) },
          (answer) => ({ deletionDate: answer.DeletionDate?.toISOString() ?? 'unknown' }),
        );
        deletionDate = out.DeletionDate?.toISOString();
      } catch (error) {
        // The SDK retried a call whose first answer was lost, and KMS refused the retry because the
        // first one had worked: the key is pending deletion, which is what this stage does. Only
        // KMS's own refusal is read that way (a crash, an interruption or a lost lock propagate).
        if (!(error instanceof AwsCallError) || error.awsCode !== 'KMSInvalidStateException') throw error;
        const after = await describeKey(ctx, oldKeyArn).catch(() => undefined);
        if (!after || !isPendingDeletion(after.KeyState)) throw error;
        deletionDate = after.DeletionDate?.toISOString();
        foundScheduled = `pending deletion although KMS refused the call (${error instanceof Error ? error.message : String(error)})`;
      }
    }
  }
  // A primary waiting on its replicas has no DeletionDate yet: the ledger records when it can go at the earliest.
  const waitsForReplicas = deletionDate === undefined && scheduledReplicas.length > 0;
  if (waitsForReplicas) deletionDate = projectedPrimaryDeletionDate(scheduledReplicas.map((r) => r.deletionDate), window);
  await ctx.updateLedger((l) =>
    setReplicaStates(
      setGenerationStates(l, [{ keyArn: oldKeyArn, state: 'pending-deletion', deletionDate }], ctx.now().toISOString(), run.id),
      oldKeyArn,
      scheduledReplicas.map((r) => ({ region: r.region, keyArn: r.keyArn, state: 'pending-deletion' as const, ...(r.deletionDate ? { deletionDate: r.deletionDate } : {}) })),
    ),
  );
  const undo = `undo with \`rotate cancel-deletion ${run.keyring} --key ${oldKeyArn}\` before then`;
  const found = foundScheduled ? ` (${foundScheduled}; the window is KMS's, not necessarily the ${window} days signed)` : '';
  if (scheduledReplicas.length === 0) return { status: 'done', summary: `old key ${oldKeyArn} pending deletion until ${deletionDate}${found}; ${undo}`, outputs: { deletionDate } };
  const replicaText = scheduledReplicas.map((r) => `${r.region} until ${r.deletionDate}`).join(', ');
  const primaryText = waitsForReplicas
    ? `primary PendingReplicaDeletion: KMS starts its ${window}-day window when its last replica is deleted, so not before ${deletionDate}`
    : `primary pending deletion until ${deletionDate}`;
  return {
    status: 'done',
    summary: `old key ${oldKeyArn}: replicas pending deletion (${replicaText}); ${primaryText}${found}; ${undo} (it cancels every Region)`,
    outputs: { deletionDate, replicaDeletionDates: Object.fromEntries(scheduledReplicas.map((r) => [r.region, r.deletionDate ?? 'unknown'])) },
  };
}

export const scheduleDeletion: StageDefinition = {
  name: NAME,
  run,
  verify: async (ctx: StageContext) => {
    const oldKeyArn = ctx.run().plan.oldKeyArn;
    if (!oldKeyArn) return;
    const key = await describeKey(ctx, oldKeyArn);
    // PendingReplicaDeletion: a multi-Region primary scheduled while its replicas are still pending deletion.
    if (!isPendingDeletion(key.KeyState)) {
      throw new StageError(NAME, `old key ${oldKeyArn} is ${key.KeyState}, expected PendingDeletion`, { fault: 'aws', retryable: true, nextStep: `run \`rotate advance ${ctx.run().id}\` again` });
    }
  },
};
