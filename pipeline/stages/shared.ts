/**
 * Guards and accessors every stage shares: the keys a plan names (read without `!`), a stage's
 * own outputs (validated, never cast), and the rule that never bends — a key the alias, Identity
 * Center or the ledger still uses is never disabled or deleted.
 */
import type { z } from 'zod';
import { StageError } from '../errors';
import type { StageContext } from '../engine/types';
import { aliasTarget, describeInstanceEncryption } from './aws-reads';

/** The key the run retires; an internal error names the run when its plan has none. */
export function oldKeyOf(ctx: StageContext, stage: string): string {
  const arn = ctx.run().plan.oldKeyArn;
  if (arn === undefined) throw missingPlanKey(ctx, stage, 'oldKeyArn');
  return arn;
}

/** The key the run moves to; set by create-key (or adopt), so later stages can rely on it. */
export function newKeyOf(ctx: StageContext, stage: string): string {
  const arn = ctx.run().plan.newKeyArn;
  if (arn === undefined) throw missingPlanKey(ctx, stage, 'newKeyArn');
  return arn;
}

function missingPlanKey(ctx: StageContext, stage: string, field: string): StageError {
  return new StageError(stage, `run ${ctx.run().id} (${ctx.run().kind}) has no plan.${field}, which this stage needs`, {
    fault: 'internal',
    nextStep: `\`rotate status ${ctx.run().id}\` shows the run; if it was edited by hand restore it, otherwise report this as a bug`,
  });
}

/** This stage's outputs as recorded, checked against the stage's own schema. */
export function outputsOf<T>(ctx: StageContext, stage: string, schema: z.ZodType<T>): T {
  const result = schema.safeParse(ctx.record().outputs ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join('.') || '(outputs)'}: ${i.message}`).join('; ');
  throw new StageError(stage, `the recorded outputs of stage ${stage} in run ${ctx.run().id} are not valid (${problems})`, {
    fault: 'operator',
    nextStep: `restore run ${ctx.run().id} from version control or a backup; \`rotate status ${ctx.run().id}\` shows it`,
  });
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

/** Whether this stage already made `operation` (on `target`) and it took effect. */
export function mutationDone(ctx: StageContext, operation: string, target?: string): boolean {
  return ctx.record().mutations.some((m) => m.operation === operation && (target === undefined || m.target === target) && (m.outcome === 'ok' || m.outcome === 'reconciled-done'));
}

/** A fact recorded with this stage's successful `operation` (e.g. the ARN CreateKey answered with). */
export function mutationFact(ctx: StageContext, operation: string, fact: string): string | undefined {
  const done = ctx.record().mutations.find((m) => m.operation === operation && m.outcome === 'ok' && m.detail?.[fact] !== undefined);
  return done?.detail?.[fact];
}
