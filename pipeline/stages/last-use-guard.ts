/**
 * The last check before a key (or one Region's replica of it) is scheduled for deletion: read its
 * last use again and refuse when it moved past the reading the approvers signed, or cannot be read.
 * A use is written into the run's evidence (the digest changes, so every approval goes stale):
 * approvers then see and sign what happened, after the consumer is found.
 */
import { digestOf } from '../canonical-json';
import { StageError } from '../errors';
import { freshUseProblem, lastUseMeaning, type LastUseMeaning, type LastUseReading } from '../approvals/evidence';
import type { StageContext } from '../engine/types';
import { keyLastUsage } from './aws-reads';

export interface SignedReading {
  /** The key or replica ARN, read with `ctx` (in its Region). */
  readonly keyArn: string;
  /** The reading in the signed evidence (undefined when none was recorded). */
  readonly signed: LastUseReading | undefined;
  /** The evidence with the fresh reading in place of the signed one. */
  readonly record: (evidence: Record<string, unknown>, fresh: LastUseReading, meaning: LastUseMeaning) => Record<string, unknown>;
}

export async function assertNotUsedSinceSigned(ctx: StageContext, stage: string, reading: SignedReading): Promise<void> {
  const run = ctx.run();
  const fresh = (await keyLastUsage(ctx, reading.keyArn)) as LastUseReading;
  const problem = freshUseProblem(reading.signed, fresh);
  if (!problem) return;
  if (problem.kind === 'unreadable') {
    throw new StageError(stage, `refusing to schedule deletion of ${reading.keyArn}: ${problem.reason}`, {
      fault: 'aws',
      retryable: true,
      nextStep: `check that the pipeline role may call kms:GetKeyLastUsage on the key, then run \`rotate advance ${run.id}\` again`,
    });
  }
  const readAt = ctx.now().toISOString();
  const evidence = {
    ...reading.record({ ...(run.evidence ?? {}) }, fresh, lastUseMeaning(reading.keyArn, fresh, readAt)),
    lastUseRereadAt: readAt,
    lastUseRereadBecause: problem.reason,
  };
  await ctx.updateRun((r) => ({ ...r, evidence, evidenceDigest: digestOf(evidence) }));
  throw new StageError(stage, `refusing to schedule deletion of ${reading.keyArn}: ${problem.reason}`, {
    fault: 'operator',
    nextStep:
      `find what still uses the key (CloudTrail, the event named above) and move it to the new key; the run's evidence now records this reading, ` +
      `so every earlier approval is stale: approvers review it and sign again (\`rotate approve ${run.id}\`), then \`rotate advance ${run.id}\`; ` +
      `or keep the key: \`rotate rollback ${run.id}\``,
  });
}
