/**
 * promote-alias — point the alias at the new key (UpdateAlias, or CreateAlias when a migration
 * creates the first generation). Already pointing there → nothing to do. Undo points it back.
 */
import { CreateAliasCommand, DeleteAliasCommand, UpdateAliasCommand } from '@aws-sdk/client-kms';
import { StageError } from '../errors';
import type { StageContext, StageDefinition, StageOutcome } from '../engine/types';
import { aliasTarget } from './aws-reads';
import { setGenerationStates } from './ledger-edits';
import { pointRegionalAliasesAtNewKey, pointRegionalAliasesBack, verifyRegionalAliases } from './multi-region/regional-aliases';
import { runReplicaRegions } from './multi-region/regions';

const NAME = 'promote-alias';

/** Idempotently points the alias at the run's new key and records new → active, old → retiring. */
export async function pointAliasAtNewKey(ctx: StageContext): Promise<string> {
  const { alias } = ctx.keyring;
  const { newKeyArn, oldKeyArn } = ctx.run().plan;
  const target = await aliasTarget(ctx, alias);
  let did = `alias ${alias} already pointed to ${newKeyArn}`;
  if (target === undefined) {
    await ctx.mutate('kms:CreateAlias', alias, () => ctx.clients.kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: newKeyArn })), { key: newKeyArn! });
    did = `created alias ${alias} → ${newKeyArn}`;
  } else if (target !== newKeyArn) {
    await ctx.mutate('kms:UpdateAlias', alias, () => ctx.clients.kms.send(new UpdateAliasCommand({ AliasName: alias, TargetKeyId: newKeyArn })), { from: target, to: newKeyArn! });
    did = `alias ${alias}: ${target} → ${newKeyArn}`;
  }
  // Multi-Region key rings: the alias in every replica Region moves to the new key's replica there.
  const regional = await pointRegionalAliasesAtNewKey(ctx, runReplicaRegions(ctx));
  if (regional.length > 0) did = `${did}; ${regional.join('; ')}`;
  await ctx.updateLedger((l) =>
    setGenerationStates(l, [{ keyArn: newKeyArn, state: 'active' }, ...(oldKeyArn && oldKeyArn !== newKeyArn ? [{ keyArn: oldKeyArn, state: 'retiring' as const }] : [])], ctx.now().toISOString(), ctx.run().id),
  );
  return did;
}

/** Idempotently points the alias back at the old key (or removes it when there was none). */
export async function pointAliasBack(ctx: StageContext): Promise<string> {
  const { alias } = ctx.keyring;
  const { newKeyArn, oldKeyArn } = ctx.run().plan;
  const reused = ctx.run().stages.find((s) => s.name === 'create-key')?.outputs?.reusedActive === true;
  if (oldKeyArn === newKeyArn || reused) return 'the alias did not move (the run reused the existing generation)';
  const target = await aliasTarget(ctx, alias);
  let did = `alias ${alias} already pointed to ${oldKeyArn ?? 'nothing'}`;
  if (oldKeyArn && target !== oldKeyArn) {
    await ctx.mutate('kms:UpdateAlias', alias, () => ctx.clients.kms.send(new UpdateAliasCommand({ AliasName: alias, TargetKeyId: oldKeyArn })), { from: target ?? 'none', to: oldKeyArn });
    did = `alias ${alias} back to ${oldKeyArn}`;
  } else if (!oldKeyArn && target !== undefined) {
    await ctx.mutate('kms:DeleteAlias', alias, () => ctx.clients.kms.send(new DeleteAliasCommand({ AliasName: alias })));
    did = `removed alias ${alias} (it did not exist before the run)`;
  }
  const regional = await pointRegionalAliasesBack(ctx, runReplicaRegions(ctx));
  if (regional.length > 0) did = `${did}; ${regional.join('; ')}`;
  await ctx.updateLedger((l) =>
    setGenerationStates(l, [...(oldKeyArn ? [{ keyArn: oldKeyArn, state: 'active' as const }] : []), { keyArn: newKeyArn, state: 'candidate' }], ctx.now().toISOString(), ctx.run().id),
  );
  return did;
}

export const promoteAlias: StageDefinition = {
  name: NAME,
  run: async (ctx): Promise<StageOutcome> => ({ status: 'done', summary: await pointAliasAtNewKey(ctx) }),
  verify: async (ctx) => {
    const target = await aliasTarget(ctx, ctx.keyring.alias);
    if (target !== ctx.run().plan.newKeyArn) {
      throw new StageError(NAME, `alias ${ctx.keyring.alias} resolves to ${target ?? 'nothing'}, expected ${ctx.run().plan.newKeyArn}`, {
        fault: 'aws',
        retryable: true,
        nextStep: `run \`rotate advance ${ctx.run().id}\` again (UpdateAlias is idempotent)`,
      });
    }
    await verifyRegionalAliases(ctx, NAME, runReplicaRegions(ctx));
  },
  undo: pointAliasBack,
};
