/**
 * soak — give hidden consumers of the old key time to show up before anyone may approve its
 * deletion. Optionally disables the old key (reversible) so they fail loudly now rather than after
 * deletion. Reports the time left instead of blocking; `advance` after the soak moves on.
 */
import { DisableKeyCommand, EnableKeyCommand } from '@aws-sdk/client-kms';
import { StageError } from '../errors';
import type { StageContext, StageDefinition, StageOutcome } from '../engine/types';
import { aliasTarget, describeInstanceEncryption, describeKey } from './aws-reads';
import { setGenerationStates } from './ledger-edits';

const NAME = 'soak';

/** When the switch took effect: the end of the last stage that changed what the key ring uses. */
function switchedAt(ctx: StageContext): Date {
  const names = ['switch-identity-center', 'promote-alias', 'retire-alias'];
  const ends = ctx.run().stages.filter((s) => names.includes(s.name) && s.endedAt).map((s) => Date.parse(s.endedAt!));
  return new Date(ends.length > 0 ? Math.max(...ends) : Date.parse(ctx.run().createdAt));
}

export function formatDuration(ms: number): string {
  const minutes = Math.ceil(ms / 60_000);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return h > 0 ? `${h}h ${m}m` : `${m}m`;
}

/** Refuses to touch a key the alias, Identity Center or the ledger still uses (a rule that never bends). */
export async function assertKeyUnused(ctx: StageContext, stage: string, keyArn: string, action: string): Promise<void> {
  const users: string[] = [];
  if ((await aliasTarget(ctx, ctx.keyring.alias)) === keyArn) users.push(`alias ${ctx.keyring.alias}`);
  if (ctx.keyring.identityCenter) {
    const state = await describeInstanceEncryption(ctx, ctx.keyring.identityCenter.instanceArn);
    if (state.kmsKeyArn === keyArn) users.push(`Identity Center instance ${ctx.keyring.identityCenter.instanceArn}`);
  }
  const ledger = await ctx.ledger();
  if (ledger.generations.some((g) => g.keyArn === keyArn && g.state === 'active')) users.push('the ledger (active generation)');
  if (users.length > 0) {
    throw new StageError(stage, `refusing to ${action} ${keyArn}: it is still used by ${users.join(', ')}`, {
      fault: 'operator',
      nextStep: `find out why (run \`rotate status ${ctx.run().id}\`); roll back with \`rotate rollback ${ctx.run().id}\` if the switch did not hold`,
    });
  }
}

async function run(ctx: StageContext): Promise<StageOutcome> {
  const oldKeyArn = ctx.run().plan.oldKeyArn;
  const { rotation } = ctx.keyring;
  if (rotation.disableOldKeyDuringSoak && oldKeyArn && !ctx.record().outputs?.oldKeyDisabled) {
    // First attempt: the key was enabled when preflight ran; a resume reads its state first.
    const state = ctx.record().attempts > 1 ? (await describeKey(ctx, oldKeyArn)).KeyState : 'Enabled';
    if (state === 'Enabled') {
      await assertKeyUnused(ctx, NAME, oldKeyArn, 'disable');
      await ctx.mutate('kms:DisableKey', oldKeyArn, () => ctx.clients.kms.send(new DisableKeyCommand({ KeyId: oldKeyArn })));
    }
    await ctx.updateLedger((l) => setGenerationStates(l, [{ keyArn: oldKeyArn, state: 'disabled' }], ctx.now().toISOString(), ctx.run().id));
    await ctx.saveOutputs({ oldKeyDisabled: true });
  }
  const until = new Date(switchedAt(ctx).getTime() + rotation.minimumSoakHours * 3600_000);
  const left = until.getTime() - ctx.now().getTime();
  const disabledNote = ctx.record().outputs?.oldKeyDisabled ? '; old key disabled to surface hidden consumers' : '';
  if (left > 0) {
    return {
      status: 'waiting',
      summary: `soaking: ${formatDuration(left)} left (until ${until.toISOString()})${disabledNote}`,
      nextStep: `run \`rotate advance ${ctx.run().id}\` after ${until.toISOString()}`,
      outputs: { soakUntil: until.toISOString() },
    };
  }
  return { status: 'done', summary: `soaked ${rotation.minimumSoakHours}h since the switch${disabledNote}`, outputs: { soakUntil: until.toISOString() } };
}

async function undo(ctx: StageContext): Promise<string> {
  const oldKeyArn = ctx.run().plan.oldKeyArn;
  if (!oldKeyArn || !ctx.record().outputs?.oldKeyDisabled) return 'the old key was not disabled';
  const key = await describeKey(ctx, oldKeyArn);
  if (key.KeyState === 'Disabled') {
    await ctx.mutate('kms:EnableKey', oldKeyArn, () => ctx.clients.kms.send(new EnableKeyCommand({ KeyId: oldKeyArn })));
  }
  await ctx.updateLedger((l) => setGenerationStates(l, [{ keyArn: oldKeyArn, state: 'retiring' }], ctx.now().toISOString(), ctx.run().id));
  return `re-enabled old key ${oldKeyArn}`;
}

export const soak: StageDefinition = {
  name: NAME,
  description: 'wait the minimum soak; optionally DisableKey on the old key (reversible); reports time left',
  run,
  verify: async (ctx) => {
    const oldKeyArn = ctx.run().plan.oldKeyArn;
    if (oldKeyArn && ctx.record().outputs?.oldKeyDisabled) {
      const key = await describeKey(ctx, oldKeyArn);
      if (key.KeyState !== 'Disabled' && key.KeyState !== 'PendingDeletion') {
        throw new StageError(NAME, `old key ${oldKeyArn} is ${key.KeyState}; the soak expected it Disabled`, { fault: 'operator', nextStep: `someone re-enabled it: find out why before approving, then \`rotate advance ${ctx.run().id}\`` });
      }
    }
  },
  undo,
};
