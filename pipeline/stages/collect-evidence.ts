/**
 * collect-evidence — for retiring a generation no run switched away from just now: the key's
 * state and its last recorded use, as the evidence approvers sign (a key something still uses
 * must not be signed away).
 */
import { digestOf } from '../canonical-json';
import type { StageDefinition, StageOutcome } from '../engine/types';
import { lastUseMeaning } from '../approvals/evidence';
import { describeKey, keyLastUsage } from './aws-reads';
import { oldKeyOf } from './shared';
import { replicaLastUses } from './multi-region/regional-checks';

export const collectEvidence: StageDefinition = {
  name: 'collect-evidence',
  async run(ctx): Promise<StageOutcome> {
    const keyArn = oldKeyOf(ctx, 'collect-evidence');
    const key = await describeKey(ctx, keyArn);
    const oldKeyLastUsage = await keyLastUsage(ctx, keyArn);
    const checkedAt = ctx.now().toISOString();
    const evidence = {
      checkedAt,
      checks: [{ name: 'key state', ok: true, detail: `${keyArn} is ${key.KeyState}` }],
      oldKeyArn: keyArn,
      oldKeyLastUsage,
      oldKeyLastUseMeaning: lastUseMeaning(keyArn, oldKeyLastUsage, checkedAt),
      // A multi-Region key's replicas each track their own last use: approvers see (and sign) every Region.
      ...((await replicaLastUses(ctx, keyArn, checkedAt)) ?? {}),
    };
    await ctx.updateRun((r) => ({ ...r, evidence, evidenceDigest: digestOf(evidence) }));
    return { status: 'done', summary: `${keyArn} is ${key.KeyState}; last use recorded for the approvers` };
  },
  verify: async () => undefined,
};
