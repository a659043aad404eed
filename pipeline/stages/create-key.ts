/**
 * create-key — CreateKey with the key ring's policy (the very document the stacks declare, so
 * Terraform's adoption shows no diff) and a `keyrotor:run-id` tag, then EnableKeyRotation.
 *
 * Crash safety: the generation number and the CreateKey intent are recorded before the call; on
 * resume the engine reconciles an intent without an outcome by finding the key by its run tag, so
 * a crash between CreateKey and the state write neither orphans a key nor creates a second.
 */
import { CreateKeyCommand, DisableKeyCommand, EnableKeyRotationCommand } from '@aws-sdk/client-kms';
import { z } from 'zod';
import { buildKeyPolicy, renderKeyPolicy } from '../policy/builder';
import { createKeyTags } from '../key-tags';
import { StageError } from '../errors';
import type { StageContext, StageDefinition, StageOutcome } from '../engine/types';
import { addGeneration, generationByArn, nextGenerationNumber, setGenerationStates } from './ledger-edits';
import { aliasTarget, describeKey, describeInstanceEncryption, keyIdOf } from './aws-reads';
import { mutationDone, mutationFact, newKeyOf, outputsOf } from './shared';
import { assertInstanceRegionsReplicated, replicateNewKey } from './multi-region/replicate';
import { currentReplicas, disableNewReplicas } from './multi-region/replica-states';
import { addReplicas } from './multi-region/ledger-replicas';
import { onNewKey } from '../aws/eventual-consistency';

const NAME = 'create-key';

const outputsSchema = z.object({
  generation: z.number().int().min(1).optional(),
  newKeyArn: z.string().optional(),
  reusedActive: z.boolean().optional(),
});

async function run(ctx: StageContext): Promise<StageOutcome> {
  const { keyring } = ctx;
  const runId = ctx.run().id;
  const ledger = await ctx.ledger();

  // migrate-to-cmk onto a key ring whose generation already exists: that key is the target.
  const active = ledger.generations.find((g) => g.state === 'active');
  if (ctx.run().kind === 'migrate-to-cmk' && active) {
    await ctx.updateRun((r) => (r.plan.newKeyArn === active.keyArn ? r : { ...r, plan: { ...r.plan, newKeyArn: active.keyArn } }));
    return { status: 'done', summary: `uses existing generation ${active.generation} (${active.keyArn})`, outputs: { newKeyArn: active.keyArn, reusedActive: true } };
  }

  // A key this stage already created: its ARN is in the outputs, or in the CreateKey outcome the
  // engine recorded (a crash can fall between the two writes), or the engine's reconciliation
  // found it by its run tag. Otherwise no CreateKey was ever sent: intents are written first.
  let keyArn = outputsOf(ctx, NAME, outputsSchema).newKeyArn ?? mutationFact(ctx, 'kms:CreateKey', 'keyArn');
  // Multi-Region key rings: a multi-Region primary, replicated to the plan's Regions (which must
  // cover every Region Identity Center serves, read live right before the key is made).
  const multiRegion = ctx.run().plan.replicaRegions !== undefined;
  if (!keyArn) {
    if (multiRegion) await assertInstanceRegionsReplicated(ctx, NAME);
    const generation = outputsOf(ctx, NAME, outputsSchema).generation ?? nextGenerationNumber(ledger);
    await ctx.saveOutputs({ generation });
    const tags = createKeyTags(keyring, generation, runId);
    const created = await ctx.mutate(
      'kms:CreateKey',
      `${keyring.alias} generation ${generation}`,
      () =>
        ctx.clients.kms.send(
          new CreateKeyCommand({
            Policy: renderKeyPolicy(buildKeyPolicy(keyring)),
            Description: keyring.description, // exactly what the stacks declare: adoption shows no diff
            KeySpec: 'SYMMETRIC_DEFAULT',
            KeyUsage: 'ENCRYPT_DECRYPT',
            ...(multiRegion ? { MultiRegion: true } : {}),
            Tags: Object.entries(tags).sort(([a], [b]) => a.localeCompare(b)).map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
          }),
        ),
      { runTag: runId },
      (out) => ({ keyArn: out.KeyMetadata?.Arn ?? 'unknown' }),
    );
    const arn = created.KeyMetadata?.Arn;
    if (!arn) throw new StageError(NAME, 'CreateKey answered without a key ARN', { fault: 'aws', retryable: true, nextStep: `run \`rotate advance ${runId}\` again (the key is found by its run tag)` });
    keyArn = arn;
    await ctx.saveOutputs({ newKeyArn: keyArn });
  }

  if (!mutationDone(ctx, 'kms:EnableKeyRotation', keyArn)) {
    // The key may be moments old: KMS can answer NotFoundException until it shows it everywhere.
    await ctx.mutate('kms:EnableKeyRotation', keyArn, () =>
      onNewKey(ctx, () => ctx.clients.kms.send(new EnableKeyRotationCommand({ KeyId: keyArn, RotationPeriodInDays: keyring.rotation.automaticRotationPeriodDays }))),
    );
  }

  const generation = outputsOf(ctx, NAME, outputsSchema).generation ?? nextGenerationNumber(await ctx.ledger());
  const replicas = await replicateNewKey(ctx, NAME, keyArn, generation);
  const at = ctx.now().toISOString();
  await ctx.updateLedger((l) =>
    addReplicas(
      addGeneration(l, {
        generation,
        keyId: keyIdOf(keyArn),
        keyArn,
        state: 'candidate',
        origin: 'pipeline',
        runId,
        createdAt: at,
        stateChangedAt: at,
      }),
      keyArn,
      replicas,
    ),
  );
  await ctx.updateRun((r) => (r.plan.newKeyArn === keyArn ? r : { ...r, plan: { ...r.plan, newKeyArn: keyArn } }));
  const replicated = replicas.length > 0 ? `; replicas in ${replicas.map((r) => r.region).join(', ')}, each with the key ring's policy` : '';
  return { status: 'done', summary: `created generation ${generation}: ${keyArn} (automatic rotation every ${keyring.rotation.automaticRotationPeriodDays} days)${replicated}`, outputs: { newKeyArn: keyArn } };
}

async function verify(ctx: StageContext): Promise<void> {
  const keyArn = newKeyOf(ctx, NAME);
  const key = await onNewKey(ctx, () => describeKey(ctx, keyArn));
  if (key.KeyState !== 'Enabled') {
    throw new StageError(NAME, `new key ${keyArn} is ${key.KeyState}, expected Enabled`, { fault: 'aws', nextStep: `inspect the key, then \`rotate rollback ${ctx.run().id}\`` });
  }
}

/** Disables the candidate (reversible) and marks it abandoned; never while anything still uses it. */
async function undo(ctx: StageContext): Promise<string> {
  const out = outputsOf(ctx, NAME, outputsSchema);
  const keyArn = out.newKeyArn;
  if (!keyArn || out.reusedActive) return 'no key was created';
  const users: string[] = [];
  if ((await aliasTarget(ctx, ctx.keyring.alias)) === keyArn) users.push(`alias ${ctx.keyring.alias}`);
  if (ctx.keyring.identityCenter && (await describeInstanceEncryption(ctx, ctx.keyring.identityCenter.instanceArn)).kmsKeyArn === keyArn) users.push('Identity Center');
  if (users.length > 0) {
    throw new StageError(NAME, `will not disable ${keyArn}: still used by ${users.join(' and ')}`, { fault: 'operator', nextStep: `run \`rotate rollback ${ctx.run().id}\` again once the later stages are undone` });
  }
  // Replicas first (each in its Region), then the primary: a replica's state is its own.
  const replicas = await currentReplicas(ctx, keyArn);
  await disableNewReplicas(ctx, NAME, replicas);
  const key = await describeKey(ctx, keyArn);
  if (key.KeyState === 'Enabled') {
    await ctx.mutate('kms:DisableKey', keyArn, () => ctx.clients.kms.send(new DisableKeyCommand({ KeyId: keyArn })));
  }
  const ledger = await ctx.ledger();
  const at = ctx.now().toISOString();
  if (generationByArn(ledger, keyArn)) {
    await ctx.updateLedger((l) => setGenerationStates(l, [{ keyArn, state: 'abandoned' }], at, ctx.run().id));
  } else {
    // Stopped before its ledger write (a crash or Ctrl-C while the replicas were still being
    // created): record it now, abandoned, with the replicas KMS lists, so `retire-key` can reach it
    // and drift does not report it as an orphan to resume.
    const generation = out.generation ?? nextGenerationNumber(ledger);
    await ctx.updateLedger((l) =>
      addReplicas(
        addGeneration(l, { generation, keyId: keyIdOf(keyArn), keyArn, state: 'abandoned', origin: 'pipeline', runId: ctx.run().id, createdAt: at, stateChangedAt: at }),
        keyArn,
        replicas.map((r) => ({ region: r.region, keyArn: r.keyArn, state: 'live' as const })),
      ),
    );
  }
  return `disabled candidate ${keyArn} and marked it abandoned (schedule its deletion through a later reviewed run, or re-enable it)`;
}

export const createKey: StageDefinition = {
  name: NAME,
  run,
  verify,
  undo,
};
