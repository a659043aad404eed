/**
 * adopt-key — for an estate whose key and alias exist outside keyrotor (or whose generation 1 the
 * stacks created): record the alias's current key as generation 1, so the stacks adopt it (import
 * block) instead of creating one, and record what Identity Center uses.
 */
import { ListResourceTagsCommand } from '@aws-sdk/client-kms';
import { callAws } from '../aws/call';
import { KEYRING_TAG, RUN_ID_TAG } from '../key-tags';
import { ledgersRecording } from '../ledger/one-key-one-keyring';
import { StageError } from '../errors';
import type { StageDefinition, StageOutcome } from '../engine/types';
import { describeInstanceEncryption, describeKey } from './aws-reads';
import { addGeneration, setIdentityCenterTarget } from './ledger-edits';
import { addReplicas } from './multi-region/ledger-replicas';

const NAME = 'adopt-key';

/** A key another key ring records (two aliases on one key in AWS) cannot become this key ring's too (one-key-one-keyring.ts). */
async function assertNotAnotherKeyrings(ctx: Parameters<StageDefinition['run']>[0], keyArn: string): Promise<void> {
  const others = ledgersRecording(await ctx.store.listLedgers(), keyArn).filter((l) => l.keyring !== ctx.keyring.name);
  if (others.length === 0) return;
  throw new StageError(NAME, `alias ${ctx.keyring.alias} points to ${keyArn}, which key ring ${others.map((l) => l.keyring).join(', ')} already records; a key belongs to one key ring (its policy, alias and retirement are that key ring's)`, {
    fault: 'operator',
    nextStep: `give key ring ${ctx.keyring.name} its own key (create one and point ${ctx.keyring.alias} at it with \`aws kms update-alias\`), then adopt it; or drop one of the two key rings from the config`,
  });
}

/**
 * A key a keyrotor run created (tagged with its run id) belongs to the state that ran it. When this
 * state does not know that run, the command is most likely pointed at the wrong state (a mistyped
 * --state-dir starts an empty one): adopting would begin a second history for keys the real one
 * tracks, and nothing would hold its open run's lease.
 */
async function assertRunKnown(ctx: Parameters<StageDefinition['run']>[0], keyArn: string, runId: string | undefined): Promise<void> {
  if (runId === undefined || runId === ctx.run().id || (await ctx.store.getRun(runId))) return;
  throw new StageError(NAME, `${keyArn} was created by keyrotor run ${runId} (tag ${RUN_ID_TAG}), which the ${ctx.store.description} does not know: this looks like the wrong state`, {
    fault: 'operator',
    nextStep: `point the command at the state that ran ${runId} (--state-dir, KEYROTOR_STATE_DIR or the config's backend); if that state is lost, restore it from version control, where state/ is committed`,
  });
}

export const adoptKey: StageDefinition = {
  name: NAME,
  async run(ctx): Promise<StageOutcome> {
    const { keyring } = ctx;
    const key = await describeKey(ctx, keyring.alias);
    if (key.KeyManager !== 'CUSTOMER' || key.KeyState !== 'Enabled') {
      throw new StageError(NAME, `alias ${keyring.alias} points to ${key.Arn}, a ${key.KeyManager} key in state ${key.KeyState}; only an enabled customer managed key can be adopted`, {
        fault: 'operator',
        nextStep: 'point the alias at an enabled customer managed key, or use `--kind migrate-to-cmk`',
      });
    }
    const tags = await callAws('kms:ListResourceTags', { target: key.Arn }, () => ctx.clients.kms.send(new ListResourceTagsCommand({ KeyId: key.Arn })));
    await assertRunKnown(ctx, key.Arn!, tags.Tags?.find((t) => t.TagKey === RUN_ID_TAG)?.TagValue);
    await assertNotAnotherKeyrings(ctx, key.Arn!);
    // Generation 1 created by the stacks carries their tags and is already in Terraform state.
    const byStacks = tags.Tags?.some((t) => t.TagKey === KEYRING_TAG && t.TagValue === keyring.name) ?? false;
    const at = ctx.now().toISOString();
    // A multi-Region key comes with its replicas (DescribeKey lists them): the stacks import each.
    const replicas = (key.MultiRegionConfiguration?.ReplicaKeys ?? []).flatMap((r) => (r.Arn && r.Region ? [{ region: r.Region, keyArn: r.Arn, state: 'live' as const }] : []));
    let ledger = await ctx.updateLedger((l) =>
      addReplicas(addGeneration(l, {
        generation: 1,
        keyId: key.KeyId!,
        keyArn: key.Arn!,
        state: 'active',
        origin: byStacks ? 'terraform' : 'adopted',
        runId: ctx.run().id,
        createdAt: key.CreationDate?.toISOString() ?? at,
        stateChangedAt: at,
      }), key.Arn!, replicas),
    );
    if (keyring.identityCenter) {
      const state = await describeInstanceEncryption(ctx, keyring.identityCenter.instanceArn);
      const target = state.keyType === 'CUSTOMER_MANAGED_KEY' && state.kmsKeyArn ? { keyType: 'CUSTOMER_MANAGED_KEY' as const, kmsKeyArn: state.kmsKeyArn } : { keyType: 'AWS_OWNED_KMS_KEY' as const };
      ledger = await ctx.updateLedger((l) => setIdentityCenterTarget(l, target));
    }
    await ctx.updateRun((r) => (r.plan.newKeyArn === key.Arn ? r : { ...r, plan: { ...r.plan, newKeyArn: key.Arn } }));
    const withReplicas = replicas.length > 0 ? ` with its replicas in ${replicas.map((r) => r.region).join(', ')}` : '';
    return { status: 'done', summary: `adopted ${key.Arn}${withReplicas} as generation 1 (${byStacks ? 'created by the stacks' : 'imported by the stacks on next apply'}); ledger has ${ledger.generations.length} generation(s)` };
  },
  verify: async () => undefined,
};
