/**
 * What a run will do, per stage, as the AWS calls and values it will use — terraform-style:
 * `+` creates, `~` changes in place, `-` disables, deletes or schedules a deletion, `<=` reads.
 * Pure: built from the plan `rotate start` would store, the key ring's config, the ledger and what
 * was read live (LiveFacts), so `rotate plan` shows exactly what the stages will send
 * (test/cli/plan.test.ts holds it against the emulator's call log of a real run).
 */
import { createHash } from 'node:crypto';
import type { KeyRingConfig } from '../../../pipeline/config/types';
import type { Ledger } from '../../../pipeline/ledger/types';
import { nextGenerationNumber } from '../../../pipeline/ledger/generations';
import { buildKeyPolicy, renderKeyPolicy } from '../../../pipeline/policy/builder';
import { createKeyTags } from '../../../pipeline/key-tags';
import type { RunPlan } from '../../../pipeline/state/types';
import type { StageCatalogEntry } from '../../../pipeline/engine/types';
import { identityCenterKeyWords, type LiveFacts } from './live-facts';
import { signerPrincipals } from '../view/signers';

export type ChangeSign = '+' | '~' | '-' | '<=';

export interface PlannedCall {
  readonly sign: ChangeSign;
  /** `service:Operation`, as the audit log and the emulator name it. */
  readonly operation: string;
  readonly target: string;
  /** The values the call sends or expects, in order. */
  readonly values: ReadonlyArray<readonly [string, string]>;
}

export interface PlannedStage {
  readonly name: string;
  readonly description: string;
  readonly undoable: boolean;
  /** Set when the CLI asks for confirmation (or --yes) before this stage runs. */
  readonly confirmation?: string;
  readonly calls: readonly PlannedCall[];
  /** What the stage waits for, decides or records, in words (soak end, approvers, ledger). */
  readonly notes: readonly string[];
}

export interface PlanInput {
  readonly plan: RunPlan;
  readonly keyring: KeyRingConfig;
  readonly ledger: Ledger | undefined;
  readonly stages: readonly StageCatalogEntry[];
  readonly live: LiveFacts;
  readonly now: Date;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NEW_KEY = '(the new key)';

const call = (sign: ChangeSign, operation: string, target: string, values: Array<[string, string]> = []): PlannedCall => ({ sign, operation, target, values });

/** The sha256 of the key policy document CreateKey sends (the same one the stacks declare). */
export function policyDigest(keyring: KeyRingConfig): { sha256: string; statements: string[] } {
  const doc = buildKeyPolicy(keyring);
  return { sha256: createHash('sha256').update(renderKeyPolicy(doc)).digest('hex'), statements: doc.Statement.map((s) => s.Sid ?? '(no Sid)') };
}

/** When the soak ends at the earliest (the switch happens in the first advance) and when the old key could be gone. */
export function planDates(plan: RunPlan, now: Date): { soakEnds?: Date; earliestUnrecoverable: Date } {
  const soaks = plan.stages.includes('soak');
  const soakEnds = soaks ? new Date(now.getTime() + plan.minimumSoakHours * HOUR) : undefined;
  const deletionScheduled = soakEnds ?? now;
  return { ...(soakEnds ? { soakEnds } : {}), earliestUnrecoverable: new Date(deletionScheduled.getTime() + plan.deletionWindowDays * DAY) };
}

export function planStages(input: PlanInput): PlannedStage[] {
  const { plan, keyring, ledger, live, now } = input;
  const active = ledger?.generations.find((g) => g.state === 'active');
  const reusesActive = plan.kind === 'migrate-to-cmk' && active !== undefined;
  const newKey = reusesActive ? active!.keyArn : NEW_KEY;
  const generation = ledger ? nextGenerationNumber(ledger) : 1;
  const ic = keyring.identityCenter;
  const icNow = identityCenterKeyWords(live);
  const aliasNow = live.source === 'live' ? (live.aliasTarget ?? 'no alias yet') : `unknown (${live.reason})`;
  const dates = planDates(plan, now);
  const iso = (d: Date): string => d.toISOString();

  const stageCalls = (name: string): { calls: PlannedCall[]; notes: string[]; confirmation?: string } => {
    switch (name) {
      case 'preflight': {
        const calls = [call('<=', 'sts:GetCallerIdentity', 'the credentials', [['expect account', plan.account]])];
        if (plan.kind === 'cancel-deletion') return { calls: [...calls, call('<=', 'kms:DescribeKey', plan.oldKeyArn ?? '?', [['expect', 'PendingDeletion, or Disabled with --enable']])], notes: [] };
        calls.push(call('<=', 'kms:DescribeKey', plan.alias, [['expect', plan.kind === 'migrate-to-cmk' ? 'no alias yet (or the active generation)' : (active?.keyArn ?? 'the adopted key')], ['now', aliasNow]]));
        if (ic) calls.push(call('<=', 'sso:DescribeInstance', ic.instanceArn, [['expect', 'ACTIVE and ENABLED'], ['key now', icNow]]));
        return { calls, notes: ['the key ring\'s lease: one open run per key ring'] };
      }
      case 'create-key': {
        if (reusesActive) return { calls: [], notes: [`reuses active generation ${active!.generation} (${active!.keyArn}); no key is created`] };
        const policy = policyDigest(keyring);
        const tags = createKeyTags(keyring, generation, '<run id>');
        return {
          calls: [
            call('+', 'kms:CreateKey', `${plan.alias} generation ${generation}`, [
              ['key spec', 'SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT'],
              ['description', keyring.description],
              ['policy sha256', policy.sha256],
              ['policy statements', policy.statements.join(', ')],
              ['tags', Object.entries(tags).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(', ')],
            ]),
            call('~', 'kms:EnableKeyRotation', NEW_KEY, [['rotation period', `${keyring.rotation.automaticRotationPeriodDays} days`]]),
          ],
          notes: [`ledger: + generation ${generation} (candidate)`],
        };
      }
      case 'verify-key':
        return { calls: [call('<=', 'kms:DescribeKey', newKey, [['expect', 'Enabled, SYMMETRIC_DEFAULT, CUSTOMER, same account and Region']]), call('<=', 'kms:GetKeyPolicy', newKey, [['expect', 'the Identity Center statements']]), call('<=', 'kms:Encrypt + kms:Decrypt', newKey, [['expect', 'a round trip with an encryption context']])], notes: [] };
      case 'promote-alias': {
        if (reusesActive) return { calls: [], notes: [`alias ${plan.alias} already points to generation ${active!.generation}`] };
        const calls = plan.oldKeyArn
          ? [call('~', 'kms:UpdateAlias', plan.alias, [['from', plan.oldKeyArn], ['to', newKey]])]
          : [call('+', 'kms:CreateAlias', plan.alias, [['to', newKey]])];
        return { calls, notes: [`ledger: ${newKey} → active${plan.oldKeyArn ? `, ${plan.oldKeyArn} → retiring` : ''}`] };
      }
      case 'switch-identity-center': {
        if (!ic) return { calls: [], notes: ['skipped: the key ring is not attached to Identity Center'] };
        const to = plan.kind === 'migrate-to-aws-owned' ? 'an AWS owned key' : newKey;
        return {
          calls: [call('~', 'sso:UpdateInstance', ic.instanceArn, [['from', icNow], ['to', to]]), call('<=', 'sso:DescribeInstance', ic.instanceArn, [['until', plan.kind === 'migrate-to-aws-owned' ? 'ENABLED (backoff)' : 'ENABLED (backoff; UPDATE_FAILED moves the alias back)']])],
          notes: [],
          confirmation: `asks for confirmation (or --yes): Identity Center ${icNow} → ${to}`,
        };
      }
      case 'integration-checks': {
        const calls = [call('<=', 'kms:Encrypt + kms:Decrypt', plan.alias, [['expect', plan.kind === 'migrate-to-aws-owned' ? 'the alias still works' : `lands on ${newKey}`]])];
        if (ic) {
          calls.push(call('<=', 'sso:DescribeInstance', ic.instanceArn, [['expect', plan.kind === 'migrate-to-aws-owned' ? 'an AWS owned key' : newKey]]));
          calls.push(call('<=', 'identitystore:ListUsers', ic.identityStoreArn, [['expect', 'a read succeeds']]));
        }
        const notes = keyring.checks.map((c) => `check "${c.name}": ${c.command.join(' ')} (timeout ${c.timeoutSeconds} s)`);
        return { calls, notes: [...notes, 'the results and the old key\'s last use become the evidence approvers sign'] };
      }
      case 'soak': {
        const calls = plan.disableOldKeyDuringSoak && plan.oldKeyArn ? [call('-', 'kms:DisableKey', plan.oldKeyArn, [['why', 'surface hidden consumers (reversible: rollback re-enables it)']])] : [];
        return { calls, notes: [`soak ${plan.minimumSoakHours} h counted from the switch: ends ${dates.soakEnds ? `no earlier than ${iso(dates.soakEnds)}` : 'at once'}`] };
      }
      case 'approval-gate': {
        const bar = plan.approvals;
        if (!bar) return { calls: [], notes: ['no approval bar recorded'] };
        return {
          calls: [],
          notes: [
            `${bar.quorum} approval${bar.quorum === 1 ? '' : 's'} from distinct people, never the initiator, each valid up to ${bar.lifetimeHours} h`,
            `who may approve (${bar.allowedSignersFile}, sha256 ${bar.allowedSignersSha256}): ${signerPrincipals(bar.allowedSigners).join(', ') || 'nobody'}`,
          ],
        };
      }
      case 'schedule-deletion':
        return {
          calls: plan.oldKeyArn ? [call('-', 'kms:ScheduleKeyDeletion', plan.oldKeyArn, [['pending window', `${plan.deletionWindowDays} days`], ['unrecoverable', `no earlier than ${iso(dates.earliestUnrecoverable)}`]])] : [],
          notes: ['runs only by `rotate delete RUN` (asks for confirmation, or --yes), after re-checking nothing uses the key', `until then \`rotate cancel-deletion ${keyring.name} --key ${plan.oldKeyArn ?? 'ARN'}\` recovers it`],
        };
      case 'retire-alias':
        return { calls: [call('-', 'kms:DeleteAlias', plan.alias, [['was', plan.oldKeyArn ?? aliasNow]])], notes: ['ledger: the old key → retiring'] };
      case 'adopt-key':
        return { calls: [call('<=', 'kms:DescribeKey', plan.alias, [['now', aliasNow]]), call('<=', 'kms:ListResourceTags', live.source === 'live' && live.aliasTarget ? live.aliasTarget : '(the alias\'s key)')], notes: ['ledger: + generation 1 (active), imported by the stacks on their next apply'] };
      case 'cancel-key-deletion': {
        const calls = [call('~', 'kms:CancelKeyDeletion', plan.oldKeyArn ?? '?', [['then', 'Disabled (AWS leaves a cancelled key disabled)']])];
        if (plan.enableAfterCancel) calls.push(call('~', 'kms:EnableKey', plan.oldKeyArn ?? '?'));
        return { calls, notes: [`ledger: the key → ${plan.enableAfterCancel ? 'retiring' : 'disabled'}`] };
      }
      case 'collect-evidence':
        return { calls: [call('<=', 'kms:DescribeKey', plan.oldKeyArn ?? '?'), call('<=', 'kms:GetKeyLastUsage', plan.oldKeyArn ?? '?')], notes: ['recorded as the evidence approvers sign'] };
      default:
        return { calls: [], notes: [] };
    }
  };

  return input.stages.map((entry) => {
    const { calls, notes, confirmation } = stageCalls(entry.name);
    return { name: entry.name, description: entry.description, undoable: entry.undoable, calls, notes, ...(confirmation ? { confirmation } : {}) };
  });
}

/** The AWS mutations a plan promises, in order (`+`, `~`, `-`), e.g. to hold against a call log. */
export function plannedMutations(stages: readonly PlannedStage[]): string[] {
  return stages.flatMap((s) => s.calls.filter((c) => c.sign !== '<=').map((c) => c.operation));
}
