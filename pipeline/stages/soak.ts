/**
 * soak — give hidden consumers of the old key time to show up before anyone may approve its
 * deletion. Optionally disables the old key (reversible) so they fail loudly now rather than after
 * deletion. Reports the time left instead of blocking; `advance` after the soak moves on.
 */
import { DisableKeyCommand, EnableKeyCommand } from '@aws-sdk/client-kms';
import { StageError } from '../errors';
import type { StageContext, StageDefinition, StageOutcome } from '../engine/types';
import { describeKey } from './aws-reads';
import { setGenerationStates } from './ledger-edits';
import { assertKeyUnused, mutationDone } from './shared';
import { disableReplicas, enableReplicas } from './multi-region/replica-states';
import { generationOf, liveReplicas } from './multi-region/regions';

/** The old key's replicas the ledger records (a multi-Region key's state is per Region, so each is disabled too). */
async function oldReplicas(ctx: StageContext, oldKeyArn: string): Promise<Array<{ region: string; keyArn: string }>> {
  return liveReplicas(generationOf(await ctx.ledger(), oldKeyArn)).map((r) => ({ region: r.region, keyArn: r.keyArn }));
}

const NAME = 'soak';

/** When the switch took effect: the end of the last stage that changed what the key ring uses. */
function switchedAt(ctx: StageContext): Date {
  const names = ['switch-identity-center', 'promote-alias', 'retire-alias'];
  const ends = ctx.run().stages.flatMap((s) => (names.includes(s.name) && s.endedAt !== undefined ? [Date.parse(s.endedAt)] : []));
  return new Date(ends.length > 0 ? Math.max(...ends) : Date.parse(ctx.run().createdAt));
}

export function formatDuration(ms: number): string {
  const minutes = Math.ceil(ms / 60_000);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return h > 0 ? `${h}h ${m}m` : `${m}m`;
}

async function run(ctx: StageContext): Promise<StageOutcome> {
  const oldKeyArn = ctx.run().plan.oldKeyArn;
  const { rotation } = ctx.keyring;
  if (rotation.disableOldKeyDuringSoak && oldKeyArn && !ctx.record().outputs?.oldKeyDisabled) {
    // The check that nothing uses the key and the DisableKey happen under this run's execution
    // lock, which a rollback takes too: the two can never interleave.
    // (DisableKey on a key that is already disabled succeeds, so no read is needed first.)
    if (!mutationDone(ctx, 'kms:DisableKey', oldKeyArn)) {
      await assertKeyUnused(ctx, NAME, oldKeyArn, 'disable');
      await ctx.mutate('kms:DisableKey', oldKeyArn, () => ctx.clients.kms.send(new DisableKeyCommand({ KeyId: oldKeyArn })));
    }
    await disableReplicas(ctx, NAME, await oldReplicas(ctx, oldKeyArn));
    await ctx.updateLedger((l) => setGenerationStates(l, [{ keyArn: oldKeyArn, state: 'disabled' }], ctx.now().toISOString(), ctx.run().id));
    await ctx.saveOutputs({ oldKeyDisabled: true });
  }
  const until = new Date(switchedAt(ctx).getTime() + rotation.minimumSoakHours * 3600_000);
  const left = until.getTime() - ctx.now().getTime();
  const disabledNote = ctx.record().outputs?.oldKeyDisabled ? '; old key disabled to surface hidden consumers' : '';
  if (left > 0) {
    return {
      status: 'waiting',
      waitingFor: 'time',
      summary: `soaking: ${formatDuration(left)} left (until ${until.toISOString()})${disabledNote}`,
      nextStep: `run \`rotate advance ${ctx.run().id}\` after ${until.toISOString()}`,
      outputs: { soakUntil: until.toISOString() },
    };
  }
  return { status: 'done', summary: `soaked ${rotation.minimumSoakHours}h since the switch${disabledNote}`, outputs: { soakUntil: until.toISOString() } };
}

async function undo(ctx: StageContext): Promise<string> {
  const oldKeyArn = ctx.run().plan.oldKeyArn;
  if (!oldKeyArn) return 'the old key was not disabled';
  // The output is saved only once the primary and every replica are disabled. A soak that failed
  // or was interrupted part-way (a replica refused because its Region's alias still used it, a
  // crash between two DisableKey calls) has none: its recorded DisableKey outcomes (reconciled
  // before any undo) say what it disabled, and that is what must come back.
  const whole = ctx.record().outputs?.oldKeyDisabled === true;
  const replicas = (await oldReplicas(ctx, oldKeyArn)).filter((r) => whole || mutationDone(ctx, 'kms:DisableKey', r.keyArn));
  const primary = whole || mutationDone(ctx, 'kms:DisableKey', oldKeyArn);
  if (!primary && replicas.length === 0) return 'the old key was not disabled';
  const enabledIn = await enableReplicas(ctx, replicas);
  const key = await describeKey(ctx, oldKeyArn);
  if (primary && key.KeyState === 'Disabled') {
    await ctx.mutate('kms:EnableKey', oldKeyArn, () => ctx.clients.kms.send(new EnableKeyCommand({ KeyId: oldKeyArn })));
  }
  await ctx.updateLedger((l) => setGenerationStates(l, [{ keyArn: oldKeyArn, state: 'retiring' }], ctx.now().toISOString(), ctx.run().id));
  const replicasNote = enabledIn.length > 0 ? `its replicas in ${enabledIn.join(', ')}` : '';
  return primary ? `re-enabled old key ${oldKeyArn}${replicasNote ? ` and ${replicasNote}` : ''}` : `re-enabled old key ${oldKeyArn}'s ${replicasNote}`;
}

export const soak: StageDefinition = {
  name: NAME,
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
