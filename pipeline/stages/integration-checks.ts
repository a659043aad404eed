/**
 * integration-checks — the new setting works end to end: a round trip through the alias lands on
 * the new key, Identity Center reports it, an Identity Store read succeeds (it fails when the
 * instance's key is unusable: the lock-out a bad switch causes), and the key ring's own check
 * commands pass. The results and the old key's last recorded use become the run's evidence, whose
 * digest approvers sign.
 */
import { ListUsersCommand } from '@aws-sdk/client-identitystore';
import { digestOf } from '../canonical-json';
import { StageError } from '../errors';
import type { CheckCommand } from '../config/types';
import type { StageContext, StageDefinition, StageOutcome } from '../engine/types';
import { lastUseMeaning } from '../approvals/evidence';
import { describeInstanceEncryption, keyLastUsage } from './aws-reads';
import { roundTrip } from './verify-key';
import { newKeyOf } from './shared';
import { attempt, type CheckResult } from './check-result';
import { regionalIntegrationChecks, replicaLastUses } from './multi-region/regional-checks';

const NAME = 'integration-checks';
/** Check output kept as evidence is capped so a chatty command cannot bloat the run record. */
const MAX_OUTPUT_CHARS = 4000;

export type { CheckResult } from './check-result';

async function runCommand(ctx: StageContext, check: CheckCommand): Promise<CheckResult> {
  const plan = ctx.run().plan;
  const [file = '', ...args] = check.command;
  // execa (ESM) is loaded only when a key ring declares check commands.
  const { execa } = await import('execa');
  const result = await execa(file, args, {
    reject: false,
    all: true,
    timeout: check.timeoutSeconds * 1000,
    cwd: ctx.config.baseDir,
    env: {
      KEYROTOR_RUN_ID: ctx.run().id,
      KEYROTOR_RUN_KIND: plan.kind,
      KEYROTOR_KEYRING: ctx.keyring.name,
      KEYROTOR_ALIAS: ctx.keyring.alias,
      KEYROTOR_REGION: ctx.keyring.region,
      KEYROTOR_ACCOUNT: ctx.keyring.account,
      KEYROTOR_OLD_KEY_ARN: plan.oldKeyArn ?? '',
      KEYROTOR_NEW_KEY_ARN: plan.newKeyArn ?? '',
    },
  });
  const output = (result.all ?? '').slice(-MAX_OUTPUT_CHARS);
  const ok = result.exitCode === 0 && !result.timedOut;
  const why = result.timedOut ? `timed out after ${check.timeoutSeconds}s` : `exit ${result.exitCode ?? result.signal}`;
  return { name: `command: ${check.name}`, ok, detail: `${why}${output ? `: ${output}` : ''}` };
}

async function run(ctx: StageContext): Promise<StageOutcome> {
  const { keyring } = ctx;
  const plan = ctx.run().plan;
  const results: CheckResult[] = [];
  const toAwsOwned = plan.kind === 'migrate-to-aws-owned';

  if (!toAwsOwned) {
    results.push(await attempt('alias round trip', async () => {
      await roundTrip(ctx, keyring.alias, newKeyOf(ctx, NAME), NAME);
      return `Encrypt/Decrypt through ${keyring.alias} used ${plan.newKeyArn}`;
    }));
  }
  if (keyring.identityCenter) {
    const ic = keyring.identityCenter;
    results.push(await attempt('identity center key', async () => {
      const state = await describeInstanceEncryption(ctx, ic.instanceArn);
      const expected = toAwsOwned ? 'AWS_OWNED_KMS_KEY' : plan.newKeyArn;
      const actual = state.keyType === 'AWS_OWNED_KMS_KEY' ? 'AWS_OWNED_KMS_KEY' : state.kmsKeyArn;
      if (actual !== expected || state.encryptionStatus !== 'ENABLED') throw new Error(`instance reports ${state.encryptionStatus} on ${actual}, expected ENABLED on ${expected}`);
      return `instance ENABLED on ${actual}`;
    }));
    results.push(await attempt('identity store read', async () => {
      const identityStoreId = ic.identityStoreArn.slice(ic.identityStoreArn.lastIndexOf('/') + 1);
      const users = await ctx.clients.identityStore.send(new ListUsersCommand({ IdentityStoreId: identityStoreId, MaxResults: 1 }));
      return `ListUsers on ${identityStoreId} returned ${users.Users?.length ?? 0} user(s)`;
    }));
  }
  // Multi-Region key rings: the alias round trip and the Identity Store read in every Region.
  results.push(...(await regionalIntegrationChecks(ctx, NAME)));
  for (const check of keyring.checks) results.push(await runCommand(ctx, check));

  const oldKeyLastUsage = plan.oldKeyArn ? await keyLastUsage(ctx, plan.oldKeyArn) : undefined;
  const checkedAt = ctx.now().toISOString();
  // What the reading proves and what it does not travels with it: approvers sign both.
  const oldKeyLastUseMeaning = plan.oldKeyArn && oldKeyLastUsage ? lastUseMeaning(plan.oldKeyArn, oldKeyLastUsage, checkedAt) : undefined;
  // AWS tracks a multi-Region key's last use per Region: each replica's reading is evidence too.
  const replicaUses = plan.oldKeyArn ? await replicaLastUses(ctx, plan.oldKeyArn, checkedAt) : undefined;

  const evidence = { checkedAt, checks: results, oldKeyArn: plan.oldKeyArn, newKeyArn: plan.newKeyArn, oldKeyLastUsage, oldKeyLastUseMeaning, ...(replicaUses ?? {}) };
  await ctx.updateRun((r) => ({ ...r, evidence, evidenceDigest: digestOf(evidence) }));
  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0) {
    throw new StageError(NAME, `${failed.length} of ${results.length} checks failed: ${failed.map((f) => `${f.name} (${f.detail})`).join('; ')}`, {
      fault: 'operator',
      nextStep: `fix the cause and run \`rotate advance ${ctx.run().id}\` to re-run the checks, or \`rotate rollback ${ctx.run().id}\``,
    });
  }
  return { status: 'done', summary: `${results.length} checks passed: ${results.map((r) => r.name).join(', ')}` };
}

export const integrationChecks: StageDefinition = {
  name: NAME,
  run,
  verify: async () => undefined, // run is itself the read-back; its results are the evidence
};
