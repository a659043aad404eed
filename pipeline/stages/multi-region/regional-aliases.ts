/**
 * promote-alias in the replica Regions: an alias is a per-Region object, so a multi-Region key
 * ring has its alias in every Region, each on that Region's key. Moving it forward points each at
 * the new key's replica there (CreateAlias where a single-Region old key had none); moving it back
 * points each at the old key's replica, or removes it where the old key had no replica (the alias
 * did not exist there before the run: preflight checked).
 */
import { CreateAliasCommand, DeleteAliasCommand, UpdateAliasCommand } from '@aws-sdk/client-kms';
import { StageError } from '../../errors';
import type { StageContext } from '../../engine/types';
import { aliasTarget } from '../aws-reads';
import { generationOf, inRegion, keyArnIn, liveReplicas } from './regions';

/** Where the alias should point in each Region before (`old`) and after (`new`) the run. */
async function regionalTargets(ctx: StageContext, regions: readonly string[]): Promise<Array<{ region: string; newArn: string | undefined; oldArn: string | undefined }>> {
  const { newKeyArn, oldKeyArn } = ctx.run().plan;
  const ledger = await ctx.ledger();
  const oldReplicas = liveReplicas(generationOf(ledger, oldKeyArn));
  return regions.map((region) => ({
    region,
    newArn: newKeyArn === undefined ? undefined : keyArnIn(newKeyArn, region),
    oldArn: oldReplicas.find((r) => r.region === region)?.keyArn,
  }));
}

/** Points the alias at `wanted` in `region` (removes it when `wanted` is undefined); returns what it did. */
async function pointAlias(ctx: StageContext, region: string, wanted: string | undefined): Promise<string | undefined> {
  const { alias } = ctx.keyring;
  const regional = inRegion(ctx, region);
  const current = await aliasTarget(regional, alias);
  if (current === wanted) return undefined;
  if (wanted === undefined) {
    await regional.mutate('kms:DeleteAlias', alias, () => regional.clients.kms.send(new DeleteAliasCommand({ AliasName: alias })), { region });
    return `removed alias ${alias} in ${region} (it did not exist before the run)`;
  }
  if (current === undefined) {
    await regional.mutate('kms:CreateAlias', alias, () => regional.clients.kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: wanted })), { region, key: wanted });
    return `created alias ${alias} in ${region} → ${wanted}`;
  }
  await regional.mutate('kms:UpdateAlias', alias, () => regional.clients.kms.send(new UpdateAliasCommand({ AliasName: alias, TargetKeyId: wanted })), { region, from: current, to: wanted });
  return `alias ${alias} in ${region}: ${current} → ${wanted}`;
}

/** Moves the alias in every one of `regions` to the new key's replica there, or (`back`) to the old key's (removing it where there was none). */
async function pointRegionalAliases(ctx: StageContext, regions: readonly string[], to: 'newArn' | 'oldArn'): Promise<string[]> {
  const done: string[] = [];
  for (const t of await regionalTargets(ctx, regions)) {
    const did = await pointAlias(ctx, t.region, t[to]);
    if (did) done.push(did);
  }
  return done;
}

export const pointRegionalAliasesAtNewKey = (ctx: StageContext, regions: readonly string[]): Promise<string[]> => pointRegionalAliases(ctx, regions, 'newArn');
export const pointRegionalAliasesBack = (ctx: StageContext, regions: readonly string[]): Promise<string[]> => pointRegionalAliases(ctx, regions, 'oldArn');

/** Read-back: the alias resolves to the new key's replica in every one of `regions`. */
export async function verifyRegionalAliases(ctx: StageContext, stage: string, regions: readonly string[]): Promise<void> {
  for (const t of await regionalTargets(ctx, regions)) {
    const target = await aliasTarget(inRegion(ctx, t.region), ctx.keyring.alias);
    if (target !== t.newArn) {
      throw new StageError(stage, `alias ${ctx.keyring.alias} in ${t.region} resolves to ${target ?? 'nothing'}, expected ${t.newArn}`, {
        fault: 'aws',
        retryable: true,
        nextStep: `run \`rotate advance ${ctx.run().id}\` again (moving the alias is idempotent)`,
      });
    }
  }
}

/**
 * Preflight: in each of `regions` the alias is where the ledger says the run starts from — on the
 * old key's replica there, or absent where the old key has none. Anything else is someone else's
 * alias, which the run must not move (or remove on rollback). Returns one fact per Region.
 */
export async function assertRegionalAliasesAsRecorded(ctx: StageContext, stage: string, regions: readonly string[]): Promise<string[]> {
  const facts: string[] = [];
  for (const t of await regionalTargets(ctx, regions)) {
    const target = await aliasTarget(inRegion(ctx, t.region), ctx.keyring.alias);
    if (target !== t.oldArn && target !== t.newArn) {
      throw new StageError(stage, `alias ${ctx.keyring.alias} in ${t.region} points to ${target ?? 'nothing'}, but the ledger's active key ${t.oldArn ? `has its replica ${t.oldArn} there` : 'has no replica there (so no alias should exist)'}`, {
        fault: 'operator',
        nextStep: `find out who moved or created it (CloudTrail in ${t.region}), restore it or fix the ledger through a reviewed change, then start a new run: \`rotate start ${ctx.keyring.name}\``,
      });
    }
    facts.push(`alias in ${t.region} → ${target ?? 'none yet'}`);
  }
  return facts;
}

/**
 * retire-alias in the replica Regions (migrate-to-aws-owned): the alias goes in every Region where
 * it points to the retiring key's replica; one pointing anywhere else is refused, never removed.
 */
export async function retireRegionalAliases(ctx: StageContext, stage: string, replicas: ReadonlyArray<{ region: string; keyArn: string }>): Promise<string[]> {
  const done: string[] = [];
  for (const replica of replicas) {
    const target = await aliasTarget(inRegion(ctx, replica.region), ctx.keyring.alias);
    if (target !== undefined && target !== replica.keyArn) {
      throw new StageError(stage, `alias ${ctx.keyring.alias} in ${replica.region} points to ${target}, not the retiring key's replica ${replica.keyArn}`, {
        fault: 'operator',
        nextStep: 'reconcile the alias and the ledger before retiring the key ring',
      });
    }
    const did = await pointAlias(ctx, replica.region, undefined);
    if (did) done.push(did.replace(' (it did not exist before the run)', ''));
  }
  return done;
}

/** Undo of retireRegionalAliases: the alias back on the replica in each Region where it is missing. */
export async function restoreRegionalAliases(ctx: StageContext, replicas: ReadonlyArray<{ region: string; keyArn: string }>): Promise<string[]> {
  const done: string[] = [];
  for (const replica of replicas) {
    if ((await aliasTarget(inRegion(ctx, replica.region), ctx.keyring.alias)) !== undefined) continue;
    const did = await pointAlias(ctx, replica.region, replica.keyArn);
    if (did) done.push(did);
  }
  return done;
}
