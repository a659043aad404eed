/**
 * cancel-key-deletion — the safe direction, so no approval: CancelKeyDeletion (which leaves the key
 * Disabled, as AWS documents), then EnableKey only when asked. The ledger follows.
 */
import { CancelKeyDeletionCommand, EnableKeyCommand } from '@aws-sdk/client-kms';
import { StageError } from '../errors';
import type { StageDefinition, StageOutcome } from '../engine/types';
import { describeKey } from './aws-reads';
import { setGenerationStates } from './ledger-edits';
import { oldKeyOf } from './shared';

const NAME = 'cancel-key-deletion';

export const cancelKeyDeletion: StageDefinition = {
  name: NAME,
  async run(ctx): Promise<StageOutcome> {
    const plan = ctx.run().plan;
    const keyArn = oldKeyOf(ctx, NAME);
    let key = await describeKey(ctx, keyArn);
    const did: string[] = [];
    if (key.KeyState === 'PendingDeletion') {
      await ctx.mutate('kms:CancelKeyDeletion', keyArn, () => ctx.clients.kms.send(new CancelKeyDeletionCommand({ KeyId: keyArn })));
      did.push('cancelled the deletion (key is Disabled)');
      key = await describeKey(ctx, keyArn);
    }
    if (plan.enableAfterCancel && key.KeyState === 'Disabled') {
      await ctx.mutate('kms:EnableKey', keyArn, () => ctx.clients.kms.send(new EnableKeyCommand({ KeyId: keyArn })));
      did.push('enabled the key');
    }
    const state = plan.enableAfterCancel ? 'retiring' : 'disabled';
    await ctx.updateLedger((l) => setGenerationStates(l, [{ keyArn, state }], ctx.now().toISOString(), ctx.run().id));
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
