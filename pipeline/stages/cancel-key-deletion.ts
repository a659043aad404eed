/**
 * cancel-key-deletion — the safe direction, so no approval: CancelKeyDeletion (which leaves the key
 * Disabled, as AWS documents), then EnableKey only when asked. The ledger follows.
 */
import { CancelKeyDeletionCommand, EnableKeyCommand } from '@aws-sdk/client-kms';
import { StageError } from '../errors';
import type { StageContext, StageDefinition, StageOutcome } from '../engine/types';
import { describeKey } from './aws-reads';
import { backInTerraformByImport, setGenerationStates } from './ledger-edits';
import { oldKeyOf } from './shared';
import { cancelReplicaDeletions, currentReplicas, enableReplicas, type ReplicaRef } from './multi-region/replica-states';
import { setReplicaStates } from './multi-region/ledger-replicas';
import { generationOf } from './multi-region/regions';

/** Every replica of the generation: those the ledger records (even deleted ones, to record them gone) and those KMS lists. */
async function replicasToRestore(ctx: StageContext, keyArn: string): Promise<ReplicaRef[]> {
  const recorded = (generationOf(await ctx.ledger(), keyArn)?.replicas ?? []).filter((r) => r.state !== 'deleted').map((r) => ({ region: r.region, keyArn: r.keyArn }));
  const live = await currentReplicas(ctx, keyArn);
  return [...recorded, ...live.filter((l) => !recorded.some((r) => r.region === l.region))];
}

const NAME = 'cancel-key-deletion';

export const cancelKeyDeletion: StageDefinition = {
  name: NAME,
  async run(ctx): Promise<StageOutcome> {
    const plan = ctx.run().plan;
    const keyArn = oldKeyOf(ctx, NAME);
    let key = await describeKey(ctx, keyArn);
    const did: string[] = [];
    // A multi-Region primary waiting on its replicas (PendingReplicaDeletion) is cancelled the same way.
    if (key.KeyState === 'PendingDeletion' || key.KeyState === 'PendingReplicaDeletion') {
      await ctx.mutate('kms:CancelKeyDeletion', keyArn, () => ctx.clients.kms.send(new CancelKeyDeletionCommand({ KeyId: keyArn })));
      did.push('cancelled the deletion (key is Disabled)');
      key = await describeKey(ctx, keyArn);
    }
    // Then each Region's replica: its deletion was scheduled on its own, so it is cancelled on its own.
    const replicas = await cancelReplicaDeletions(ctx, await replicasToRestore(ctx, keyArn));
    const cancelledIn = replicas.filter((r) => r.outcome === 'cancelled').map((r) => r.region);
    const gone = replicas.filter((r) => r.outcome === 'gone').map((r) => r.region);
    if (cancelledIn.length > 0) did.push(`cancelled the replicas' deletion in ${cancelledIn.join(', ')}`);
    if (gone.length > 0) did.push(`the replicas in ${gone.join(', ')} were already deleted`);
    if (plan.enableAfterCancel && key.KeyState === 'Disabled') {
      await ctx.mutate('kms:EnableKey', keyArn, () => ctx.clients.kms.send(new EnableKeyCommand({ KeyId: keyArn })));
      did.push('enabled the key');
    }
    if (plan.enableAfterCancel) {
      const enabledIn = await enableReplicas(ctx, replicas.filter((r) => r.outcome !== 'gone'));
      if (enabledIn.length > 0) did.push(`enabled the replicas in ${enabledIn.join(', ')}`);
    }
    const state = plan.enableAfterCancel ? 'retiring' : 'disabled';
    await ctx.updateLedger((l) =>
      setReplicaStates(
        backInTerraformByImport(setGenerationStates(l, [{ keyArn, state }], ctx.now().toISOString(), ctx.run().id), keyArn),
        keyArn,
        replicas.map((r) => ({ region: r.region, keyArn: r.keyArn, state: r.outcome === 'gone' ? ('deleted' as const) : ('live' as const) })),
      ),
    );
    return { status: 'done', summary: `${keyArn}: ${did.length > 0 ? did.join(', ') : 'already cancelled'}; ledger → ${state}` };
  },
  async verify(ctx) {
    const plan = ctx.run().plan;
    const key = await describeKey(ctx, oldKeyOf(ctx, NAME));
    const expected = plan.enableAfterCancel ? 'Enabled' : 'Disabled';
    if (key.KeyState !== expected) {
      throw new StageError(NAME, `key ${plan.oldKeyArn} is ${key.KeyState}, expected ${expected}`, { fault: 'aws', retryable: true, nextStep: `run \`rotate advance ${ctx.run().id}\` again` });
    }
  },
};
