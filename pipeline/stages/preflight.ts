/**
 * preflight — nothing changes until these hold: the config is valid (loaded before any stage),
 * the credentials are for the key ring's account, Identity Center is ACTIVE with its encryption
 * ENABLED, and the alias resolves to the ledger's active key. The key ring's lease is taken by
 * the engine before any stage runs.
 */
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { callAws } from '../aws/call';
import { StageError } from '../errors';
import type { StageContext, StageDefinition, StageOutcome } from '../engine/types';
import { resolveTarget } from '../engine/targets';
import type { Ledger } from '../ledger/types';
import { aliasTarget, describeInstanceEncryption, describeKey } from './aws-reads';
import { oldKeyOf } from './shared';
import { assertInstanceRegionsReplicated } from './multi-region/replicate';
import { assertRegionalAliasesAsRecorded } from './multi-region/regional-aliases';
import { generationOf, identityCenterAdditionalRegions, inRegion, liveReplicas } from './multi-region/regions';
import { materialRotationPreflight } from './rotate-key-material';
import { lockoutVerdict } from '../policy/lockout';

const NAME = 'preflight';

/** Kinds that create a key or call what the key policy reserves (DisableKey, ScheduleKeyDeletion). */
const MANAGES_KEYS: ReadonlySet<string> = new Set(['rotate', 'migrate-to-cmk', 'migrate-to-aws-owned', 'retire-key']);

function fail(ctx: StageContext, message: string, nextStep: string): never {
  throw new StageError(NAME, message, { fault: 'operator', nextStep });
}

async function run(ctx: StageContext): Promise<StageOutcome> {
  const { keyring } = ctx;
  const plan = ctx.run().plan;
  const caller = await callAws('sts:GetCallerIdentity', {}, () => ctx.clients.sts.send(new GetCallerIdentityCommand({})));
  if (caller.Account !== keyring.account) {
    fail(ctx, `the AWS credentials are for account ${caller.Account} (${caller.Arn}) but key ring ${keyring.name} lives in ${keyring.account}`,
      `use credentials for account ${keyring.account} (e.g. AWS_PROFILE) and run \`rotate advance ${ctx.run().id}\``);
  }
  const facts: string[] = [`caller ${caller.Arn}`];
  if (MANAGES_KEYS.has(plan.kind)) {
    // The key policy's lockout rules: a caller KMS would refuse at CreateKey (or at the soak's
    // DisableKey, after the switch) is refused before anything changes.
    const verdict = lockoutVerdict(keyring, caller.Arn ?? '');
    if (!verdict.allowed) fail(ctx, verdict.reason, verdict.nextStep);
    facts.push(verdict.note);
  }
  const ledger = await ctx.ledger();
  const active = ledger.generations.find((g) => g.state === 'active');
  assertPlanMatchesLedger(ctx, ledger, active?.keyArn);

  if (plan.kind === 'cancel-deletion') {
    const key = await describeKey(ctx, oldKeyOf(ctx, NAME));
    if (key.KeyState !== 'PendingDeletion' && key.KeyState !== 'PendingReplicaDeletion' && key.KeyState !== 'Disabled' && key.KeyState !== 'Enabled') {
      fail(ctx, `key ${plan.oldKeyArn} is ${key.KeyState}; only a key pending deletion can have its deletion cancelled`, 'check the key ARN with `rotate status`');
    }
    return { status: 'done', summary: `${facts.join('; ')}; key ${key.KeyId} is ${key.KeyState}`, outputs: { callerArn: caller.Arn } };
  }

  const target = await aliasTarget(ctx, keyring.alias);
  if (plan.kind === 'retire-key') {
    if (target === plan.oldKeyArn) fail(ctx, `alias ${keyring.alias} points to ${plan.oldKeyArn}, the key to retire`, 'reconcile the alias with the ledger (a reviewed change) before retiring the key');
    if (keyring.identityCenter) {
      const instance = await describeInstanceEncryption(ctx, keyring.identityCenter.instanceArn);
      if (instance.kmsKeyArn === plan.oldKeyArn) fail(ctx, `Identity Center encrypts with ${plan.oldKeyArn}, the key to retire`, 'switch Identity Center to another key first');
    }
    return { status: 'done', summary: `${facts.join('; ')}; ${plan.oldKeyArn} is used by neither the alias nor Identity Center`, outputs: { callerArn: caller.Arn } };
  }
  if (plan.kind === 'adopt') {
    if (active) fail(ctx, `key ring ${keyring.name} already has active generation ${active.generation} (${active.keyArn}) in its ledger`, `rotate it with \`rotate start ${keyring.name}\``);
    if (!target) fail(ctx, `alias ${keyring.alias} does not exist in ${keyring.account}/${keyring.region}, so there is no key to adopt`, `create the key with \`rotate start ${keyring.name} --kind migrate-to-cmk\` or let the stacks create generation 1`);
    facts.push(`alias ${keyring.alias} → ${target}`);
  } else if (active) {
    if (target !== active.keyArn) {
      fail(ctx, `alias ${keyring.alias} points to ${target ?? 'nothing'} but the ledger's active generation ${active.generation} is ${active.keyArn}`,
        'find out who moved the alias (CloudTrail UpdateAlias), restore it or fix the ledger through a reviewed change, then run `rotate advance` again');
    }
    facts.push(`alias ${keyring.alias} → generation ${active.generation}`);
  } else if (plan.kind === 'migrate-to-cmk' && target) {
    fail(ctx, `alias ${keyring.alias} already points to ${target}, which the ledger does not know`, `record it first with \`rotate start ${keyring.name} --kind adopt\``);
  }

  let identityCenterKeyArn: string | undefined;
  if (keyring.identityCenter) {
    const instance = await describeInstanceEncryption(ctx, keyring.identityCenter.instanceArn);
    if (instance.status !== 'ACTIVE' || instance.encryptionStatus !== 'ENABLED') {
      fail(ctx, `Identity Center instance ${keyring.identityCenter.instanceArn} is ${instance.status} with encryption ${instance.encryptionStatus}${instance.reason ? ` (${instance.reason})` : ''}; it must be ACTIVE and ENABLED before a switch`,
        'wait for the instance to settle (or fix the reason shown) and run `rotate advance` again');
    }
    identityCenterKeyArn = instance.kmsKeyArn;
    const expected = plan.kind === 'migrate-to-cmk' ? undefined : active?.keyArn;
    if (plan.kind === 'migrate-to-cmk' && instance.keyType === 'CUSTOMER_MANAGED_KEY') {
      fail(ctx, `Identity Center already encrypts with customer managed key ${instance.kmsKeyArn}`, `adopt it with \`rotate start ${keyring.name} --kind adopt\`, then rotate`);
    }
    if ((plan.kind === 'rotate' || plan.kind === 'migrate-to-aws-owned' || plan.kind === 'rotate-material') && instance.kmsKeyArn !== expected) {
      fail(ctx, `Identity Center encrypts with ${instance.kmsKeyArn ?? 'an AWS owned key'} but the ledger's active key is ${expected}`,
        'reconcile the ledger with the instance (a reviewed change) before rotating');
    }
    facts.push(`Identity Center ${instance.status}/${instance.encryptionStatus} on ${instance.kmsKeyArn ?? 'AWS owned key'}`);
  }
  facts.push(...(await multiRegionPreflight(ctx)));
  if (plan.kind === 'rotate-material') facts.push(await materialRotationPreflight(ctx, NAME));
  return { status: 'done', summary: facts.join('; '), outputs: { callerArn: caller.Arn, aliasTarget: target, identityCenterKeyArn } };
}

/**
 * A rotation moves the alias only in the Regions it replicates to. Where the key it replaces has a
 * replica the run does not cover (a Region dropped from `multiRegion.replicaRegions`, or the whole
 * section removed), the alias there would stay on the old replica, which the soak and the deletion
 * must then refuse to touch: the run could never finish. Refused before anything changes.
 */
async function assertOldReplicasCovered(ctx: StageContext): Promise<void> {
  const plan = ctx.run().plan;
  const covered = new Set(plan.replicaRegions ?? []);
  const uncovered: Array<{ region: string; keyArn: string }> = [];
  for (const replica of liveReplicas(generationOf(await ctx.ledger(), plan.oldKeyArn))) {
    if (covered.has(replica.region)) continue;
    // Only where the alias still uses the old replica: once it is gone there, the run can finish.
    if ((await aliasTarget(inRegion(ctx, replica.region), ctx.keyring.alias)) === replica.keyArn) uncovered.push(replica);
  }
  if (uncovered.length === 0) return;
  const regions = uncovered.map((r) => r.region);
  fail(
    ctx,
    `the alias ${ctx.keyring.alias} in ${regions.join(', ')} uses a replica of the key this run replaces (${plan.oldKeyArn}), but this run does not replicate to ${regions.length === 1 ? 'that Region' : 'those Regions'} (keyrings[${ctx.keyring.name}].multiRegion.replicaRegions): the alias there would stay on the old key, which could then never be disabled or deleted`,
    `put ${regions.join(', ')} back in keyrings[${ctx.keyring.name}].multiRegion.replicaRegions to rotate; to stop using ${regions.length === 1 ? 'that Region' : 'those Regions'}, first remove Identity Center from ${regions.length === 1 ? 'it' : 'them'} (RemoveRegion) and the alias ${ctx.keyring.alias} there (kms delete-alias --region ${regions[0]})`,
  );
}

/**
 * Multi-Region key rings (and only they: the single-Region path makes no extra call): a run that
 * creates a key must replicate it to every Region Identity Center serves (read live), and the
 * alias in each replica Region must be where the ledger says the run starts from. An instance in
 * several Regions cannot move to an AWS owned key.
 */
async function multiRegionPreflight(ctx: StageContext): Promise<string[]> {
  const plan = ctx.run().plan;
  const ic = ctx.keyring.identityCenter;
  if (plan.replicaRegions !== undefined) {
    const served = await assertInstanceRegionsReplicated(ctx, NAME);
    if (plan.kind === 'rotate') await assertOldReplicasCovered(ctx);
    const aliases = await assertRegionalAliasesAsRecorded(ctx, NAME, plan.replicaRegions);
    return [`replicas planned in ${plan.replicaRegions.join(', ') || 'no Region'}${ic ? `; Identity Center also serves ${served.join(', ') || 'no other Region'}` : ''}`, ...aliases];
  }
  if (plan.kind === 'rotate') await assertOldReplicasCovered(ctx);
  if (plan.kind === 'migrate-to-aws-owned' && ic && (ctx.keyring.multiRegion || (ic.additionalRegions ?? []).length > 0)) {
    const regions = await identityCenterAdditionalRegions(ctx, ic.instanceArn);
    if (regions.length > 0) {
      fail(ctx, `Identity Center ${ic.instanceArn} serves ${regions.map((r) => r.region).join(', ')} besides ${ctx.keyring.region}; an instance in several Regions needs a multi-Region customer managed key, so it cannot move to an AWS owned key`,
        'remove the additional Regions from Identity Center first (RemoveRegion), or keep the customer managed key');
    }
  }
  return [];
}

/**
 * The plan was made from the ledger as it was at `start`; another run may have changed the key
 * ring since (two starts racing, a run finished in between). Acting on a stale plan would move the
 * alias away from what the ledger and Identity Center use, so it is refused.
 */
function assertPlanMatchesLedger(ctx: StageContext, ledger: Ledger, activeKeyArn: string | undefined): void {
  const plan = ctx.run().plan;
  const restart = `start a new run, which plans from the current ledger: \`rotate start ${ctx.keyring.name}${plan.kind === 'rotate' ? '' : ` --kind ${plan.kind}`}\``;
  if ((plan.kind === 'rotate' || plan.kind === 'migrate-to-aws-owned') && plan.oldKeyArn !== activeKeyArn) {
    fail(ctx, `the plan retires ${plan.oldKeyArn} but the ledger's active generation is now ${activeKeyArn ?? 'none'}: the key ring changed since run ${ctx.run().id} was planned`, restart);
  }
  if (plan.kind === 'rotate-material' && plan.newKeyArn !== activeKeyArn) {
    fail(ctx, `the plan rotates the material of ${plan.newKeyArn} but the ledger's active generation is now ${activeKeyArn ?? 'none'}: the key ring changed since run ${ctx.run().id} was planned`, restart);
  }
  if (plan.kind === 'cancel-deletion' || plan.kind === 'retire-key') {
    try {
      resolveTarget(plan.kind, ctx.keyring, ledger, { key: oldKeyOf(ctx, NAME), ...(plan.enableAfterCancel ? { enable: true } : {}) });
    } catch (error) {
      fail(ctx, `the key this run acts on is no longer valid for it: ${(error as Error).message}`, restart);
    }
  }
}

export const preflight: StageDefinition = {
  name: NAME,
  run,
  verify: async () => undefined, // run is itself a read-only check
};
