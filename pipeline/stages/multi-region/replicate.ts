/**
 * create-key, multi-Region part: replicate the new primary to every Region of the run's plan and
 * wait until each replica is Enabled. ReplicateKey carries the very policy, description and tags
 * CreateKey used — KMS copies none of them to a replica — so each replica is born with the
 * Identity Center statements (no window with a default policy) and Terraform's import shows no diff.
 *
 * Crash safety: each ReplicateKey is a written-ahead mutation whose target is the replica's ARN
 * (known before the call: a replica shares the primary's key id); a resume reconciles an intent
 * without an outcome by describing the replica in its Region (reconcile.ts), and a Region with a
 * ReplicateKey that took effect is never replicated again.
 */
import { ReplicateKeyCommand } from '@aws-sdk/client-kms';
import { AwsCallError, StageError } from '../../errors';
import type { StageContext } from '../../engine/types';
import { createKeyTags } from '../../key-tags';
import type { ReplicaKey } from '../../ledger/types';
import { buildKeyPolicy, renderKeyPolicy } from '../../policy/builder';
import { onNewKey } from '../../aws/eventual-consistency';
import { describeKey } from '../aws-reads';
import { pollUntil } from '../poll-until';
import { mutationDone } from '../shared';
import { identityCenterAdditionalRegions, inRegion, keyArnIn, runReplicaRegions } from './regions';

/**
 * Identity Center's live additional Regions must all be Regions the run replicates to: a Region
 * without a replica of the new key makes the switch fail (and the stacks would not declare it).
 */
export async function assertInstanceRegionsReplicated(ctx: StageContext, stage: string): Promise<string[]> {
  const ic = ctx.keyring.identityCenter;
  if (!ic) return [];
  const live = await identityCenterAdditionalRegions(ctx, ic.instanceArn);
  const planned = runReplicaRegions(ctx);
  const missing = live.filter((r) => !planned.includes(r.region));
  if (missing.length > 0) {
    const names = missing.map((r) => `${r.region} (${r.status})`).join(', ');
    const fix =
      planned.length === 0 && !ctx.keyring.multiRegion
        ? `make key ring ${ctx.keyring.name} multi-Region: add "multiRegion": { "replicaRegions": [${missing.map((r) => `"${r.region}"`).join(', ')}] } and identityCenter.additionalRegions to the config (a reviewed change)`
        : `add ${missing.map((r) => r.region).join(', ')} to keyrings[${ctx.keyring.name}].multiRegion.replicaRegions and identityCenter.additionalRegions (a reviewed change)`;
    throw new StageError(stage, `Identity Center instance ${ic.instanceArn} also serves ${names}, which this run does not replicate the new key to (it replicates to ${planned.join(', ') || 'no Region'}): the switch would fail there`, {
      fault: 'operator',
      nextStep: `${fix}, then start a new run: \`rotate start ${ctx.keyring.name}\``,
    });
  }
  return live.map((r) => r.region);
}

/** Replicates `keyArn` to the run's Regions (those not done yet) and waits until every replica is Enabled. */
export async function replicateNewKey(ctx: StageContext, stage: string, keyArn: string, generation: number): Promise<ReplicaKey[]> {
  const regions = runReplicaRegions(ctx);
  if (regions.length === 0) return [];
  const { keyring } = ctx;
  const policy = renderKeyPolicy(buildKeyPolicy(keyring));
  const tags = Object.entries(createKeyTags(keyring, generation, ctx.run().id))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
  for (const region of regions) {
    const replicaArn = keyArnIn(keyArn, region);
    if (mutationDone(ctx, 'kms:ReplicateKey', replicaArn)) continue;
    try {
      // Sent in the primary's Region (KMS manages a multi-Region set from its primary).
      await ctx.mutate(
        'kms:ReplicateKey',
        replicaArn,
        // The primary may be moments old (eventual consistency): NotFoundException is retried a while.
        () => onNewKey(ctx, () => ctx.clients.kms.send(new ReplicateKeyCommand({ KeyId: keyArn, ReplicaRegion: region, Policy: policy, Description: keyring.description, Tags: tags }))),
        { region, primary: keyArn },
      );
    } catch (error) {
      // A replica there already (an earlier attempt whose answer was lost): it is this run's key's.
      if (!(error instanceof AwsCallError && error.awsCode === 'AlreadyExistsException')) throw error;
      ctx.progress(`a replica of ${keyArn} already exists in ${region}`);
    }
  }
  for (const region of regions) {
    const replicaArn = keyArnIn(keyArn, region);
    await pollUntil(ctx, {
      stage,
      what: `replica ${replicaArn} to be Enabled`,
      read: async () => (await describeKey(inRegion(ctx, region), replicaArn)).KeyState,
      done: (state) => state === 'Enabled',
      describe: (state) => state ?? 'unknown',
    });
  }
  return regions.map((region) => ({ region, keyArn: keyArnIn(keyArn, region), state: 'live' as const }));
}
