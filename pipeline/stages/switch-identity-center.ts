/**
 * switch-identity-center — UpdateInstance with EncryptionConfiguration only (a key ARN, never an
 * alias ARN), then poll DescribeInstance on the shared schedule until ENABLED (the driver shared with
 * the Terraform helper, pipeline/identity-center). UPDATE_FAILED keeps the old
 * key in use (Identity Center's own behaviour): the stage points the alias back, leaves the old key
 * untouched, and fails showing EncryptionStatusReason.
 */
import { UpdateInstanceCommand } from '@aws-sdk/client-sso-admin';
import { KeyrotorError, StageError } from '../errors';
import type { IdentityCenterTarget } from '../ledger/types';
import type { StageContext, StageDefinition, StageOutcome } from '../engine/types';
import { mapAwsError } from '../aws/map-error';
import { ensureIdentityCenterEncryption } from '../identity-center/ensure-encryption';
import { IdentityCenterEncryptionError } from '../identity-center/errors';
import { describeInstanceEncryption, isAliasArn, type InstanceEncryption } from './aws-reads';
import { setIdentityCenterTarget } from './ledger-edits';
import { pointAliasAtNewKey, pointAliasBack } from './promote-alias';
import { assertReplicasReadyForSwitch } from './multi-region/replica-checks';
import { isMultiRegionKeyArn } from './multi-region/regions';

/**
 * A multi-Region Identity Center needs a ready replica of the target key in every Region it serves
 * (read live): checked right before the switch, so a Region's users are never locked out.
 */
async function assertTargetServesEveryRegion(ctx: StageContext, stage: string, target: IdentityCenterTarget): Promise<void> {
  if (target.keyType !== 'CUSTOMER_MANAGED_KEY' || !(ctx.keyring.multiRegion || isMultiRegionKeyArn(target.kmsKeyArn))) return;
  const regions = await assertReplicasReadyForSwitch(ctx, stage, target.kmsKeyArn);
  if (regions.length > 0) ctx.progress(`replicas of ${target.kmsKeyArn} ready in ${regions.join(', ')}`);
}

interface SwitchSpec {
  readonly name: string;
  /** What Identity Center should use after the stage. */
  readonly desired: (ctx: StageContext) => IdentityCenterTarget;
  /** What it used before (the undo target). */
  readonly previous: (ctx: StageContext) => IdentityCenterTarget;
  /** Whether this kind moved the alias before the switch (and must move it back on UPDATE_FAILED). */
  readonly movesAlias: boolean;
}

function matches(state: InstanceEncryption, target: IdentityCenterTarget): boolean {
  if (state.keyType !== target.keyType) return false;
  return target.keyType === 'AWS_OWNED_KMS_KEY' || state.kmsKeyArn === target.kmsKeyArn;
}

function describeTarget(target: IdentityCenterTarget): string {
  return target.keyType === 'AWS_OWNED_KMS_KEY' ? 'an AWS owned key' : target.kmsKeyArn;
}

/**
 * Drives the instance to `target` with the shared driver (no call when it is already there; a
 * switch in flight is waited for), sending UpdateInstance as a recorded mutation. Returns the
 * UPDATE_FAILED reason instead of throwing it, so the caller can put the alias back first.
 */
async function ensureEncryption(ctx: StageContext, stage: string, target: IdentityCenterTarget): Promise<{ changed: boolean; updateFailedReason?: string }> {
  const instanceArn = ctx.keyring.identityCenter!.instanceArn;
  if (target.keyType === 'CUSTOMER_MANAGED_KEY' && isAliasArn(target.kmsKeyArn)) {
    throw new StageError(stage, `Identity Center accepts only a key ARN, not the alias ARN ${target.kmsKeyArn}`, { fault: 'internal' });
  }
  const poll = ctx.options.poll ?? {};
  const detail = { keyType: target.keyType, ...(target.keyType === 'CUSTOMER_MANAGED_KEY' ? { kmsKeyArn: target.kmsKeyArn } : {}) };
  try {
    const result = await ensureIdentityCenterEncryption(ctx.clients, instanceArn, target, {
      // The schedule's defaults live in pipeline/identity-center/poll-schedule.ts; these only override.
      schedule: { floorMs: poll.initialMs, capMs: poll.maxMs },
      timeoutMs: poll.timeoutMs,
      sleep: ctx.sleep,
      now: () => ctx.now().getTime(),
      log: (line) => ctx.progress(line),
      update: (input) => ctx.mutate('sso:UpdateInstance', instanceArn, () => ctx.clients.ssoAdmin.send(new UpdateInstanceCommand(input)), detail),
    });
    return { changed: result.changed };
  } catch (error) {
    if (error instanceof IdentityCenterEncryptionError && error.updateFailedReason !== undefined) return { changed: true, updateFailedReason: error.updateFailedReason };
    // Only the driver's own DescribeInstance can fail with a raw SDK error; everything else
    // (typed errors, the mutation's mapped error, a crash) passes through as it is.
    if (error instanceof Error && '$metadata' in error && !(error instanceof KeyrotorError)) {
      throw mapAwsError(error, { operation: 'sso:DescribeInstance', target: instanceArn });
    }
    throw error;
  }
}

function makeSwitchStage(spec: SwitchSpec): StageDefinition {
  return {
    name: spec.name,
    async run(ctx): Promise<StageOutcome> {
      if (!ctx.keyring.identityCenter) return { status: 'skipped', summary: 'key ring is not attached to Identity Center' };
      const desired = spec.desired(ctx);
      const outputs = ctx.record().outputs ?? {};
      // A retry after UPDATE_FAILED: the alias was moved back then; move it forward again first.
      if (spec.movesAlias && outputs.aliasRolledBack) {
        ctx.progress(await pointAliasAtNewKey(ctx));
        await ctx.saveOutputs({ aliasRolledBack: false });
      }
      await assertTargetServesEveryRegion(ctx, spec.name, desired);
      const state = await ensureEncryption(ctx, spec.name, desired);
      if (state.updateFailedReason !== undefined) {
        let aliasNote = '';
        if (spec.movesAlias) {
          aliasNote = `; ${await pointAliasBack(ctx)}`;
          await ctx.saveOutputs({ aliasRolledBack: true });
        }
        throw new StageError(spec.name, `Identity Center could not switch to ${describeTarget(desired)} (UPDATE_FAILED: ${state.updateFailedReason}). It keeps its previous key; the old key is untouched${aliasNote}`, {
          fault: 'aws',
          nextStep: `fix the cause (key state, key policy) and run \`rotate advance ${ctx.run().id}\` to retry, or \`rotate rollback ${ctx.run().id}\``,
        });
      }
      await ctx.updateLedger((l) => setIdentityCenterTarget(l, desired));
      return { status: 'done', summary: `Identity Center ${state.changed ? 'switched to' : 'already on'} ${describeTarget(desired)} (ENABLED)` };
    },
    async verify(ctx) {
      if (!ctx.keyring.identityCenter) return;
      const desired = spec.desired(ctx);
      const state = await describeInstanceEncryption(ctx, ctx.keyring.identityCenter.instanceArn);
      if (!(matches(state, desired) && state.encryptionStatus === 'ENABLED')) {
        throw new StageError(spec.name, `Identity Center reports ${state.encryptionStatus} on ${state.kmsKeyArn ?? 'an AWS owned key'}, expected ENABLED on ${describeTarget(desired)}`, {
          fault: 'aws',
          retryable: true,
          nextStep: `run \`rotate advance ${ctx.run().id}\` again`,
        });
      }
    },
    async undo(ctx) {
      if (!ctx.keyring.identityCenter) return 'not attached to Identity Center';
      const previous = spec.previous(ctx);
      await assertTargetServesEveryRegion(ctx, spec.name, previous);
      const state = await ensureEncryption(ctx, spec.name, previous);
      if (state.updateFailedReason !== undefined) {
        throw new StageError(spec.name, `Identity Center could not switch back to ${describeTarget(previous)} (UPDATE_FAILED: ${state.updateFailedReason})`, {
          fault: 'aws',
          nextStep: `fix the cause and run \`rotate rollback ${ctx.run().id}\` again`,
        });
      }
      await ctx.updateLedger((l) => setIdentityCenterTarget(l, previous));
      return `Identity Center ${state.changed ? 'switched back to' : 'already on'} ${describeTarget(previous)} (ENABLED)`;
    },
  };
}

const cmk = (arn: string | undefined): IdentityCenterTarget =>
  arn ? { keyType: 'CUSTOMER_MANAGED_KEY', kmsKeyArn: arn } : { keyType: 'AWS_OWNED_KMS_KEY' };

export const switchIdentityCenter = makeSwitchStage({
  name: 'switch-identity-center',
  desired: (ctx) => cmk(ctx.run().plan.newKeyArn),
  previous: (ctx) => cmk(ctx.run().plan.oldKeyArn),
  movesAlias: true,
});

export const switchIdentityCenterToAwsOwned = makeSwitchStage({
  name: 'switch-identity-center',
  desired: () => ({ keyType: 'AWS_OWNED_KMS_KEY' }),
  previous: (ctx) => cmk(ctx.run().plan.oldKeyArn),
  movesAlias: false,
});
