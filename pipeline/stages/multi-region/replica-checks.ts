/**
 * Reading a multi-Region key's replicas back before anything points at them: verify-key checks
 * each replica of the new key (state, kind, its own policy — KMS never synchronizes it with the
 * primary's — and an Encrypt/Decrypt round trip in its Region), and the Identity Center switch
 * checks, right before UpdateInstance, that every Region the instance serves has a ready replica.
 */
import { GetKeyPolicyCommand } from '@aws-sdk/client-kms';
import { callAws } from '../../aws/call';
import { canonicalJson } from '../../canonical-json';
import { StageError } from '../../errors';
import type { StageContext } from '../../engine/types';
import { missingIdentityCenterStatements } from '../../policy/identity-center';
import { describeKey } from '../aws-reads';
import { roundTrip } from '../verify-key';
import { identityCenterAdditionalRegions, inRegion, keyArnIn } from './regions';

export async function keyPolicy(ctx: StageContext, keyArn: string): Promise<string> {
  const out = await callAws('kms:GetKeyPolicy', { target: keyArn }, () => ctx.clients.kms.send(new GetKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default' })));
  return out.Policy ?? '{}';
}

/** The same document, whatever its whitespace or key order. */
function samePolicy(a: string, b: string): boolean {
  try {
    return canonicalJson(JSON.parse(a)) === canonicalJson(JSON.parse(b));
  } catch {
    return false;
  }
}

function identityCenterGaps(ctx: StageContext, policy: string): string[] {
  if (!ctx.keyring.identityCenter) return [];
  return missingIdentityCenterStatements(policy, { account: ctx.keyring.account, includeOrganizationStatements: true });
}

/**
 * Problems of one replica of `primaryArn` in `region`, in words (empty when it is fit): Enabled,
 * a REPLICA of this primary, symmetric, the primary's policy with the Identity Center statements.
 */
async function replicaProblems(ctx: StageContext, primaryArn: string, primaryPolicy: string, region: string): Promise<string[]> {
  const regional = inRegion(ctx, region);
  const replicaArn = keyArnIn(primaryArn, region);
  const key = await describeKey(regional, replicaArn);
  const problems: string[] = [];
  if (key.KeyState !== 'Enabled') problems.push(`state is ${key.KeyState}, expected Enabled`);
  if (key.KeySpec !== 'SYMMETRIC_DEFAULT' || key.KeyUsage !== 'ENCRYPT_DECRYPT') problems.push(`is ${key.KeySpec}/${key.KeyUsage}, expected SYMMETRIC_DEFAULT/ENCRYPT_DECRYPT`);
  const mrc = key.MultiRegionConfiguration;
  if (mrc?.MultiRegionKeyType !== 'REPLICA' || mrc.PrimaryKey?.Arn !== primaryArn) problems.push(`is not a replica of ${primaryArn} (${mrc?.MultiRegionKeyType ?? 'single-Region'}, primary ${mrc?.PrimaryKey?.Arn ?? 'none'})`);
  const policy = await keyPolicy(regional, replicaArn);
  const gaps = identityCenterGaps(ctx, policy);
  if (gaps.length > 0) problems.push(`its policy lacks the Identity Center statements: ${gaps.join('; ')}`);
  else if (!samePolicy(policy, primaryPolicy)) problems.push('its policy differs from the primary\'s (KMS does not synchronize them; the stacks declare one policy for both)');
  return problems;
}

/**
 * verify-key for every replica of the run's new key: the checks above, then a round trip in the
 * replica's Region that must come back from the replica itself. Returns a summary per Region.
 */
export async function verifyReplicas(ctx: StageContext, stage: string, primaryArn: string, primaryPolicy: string, regions: readonly string[]): Promise<string[]> {
  const problems: string[] = [];
  for (const region of regions) {
    for (const p of await replicaProblems(ctx, primaryArn, primaryPolicy, region)) problems.push(`replica in ${region} ${p}`);
  }
  if (problems.length > 0) {
    throw new StageError(stage, `the replicas of ${primaryArn} are not fit: ${problems.join('; ')}`, {
      fault: 'operator',
      nextStep: `restore the replica (put the policy \`rotate synth\` declares for the key ring, enable it) and run \`rotate advance ${ctx.run().id}\`, or \`rotate rollback ${ctx.run().id}\``,
    });
  }
  for (const region of regions) {
    const replicaArn = keyArnIn(primaryArn, region);
    await roundTrip(inRegion(ctx, region), replicaArn, replicaArn, stage);
  }
  return regions.map((region) => `replica in ${region}: Enabled, same policy, round trip ok`);
}

/**
 * The switch happens only when every Region Identity Center serves (read live) has a ready replica
 * of `keyArn` whose own policy lets Identity Center use it; otherwise Identity Center would end in
 * UPDATE_FAILED, or a Region's users would be locked out. Returns the Regions checked.
 */
export async function assertReplicasReadyForSwitch(ctx: StageContext, stage: string, keyArn: string): Promise<string[]> {
  const ic = ctx.keyring.identityCenter;
  if (!ic) return [];
  const regions = (await identityCenterAdditionalRegions(ctx, ic.instanceArn)).map((r) => r.region);
  if (regions.length === 0) return [];
  if (!/:key\/mrk-/.test(keyArn)) {
    throw new StageError(stage, `Identity Center ${ic.instanceArn} serves ${regions.join(', ')} besides ${ctx.keyring.region}, so it needs a multi-Region key; ${keyArn} is single-Region`, {
      fault: 'operator',
      nextStep: `make key ring ${ctx.keyring.name} multi-Region in the config and start a new rotation (\`rotate rollback ${ctx.run().id}\`, then \`rotate start ${ctx.keyring.name}\`)`,
    });
  }
  const problems: string[] = [];
  for (const region of regions) {
    const regional = inRegion(ctx, region);
    const replicaArn = keyArnIn(keyArn, region);
    let state: string | undefined;
    try {
      state = (await describeKey(regional, replicaArn)).KeyState;
    } catch (error) {
      problems.push(`${region}: no replica of ${keyArn} (${(error as Error).message})`);
      continue;
    }
    if (state !== 'Enabled') {
      problems.push(`${region}: replica ${replicaArn} is ${state}`);
      continue;
    }
    const gaps = identityCenterGaps(ctx, await keyPolicy(regional, replicaArn));
    if (gaps.length > 0) problems.push(`${region}: replica's policy lacks ${gaps.join('; ')}`);
  }
  if (problems.length > 0) {
    throw new StageError(stage, `Identity Center was not switched to ${keyArn}: not every Region it serves has a ready replica (${problems.join('; ')}); nothing was changed`, {
      fault: 'operator',
      nextStep: `fix the replica named (create it, enable it, or put the key ring's policy on it) and run \`rotate advance ${ctx.run().id}\`, or \`rotate rollback ${ctx.run().id}\``,
    });
  }
  return regions;
}
