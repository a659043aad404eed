/**
 * schedule-deletion — the only irreversible step (after its window). Re-checks, right before the
 * call, that the old key is not the alias target, not Identity Center's key and not the ledger's
 * active key, that the approval quorum still holds, and that the old key has not been used since
 * the evidence the approvers signed (a fresh GetKeyLastUsage); then ScheduleKeyDeletion with the
 * window the run recorded at start — the one approvers signed — never the current config's.
 * Already pending deletion → nothing to do.
 */
import { ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { digestOf } from '../canonical-json';
import { StageError } from '../errors';
import { assertQuorum } from '../approvals/gate';
import { freshUseProblem, lastUseMeaning, type LastUseReading } from '../approvals/evidence';
import type { StageContext, StageDefinition, StageOutcome } from '../engine/types';
import { describeKey, keyLastUsage } from './aws-reads';
import { gateInputFor, recordCounted } from './approval-gate';
import { setGenerationStates } from './ledger-edits';
import { assertKeyUnused, mutationDone } from './shared';

const NAME = 'schedule-deletion';

/**
 * Reads the old key's last use again and refuses when it moved past the signed evidence or cannot
 * be read. A use is written into the run's evidence (the digest changes, so every approval goes
 * stale): approvers then see and sign what happened, after the consumer is found.
 */
async function assertNotUsedSinceEvidence(ctx: StageContext, oldKeyArn: string): Promise<void> {
  const run = ctx.run();
  const signed = (run.evidence as { oldKeyLastUsage?: LastUseReading } | undefined)?.oldKeyLastUsage;
  const fresh = (await keyLastUsage(ctx, oldKeyArn)) as LastUseReading;
  const problem = freshUseProblem(signed, fresh);
  if (!problem) return;
  if (problem.kind === 'unreadable') {
    throw new StageError(NAME, `refusing to schedule deletion of ${oldKeyArn}: ${problem.reason}`, {
      fault: 'aws',
      retryable: true,
      nextStep: `check that the pipeline role may call kms:GetKeyLastUsage on the key, then run \`rotate advance ${run.id}\` again`,
    });
  }
  const readAt = ctx.now().toISOString();
  const evidence = {
    ...(run.evidence ?? {}),
    oldKeyLastUsage: fresh,
    oldKeyLastUseMeaning: lastUseMeaning(oldKeyArn, fresh, readAt),
    lastUseRereadAt: readAt,
    lastUseRereadBecause: problem.reason,
  };
  await ctx.updateRun((r) => ({ ...r, evidence, evidenceDigest: digestOf(evidence) }));
  throw new StageError(NAME, `refusing to schedule deletion of ${oldKeyArn}: ${problem.reason}`, {
    fault: 'operator',
    nextStep:
      `find what still uses the key (CloudTrail, the event named above) and move it to the new key; the run's evidence now records this reading, ` +
      `so every earlier approval is stale: approvers review it and sign again (\`rotate approve ${run.id}\`), then \`rotate advance ${run.id}\`; ` +
      `or keep the key: \`rotate rollback ${run.id}\``,
  });
}

async function run(ctx: StageContext): Promise<StageOutcome> {
  const run = ctx.run();
  const oldKeyArn = run.plan.oldKeyArn;
  if (!oldKeyArn) return { status: 'skipped', summary: 'no customer managed key to retire' };
  // Already sent (or found sent by reconciliation): read the date KMS set instead of asking twice.
  const sent = mutationDone(ctx, 'kms:ScheduleKeyDeletion', oldKeyArn);
  let deletionDate = sent ? (await describeKey(ctx, oldKeyArn)).DeletionDate?.toISOString() : undefined;
  if (!sent) {
    await assertKeyUnused(ctx, NAME, oldKeyArn, 'schedule deletion of');
    const gateInput = await gateInputFor(ctx);
    const gate = await assertQuorum(run, gateInput);
    await assertNotUsedSinceEvidence(ctx, oldKeyArn);
    await recordCounted(ctx, gateInput, gate);
    // The window approvers signed (recorded in the plan at start), never the current config's.
    const window = run.plan.deletionWindowDays;
    const out = await ctx.mutate(
      'kms:ScheduleKeyDeletion',
      oldKeyArn,
      () => ctx.clients.kms.send(new ScheduleKeyDeletionCommand({ KeyId: oldKeyArn, PendingWindowInDays: window })),
      { pendingWindowInDays: String(window) },
      (answer) => ({ deletionDate: answer.DeletionDate?.toISOString() ?? 'unknown' }),
    );
    deletionDate = out.DeletionDate?.toISOString();
  }
  await ctx.updateLedger((l) => setGenerationStates(l, [{ keyArn: oldKeyArn, state: 'pending-deletion', deletionDate }], ctx.now().toISOString(), run.id));
  return {
    status: 'done',
    summary: `old key ${oldKeyArn} pending deletion until ${deletionDate}; undo with \`rotate cancel-deletion ${run.keyring} --key ${oldKeyArn}\` before then`,
    outputs: { deletionDate },
  };
}

export const scheduleDeletion: StageDefinition = {
  name: NAME,
  run,
  verify: async (ctx: StageContext) => {
    const oldKeyArn = ctx.run().plan.oldKeyArn;
    if (!oldKeyArn) return;
    const key = await describeKey(ctx, oldKeyArn);
    if (key.KeyState !== 'PendingDeletion') {
      throw new StageError(NAME, `old key ${oldKeyArn} is ${key.KeyState}, expected PendingDeletion`, { fault: 'aws', retryable: true, nextStep: `run \`rotate advance ${ctx.run().id}\` again` });
    }
  },
};
