/**
 * create-key — CreateKey with the key ring's policy (the very document the stacks declare, so
 * Terraform's adoption shows no diff) and a `keyrotor:run-id` tag, then EnableKeyRotation.
 *
 * Crash safety: the intent (and the generation number) is saved before CreateKey; a resumed stage
 * that finds an intent but no key ARN looks for the key by its run tag before creating one, so a
 * crash between CreateKey and the state write neither orphans a key nor creates a second.
 */
import {
  CreateKeyCommand,
  DisableKeyCommand,
  EnableKeyRotationCommand,
  GetKeyRotationStatusCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
} from '@aws-sdk/client-kms';
import { buildKeyPolicy, renderKeyPolicy } from '../policy/builder';
import { createKeyTags, RUN_ID_TAG } from '../key-tags';
import { callAws } from '../aws/call';
import { StageError } from '../errors';
import type { StageContext, StageDefinition, StageOutcome } from '../engine/types';
import { addGeneration, generationByArn, nextGenerationNumber, setGenerationStates } from './ledger-edits';
import { aliasTarget, describeKey, describeInstanceEncryption } from './aws-reads';

const NAME = 'create-key';

interface Outputs {
  readonly generation?: number;
  readonly createRequested?: boolean;
  readonly newKeyArn?: string;
  readonly rotationEnabled?: boolean;
  readonly reusedActive?: boolean;
}

async function findKeyByRunTag(ctx: StageContext, runId: string): Promise<string | undefined> {
  const { kms } = ctx.clients;
  let marker: string | undefined;
  do {
    const page = await callAws('kms:ListKeys', {}, () => kms.send(new ListKeysCommand({ Marker: marker, Limit: 1000 })));
    for (const key of page.Keys ?? []) {
      const tags = await callAws('kms:ListResourceTags', { target: key.KeyArn }, () => kms.send(new ListResourceTagsCommand({ KeyId: key.KeyId })));
      if (tags.Tags?.some((t) => t.TagKey === RUN_ID_TAG && t.TagValue === runId)) return key.KeyArn;
    }
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker);
  return undefined;
}

async function run(ctx: StageContext): Promise<StageOutcome> {
  const { keyring } = ctx;
  const runId = ctx.run().id;
  let out = (ctx.record().outputs ?? {}) as Outputs;
  const ledger = await ctx.ledger();

  // migrate-to-cmk onto a key ring whose generation already exists: that key is the target.
  const active = ledger.generations.find((g) => g.state === 'active');
  if (ctx.run().kind === 'migrate-to-cmk' && active) {
    await ctx.updateRun((r) => (r.plan.newKeyArn === active.keyArn ? r : { ...r, plan: { ...r.plan, newKeyArn: active.keyArn } }));
    return { status: 'done', summary: `uses existing generation ${active.generation} (${active.keyArn})`, outputs: { newKeyArn: active.keyArn, reusedActive: true } };
  }

  let keyArn = out.newKeyArn;
  if (!keyArn && out.createRequested) {
    ctx.progress('resuming: looking for a key created by this run before creating one');
    keyArn = await findKeyByRunTag(ctx, runId);
    if (keyArn) await ctx.saveOutputs({ newKeyArn: keyArn });
  }
  if (!keyArn) {
    const generation = out.generation ?? nextGenerationNumber(ledger);
    await ctx.saveOutputs({ generation, createRequested: true });
    const tags = createKeyTags(keyring, generation, runId);
    const created = await ctx.mutate('kms:CreateKey', `${keyring.alias} generation ${generation}`, () =>
      ctx.clients.kms.send(
        new CreateKeyCommand({
          Policy: renderKeyPolicy(buildKeyPolicy(keyring)),
          Description: keyring.description, // exactly what the stacks declare: adoption shows no diff
          KeySpec: 'SYMMETRIC_DEFAULT',
          KeyUsage: 'ENCRYPT_DECRYPT',
          Tags: Object.entries(tags).sort(([a], [b]) => a.localeCompare(b)).map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
        }),
      ),
    );
    keyArn = created.KeyMetadata!.Arn!;
    await ctx.saveOutputs({ newKeyArn: keyArn });
  }
  out = (ctx.record().outputs ?? {}) as Outputs;

  if (!out.rotationEnabled) {
    // On a resume, EnableKeyRotation may already have happened: read before writing.
    const already = ctx.record().attempts > 1
      ? (await callAws('kms:GetKeyRotationStatus', { target: keyArn }, () => ctx.clients.kms.send(new GetKeyRotationStatusCommand({ KeyId: keyArn })))).KeyRotationEnabled
      : false;
    if (!already) {
      await ctx.mutate('kms:EnableKeyRotation', keyArn, () =>
        ctx.clients.kms.send(new EnableKeyRotationCommand({ KeyId: keyArn, RotationPeriodInDays: keyring.rotation.automaticRotationPeriodDays })),
      );
    }
    await ctx.saveOutputs({ rotationEnabled: true });
  }

  const generation = ((ctx.record().outputs ?? {}) as Outputs).generation!;
  const at = ctx.now().toISOString();
  await ctx.updateLedger((l) =>
    addGeneration(l, {
      generation,
      keyId: keyArn.split('/').pop()!,
      keyArn,
      state: 'candidate',
      origin: 'pipeline',
      runId,
      createdAt: at,
      stateChangedAt: at,
    }),
  );
  await ctx.updateRun((r) => (r.plan.newKeyArn === keyArn ? r : { ...r, plan: { ...r.plan, newKeyArn: keyArn } }));
  return { status: 'done', summary: `created generation ${generation}: ${keyArn} (automatic rotation every ${keyring.rotation.automaticRotationPeriodDays} days)`, outputs: { newKeyArn: keyArn } };
}

async function verify(ctx: StageContext): Promise<void> {
  const keyArn = ctx.run().plan.newKeyArn!;
  const key = await describeKey(ctx, keyArn);
  if (key.KeyState !== 'Enabled') {
    throw new StageError(NAME, `new key ${keyArn} is ${key.KeyState}, expected Enabled`, { fault: 'aws', nextStep: `inspect the key, then \`rotate rollback ${ctx.run().id}\`` });
  }
}

/** Disables the candidate (reversible) and marks it abandoned; never while anything still uses it. */
async function undo(ctx: StageContext): Promise<string> {
  const out = (ctx.record().outputs ?? {}) as Outputs;
  const keyArn = out.newKeyArn;
  if (!keyArn || out.reusedActive) return 'no key was created';
  const users: string[] = [];
  if ((await aliasTarget(ctx, ctx.keyring.alias)) === keyArn) users.push(`alias ${ctx.keyring.alias}`);
  if (ctx.keyring.identityCenter && (await describeInstanceEncryption(ctx, ctx.keyring.identityCenter.instanceArn)).kmsKeyArn === keyArn) users.push('Identity Center');
  if (users.length > 0) {
    throw new StageError(NAME, `will not disable ${keyArn}: still used by ${users.join(' and ')}`, { fault: 'operator', nextStep: `run \`rotate rollback ${ctx.run().id}\` again once the later stages are undone` });
  }
  const key = await describeKey(ctx, keyArn);
  if (key.KeyState === 'Enabled') {
    await ctx.mutate('kms:DisableKey', keyArn, () => ctx.clients.kms.send(new DisableKeyCommand({ KeyId: keyArn })));
  }
  const ledger = await ctx.ledger();
  if (generationByArn(ledger, keyArn)) {
    await ctx.updateLedger((l) => setGenerationStates(l, [{ keyArn, state: 'abandoned' }], ctx.now().toISOString(), ctx.run().id));
  }
  return `disabled candidate ${keyArn} and marked it abandoned (schedule its deletion through a later reviewed run, or re-enable it)`;
}

export const createKey: StageDefinition = {
  name: NAME,
  description: 'CreateKey with the key ring policy and a run tag; EnableKeyRotation (finds its own key on resume)',
  run,
  verify,
  undo,
};
