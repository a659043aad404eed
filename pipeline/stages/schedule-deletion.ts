/**
 * schedule-deletion — the only irreversible step (after its window). Re-checks, right before the
 * call, that the old key is not the alias target, not Identity Center's key and not the ledger's
 * active key, and that the approval quorum still holds; then ScheduleKeyDeletion with the key
 * ring's window. Already pending deletion → nothing to do.
 */
import { ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { StageError } from '../errors';
import { assertQuorum } from '../approvals/gate';
import { loadApprovalsFromDir } from '../approvals/files';
import type { StageContext, StageDefinition, StageOutcome } from '../engine/types';
import { describeKey } from './aws-reads';
import { setGenerationStates } from './ledger-edits';
import { assertKeyUnused, mutationDone } from './shared';

const NAME = 'schedule-deletion';

async function run(ctx: StageContext): Promise<StageOutcome> {
  const run = ctx.run();
  const oldKeyArn = run.plan.oldKeyArn;
  if (!oldKeyArn) return { status: 'skipped', summary: 'no customer managed key to retire' };
  // Already sent (or found sent by reconciliation): read the date KMS set instead of asking twice.
  const sent = mutationDone(ctx, 'kms:ScheduleKeyDeletion', oldKeyArn);
  let deletionDate = sent ? (await describeKey(ctx, oldKeyArn)).DeletionDate?.toISOString() : undefined;
  if (!sent) {
    await assertKeyUnused(ctx, NAME, oldKeyArn, 'schedule deletion of');
    const extraApprovals = ctx.options.extraApprovalsDir ? await loadApprovalsFromDir(ctx.options.extraApprovalsDir, run.id) : [];
    await assertQuorum(run, ctx.keyring.approvals, { now: ctx.now(), extraApprovals });
    const window = ctx.keyring.rotation.deletionWindowDays;
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
