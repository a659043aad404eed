/**
 * rotate-key-material — in-place rotation, AWS's routine guidance for Identity Center's key: new
 * key material in the same key (RotateKeyOnDemand), so nothing is switched, nothing is deleted and
 * no approval is needed; old ciphertext still decrypts. KMS allows 25 on-demand rotations per key
 * for its lifetime, so the call is refused when it would leave fewer than the key ring's reserve
 * (`rotation.onDemandRotationReserve`, recorded in the plan at start). The rotation completes in
 * the background: the stage waits until ListKeyRotations lists it — in the primary's Region and,
 * for a multi-Region key (which rotates as one set), in every replica's.
 *
 * Crash safety: the ON_DEMAND count before the call is recorded with the written-ahead intent; a
 * resume reconciles an intent without an outcome by asking KMS whether a rotation is in progress
 * or the count grew (reconcile.ts), so a crash never spends a second rotation.
 */
import { RotateKeyOnDemandCommand } from '@aws-sdk/client-kms';
import { z } from 'zod';
import { StageError } from '../errors';
import type { StageContext, StageDefinition, StageOutcome } from '../engine/types';
import { describeBudget, onDemandRefusal, type RotationBudget } from '../material-rotation/budget';
import { onDemandRotationInProgress, readRotationBudget } from '../material-rotation/read';
import { describeKey } from './aws-reads';
import { pollUntil } from './poll-until';
import { mutationDone, newKeyOf, outputsOf } from './shared';
import { generationOf, inRegion, liveReplicas } from './multi-region/regions';

const NAME = 'rotate-key-material';

const outputsSchema = z.object({
  onDemandBefore: z.number().int().min(0).optional(),
});

function reserveOf(ctx: StageContext): number {
  return ctx.run().plan.onDemandRotationReserve ?? 0;
}

function refuse(ctx: StageContext, stage: string, keyArn: string, why: string): never {
  throw new StageError(stage, `will not rotate the material of ${keyArn}: ${why}`, {
    fault: 'operator',
    nextStep: `rotate to a new key instead (\`rotate plan ${ctx.keyring.name}\`, then \`rotate start ${ctx.keyring.name}\`), which gets a fresh budget of on-demand rotations; or lower rotation.onDemandRotationReserve through a reviewed change`,
  });
}

/** Preflight for a rotate-material run: the key can be rotated now and the budget allows it. */
export async function materialRotationPreflight(ctx: StageContext, stage: string): Promise<string> {
  const keyArn = newKeyOf(ctx, stage);
  const key = await describeKey(ctx, keyArn);
  if (key.KeyState !== 'Enabled') refuse(ctx, stage, keyArn, `it is ${key.KeyState}; only an Enabled key can be rotated on demand`);
  if (key.KeySpec !== 'SYMMETRIC_DEFAULT' || key.Origin !== 'AWS_KMS') refuse(ctx, stage, keyArn, `it is ${key.KeySpec} with ${key.Origin} key material; RotateKeyOnDemand rotates symmetric keys with KMS-generated material`);
  if (key.MultiRegionConfiguration?.MultiRegionKeyType === 'REPLICA') refuse(ctx, stage, keyArn, 'it is a replica; a multi-Region key is rotated on its primary');
  const budget = await readRotationBudget(ctx.clients.kms, keyArn);
  const refusal = onDemandRefusal(budget, reserveOf(ctx));
  if (refusal) refuse(ctx, stage, keyArn, refusal);
  const since = await onDemandRotationInProgress(ctx.clients.kms, keyArn);
  if (since) {
    throw new StageError(stage, `an on-demand rotation of ${keyArn} started ${since.toISOString()} is still in progress`, {
      fault: 'operator',
      retryable: true,
      nextStep: `wait for it to complete (\`rotate status\` shows the rotation history), then start a new run: \`rotate start ${ctx.keyring.name} --kind rotate-material\``,
    });
  }
  return `material of ${keyArn} can rotate: ${describeBudget(budget)}, reserve ${reserveOf(ctx)}`;
}

async function waitForRotation(ctx: StageContext, keyArn: string, before: number, region?: string): Promise<RotationBudget> {
  const regional = region === undefined ? ctx : inRegion(ctx, region);
  return pollUntil(ctx, {
    stage: NAME,
    what: `the new rotation of ${keyArn} in ListKeyRotations${region ? ` in ${region}` : ''}`,
    read: () => readRotationBudget(regional.clients.kms, keyArn),
    done: (budget) => budget.onDemandUsed > before,
    describe: (budget) => `${budget.onDemandUsed} on-demand rotations listed, ${before} before`,
  });
}

async function run(ctx: StageContext): Promise<StageOutcome> {
  const keyArn = newKeyOf(ctx, NAME);
  let before = outputsOf(ctx, NAME, outputsSchema).onDemandBefore;
  if (before === undefined || !mutationDone(ctx, 'kms:RotateKeyOnDemand', keyArn)) {
    // Right before the call, under the run's execution lock: the budget as KMS reports it now.
    const budget = await readRotationBudget(ctx.clients.kms, keyArn);
    if (before !== undefined && budget.onDemandUsed > before) {
      // The count grew since this stage recorded it, with no rotation of ours on record: someone
      // else rotated the key meanwhile. Reported rather than adding a rotation nobody asked for.
      throw new StageError(NAME, `${keyArn} was rotated on demand by someone else since this run recorded ${before} rotations (${budget.onDemandUsed} now)`, {
        fault: 'operator',
        nextStep: `check CloudTrail for the RotateKeyOnDemand; \`rotate cancel ${ctx.run().id}\` if nothing more is wanted`,
      });
    }
    const refusal = onDemandRefusal(budget, reserveOf(ctx));
    if (refusal) refuse(ctx, NAME, keyArn, refusal);
    before = budget.onDemandUsed;
    await ctx.saveOutputs({ onDemandBefore: before });
    await ctx.mutate('kms:RotateKeyOnDemand', keyArn, () => ctx.clients.kms.send(new RotateKeyOnDemandCommand({ KeyId: keyArn })), { onDemandBefore: String(before) });
  }
  const after = await waitForRotation(ctx, keyArn, before);
  // A multi-Region set rotates as one; each replica's Region must list the rotation too.
  const replicas = liveReplicas(generationOf(await ctx.ledger(), keyArn));
  for (const replica of replicas) await waitForRotation(ctx, replica.keyArn, before, replica.region);
  const latest = after.history[after.history.length - 1];
  const where = replicas.length > 0 ? ` (listed in ${[ctx.keyring.region, ...replicas.map((r) => r.region)].join(', ')})` : '';
  return {
    status: 'done',
    summary: `rotated the material of ${keyArn} on ${latest?.date ?? 'an unknown date'}${where}; ${describeBudget(after)}`,
    outputs: { rotatedAt: latest?.date, keyMaterialId: latest?.keyMaterialId, onDemandRemaining: after.remaining },
  };
}

export const rotateKeyMaterial: StageDefinition = {
  name: NAME,
  run,
  verify: async () => undefined, // run waits until KMS lists the rotation: that is the read-back
};
