/**
 * integration-checks and the deletion's last-use guard in every Region of a multi-Region key ring:
 * the alias round trip lands on the key's replica in each replica Region, the Identity Store
 * answers in each Region Identity Center serves (it fails where the Region's key is unusable: the
 * lock-out a bad switch causes there), and the old key's last use is read per Region, because KMS
 * tracks a primary's and each replica's use separately.
 */
import { ListUsersCommand } from '@aws-sdk/client-identitystore';
import { lastUseMeaning, type LastUseMeaning, type LastUseReading } from '../../approvals/evidence';
import type { StageContext } from '../../engine/types';
import { keyLastUsage } from '../aws-reads';
import { attempt, type CheckResult } from '../check-result';
import { assertNotUsedSinceSigned } from '../last-use-guard';
import { roundTrip } from '../verify-key';
import { generationOf, identityCenterAdditionalRegions, inRegion, isMultiRegionKeyArn, liveReplicas } from './regions';

/** Evidence fields for the replicas of the old key (the primary keeps `oldKeyLastUsage`). */
export interface ReplicaLastUses {
  readonly oldKeyLastUsageByRegion: Readonly<Record<string, LastUseReading>>;
  readonly oldKeyLastUseMeaningByRegion: Readonly<Record<string, LastUseMeaning>>;
}

/** Whether the key ring is multi-Region in any way that adds per-Region reads (keeps the single-Region path unchanged). */
function multiRegionKeyRing(ctx: StageContext): boolean {
  const plan = ctx.run().plan;
  return ctx.keyring.multiRegion !== undefined || isMultiRegionKeyArn(plan.newKeyArn) || isMultiRegionKeyArn(plan.oldKeyArn);
}

export async function regionalIntegrationChecks(ctx: StageContext, stage: string): Promise<CheckResult[]> {
  if (!multiRegionKeyRing(ctx)) return [];
  const results: CheckResult[] = [];
  const { newKeyArn } = ctx.run().plan;
  const replicas = liveReplicas(generationOf(await ctx.ledger(), newKeyArn));
  for (const replica of replicas) {
    results.push(
      await attempt(`alias round trip in ${replica.region}`, async () => {
        await roundTrip(inRegion(ctx, replica.region), ctx.keyring.alias, replica.keyArn, stage);
        return `Encrypt/Decrypt through ${ctx.keyring.alias} in ${replica.region} used ${replica.keyArn}`;
      }),
    );
  }
  const ic = ctx.keyring.identityCenter;
  if (ic) {
    const identityStoreId = ic.identityStoreArn.slice(ic.identityStoreArn.lastIndexOf('/') + 1);
    const regions = await identityCenterAdditionalRegions(ctx, ic.instanceArn);
    for (const { region, status } of regions) {
      results.push(
        await attempt(`identity store read in ${region}`, async () => {
          const users = await inRegion(ctx, region).clients.identityStore.send(new ListUsersCommand({ IdentityStoreId: identityStoreId, MaxResults: 1 }));
          return `ListUsers on ${identityStoreId} in ${region} (${status}) returned ${users.Users?.length ?? 0} user(s)`;
        }),
      );
    }
  }
  return results;
}

/** The old key's last use in each of its replicas' Regions, with what each reading proves; undefined for a single-Region key. */
export async function replicaLastUses(ctx: StageContext, oldKeyArn: string, readAt: string): Promise<ReplicaLastUses | undefined> {
  const replicas = liveReplicas(generationOf(await ctx.ledger(), oldKeyArn));
  if (replicas.length === 0) return undefined;
  const byRegion: Record<string, LastUseReading> = {};
  const meanings: Record<string, LastUseMeaning> = {};
  for (const replica of replicas) {
    const reading = (await keyLastUsage(inRegion(ctx, replica.region), replica.keyArn)) as LastUseReading;
    byRegion[replica.region] = reading;
    meanings[replica.region] = lastUseMeaning(replica.keyArn, reading, readAt);
  }
  return { oldKeyLastUsageByRegion: byRegion, oldKeyLastUseMeaningByRegion: meanings };
}

/** Before the first replica is scheduled for deletion: no replica was used since its signed reading. */
export async function assertReplicasNotUsedSinceEvidence(ctx: StageContext, stage: string, replicas: ReadonlyArray<{ region: string; keyArn: string }>): Promise<void> {
  for (const replica of replicas) {
    const signed = (ctx.run().evidence as Partial<ReplicaLastUses> | undefined)?.oldKeyLastUsageByRegion?.[replica.region];
    await assertNotUsedSinceSigned(inRegion(ctx, replica.region), stage, {
      keyArn: replica.keyArn,
      signed,
      record: (evidence, fresh, meaning) => {
        const previous = evidence as Partial<ReplicaLastUses>;
        return {
          ...evidence,
          oldKeyLastUsageByRegion: { ...(previous.oldKeyLastUsageByRegion ?? {}), [replica.region]: fresh },
          oldKeyLastUseMeaningByRegion: { ...(previous.oldKeyLastUseMeaningByRegion ?? {}), [replica.region]: meaning },
        };
      },
    });
  }
}
