/**
 * Regions of a multi-Region key ring, as the stages see them: the primary key lives in the key
 * ring's Region (the run's `ctx.clients`), each replica in its own Region (`ctx.clientsIn`) with
 * the same key id and its own ARN, state, policy and alias. A stage works on a replica through a
 * regional view of its context, so every shared read (describeKey, aliasTarget, roundTrip …) runs
 * unchanged against the replica's Region.
 */
import { ListRegionsCommand } from '@aws-sdk/client-sso-admin';
import { callAws } from '../../aws/call';
import type { StageContext } from '../../engine/types';
import type { Generation, Ledger } from '../../ledger/types';
import type { MutationRecord } from '../../state/types';

const KEY_ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:key\/(.+)$/;

/** A multi-Region key's id starts with `mrk-`. */
export function isMultiRegionKeyArn(keyArn: string | undefined): boolean {
  return keyArn !== undefined && /:key\/mrk-/.test(keyArn);
}

/** The Region of a key ARN (undefined for anything else, e.g. an alias name). */
export function regionOfKeyArn(arn: string): string | undefined {
  return KEY_ARN.exec(arn)?.[1];
}

/** The same multi-Region key's ARN in `region` (a replica shares the primary's key id). */
export function keyArnIn(keyArn: string, region: string): string {
  return keyArn.replace(/^(arn:aws[a-z-]*:kms:)[a-z0-9-]+:/, `$1${region}:`);
}

/** The context with `clients` in `region`: every read and mutation then goes to that Region. */
export function inRegion(ctx: StageContext, region: string): StageContext {
  if (region === ctx.keyring.region) return ctx;
  return { ...ctx, clients: ctx.clientsIn(region) };
}

/** The Region a recorded mutation was sent to: its `region` detail, else its key ARN's Region, else the key ring's. */
export function regionOfMutation(ctx: StageContext, m: MutationRecord): string {
  return m.detail?.region ?? regionOfKeyArn(m.target) ?? ctx.keyring.region;
}

/** The Regions this run's new key is replicated to (its plan, fixed at start); empty for single-Region key rings. */
export function runReplicaRegions(ctx: StageContext): readonly string[] {
  return ctx.run().plan.replicaRegions ?? [];
}

/** Replicas of a generation the ledger records as existing (not deleted), by Region. */
export function liveReplicas(generation: Generation | undefined): ReadonlyArray<{ region: string; keyArn: string; state: string }> {
  return (generation?.replicas ?? []).filter((r) => r.state !== 'deleted');
}

export function generationOf(ledger: Ledger, keyArn: string | undefined): Generation | undefined {
  return keyArn === undefined ? undefined : ledger.generations.find((g) => g.keyArn === keyArn);
}

export interface InstanceRegion {
  readonly region: string;
  readonly status: string;
}

/**
 * Identity Center's Regions other than its primary, read live (ListRegions, in the primary Region):
 * each needs a ready replica of the instance's key. Empty for an instance in one Region.
 */
export async function identityCenterAdditionalRegions(ctx: StageContext, instanceArn: string): Promise<InstanceRegion[]> {
  const out: InstanceRegion[] = [];
  let token: string | undefined;
  do {
    const page = await callAws('sso:ListRegions', { target: instanceArn }, () => ctx.clients.ssoAdmin.send(new ListRegionsCommand({ InstanceArn: instanceArn, NextToken: token })));
    for (const r of page.Regions ?? []) {
      if (r.RegionName && !r.IsPrimaryRegion) out.push({ region: r.RegionName, status: r.Status ?? 'unknown' });
    }
    token = page.NextToken;
  } while (token);
  return out;
}
