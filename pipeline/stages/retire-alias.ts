/**
 * retire-alias — for migrate-to-aws-owned: the key ring is being retired, so its alias must stop
 * pointing at the key before the key may be scheduled for deletion. Undo re-creates it.
 */
import { CreateAliasCommand, DeleteAliasCommand } from '@aws-sdk/client-kms';
import { StageError } from '../errors';
import type { StageContext, StageDefinition, StageOutcome } from '../engine/types';

/** The retiring key's replicas: a multi-Region key ring has its alias in each of their Regions too. */
async function replicasOf(ctx: StageContext, keyArn: string): Promise<Array<{ region: string; keyArn: string }>> {
  return liveReplicas(generationOf(await ctx.ledger(), keyArn)).map((r) => ({ region: r.region, keyArn: r.keyArn }));
}
import { aliasTarget } from './aws-reads';
import { setGenerationStates } from './ledger-edits';
import { oldKeyOf } from './shared';
import { restoreRegionalAliases, retireRegionalAliases } from './multi-region/regional-aliases';
import { generationOf, liveReplicas } from './multi-region/regions';

const NAME = 'retire-alias';

export const retireAlias: StageDefinition = {
  name: NAME,
  async run(ctx): Promise<StageOutcome> {
    const { alias } = ctx.keyring;
    const oldKeyArn = oldKeyOf(ctx, NAME);
    const target = await aliasTarget(ctx, alias);
    if (target !== undefined && target !== oldKeyArn) {
      throw new StageError(NAME, `alias ${alias} points to ${target}, not the key being retired (${oldKeyArn})`, { fault: 'operator', nextStep: 'reconcile the alias and the ledger before retiring the key ring' });
    }
    if (target !== undefined) await ctx.mutate('kms:DeleteAlias', alias, () => ctx.clients.kms.send(new DeleteAliasCommand({ AliasName: alias })));
    const regional = await retireRegionalAliases(ctx, NAME, await replicasOf(ctx, oldKeyArn));
    await ctx.updateLedger((l) => setGenerationStates(l, [{ keyArn: oldKeyArn, state: 'retiring' }], ctx.now().toISOString(), ctx.run().id));
    return { status: 'done', summary: `${target === undefined ? `alias ${alias} was already gone` : `deleted alias ${alias}`}${regional.map((r) => `; ${r}`).join('')}` };
  },
  async verify(ctx) {
    const target = await aliasTarget(ctx, ctx.keyring.alias);
    if (target !== undefined) throw new StageError(NAME, `alias ${ctx.keyring.alias} still resolves to ${target}`, { fault: 'aws', retryable: true, nextStep: `run \`rotate advance ${ctx.run().id}\` again` });
  },
  async undo(ctx) {
    const { alias } = ctx.keyring;
    const oldKeyArn = oldKeyOf(ctx, NAME);
    const target = await aliasTarget(ctx, alias);
    if (target === undefined) await ctx.mutate('kms:CreateAlias', alias, () => ctx.clients.kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: oldKeyArn })));
    const regional = await restoreRegionalAliases(ctx, await replicasOf(ctx, oldKeyArn));
    await ctx.updateLedger((l) => setGenerationStates(l, [{ keyArn: oldKeyArn, state: 'active' }], ctx.now().toISOString(), ctx.run().id));
    return `${target === undefined ? `re-created alias ${alias} → ${oldKeyArn}` : `alias ${alias} already existed`}${regional.map((r) => `; ${r}`).join('')}`;
  },
};
