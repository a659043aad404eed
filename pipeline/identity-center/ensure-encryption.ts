/**
 * Driving Identity Center's encryption to a target, idempotently. Shared by the pipeline's switch
 * stage (which routes UpdateInstance through its recorded mutations) and the helper the
 * IdentityCenterEncryption construct runs at `terraform apply`.
 */
import {
  DescribeInstanceCommand,
  UpdateInstanceCommand,
  type DescribeInstanceCommandOutput,
  type SSOAdminClient,
  type UpdateInstanceCommandInput,
} from '@aws-sdk/client-sso-admin';
import type { IdentityCenterTarget } from '../ledger/types';
import { IdentityCenterEncryptionError } from './errors';
import { nextPollDelayMs, resolvePollSchedule, type PollSchedule } from './poll-schedule';

type DesiredEncryption = IdentityCenterTarget;

/** The SSO Admin client (or anything with its `send`). */
export interface IdentityCenterClients {
  readonly ssoAdmin: Pick<SSOAdminClient, 'send'>;
}

/** How long the driver waits for ENABLED by default (the helper's --timeout-seconds default too). */
export const DEFAULT_SWITCH_TIMEOUT_MS = 15 * 60_000;

export interface EnsureEncryptionOptions {
  /** Give up waiting for ENABLED after this long. Default DEFAULT_SWITCH_TIMEOUT_MS (15 minutes). */
  readonly timeoutMs?: number;
  /**
   * Overrides of the poll schedule (tests, the demo); unset fields keep the defaults of
   * poll-schedule.ts, which are the only defaults.
   */
  readonly schedule?: Partial<PollSchedule>;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
  /** The schedule's jitter source, in [0, 1). Default Math.random. */
  readonly random?: () => number;
  /** Progress lines (the CLI prints them to stderr). */
  readonly log?: (line: string) => void;
  /** Sends the UpdateInstance; default `clients.ssoAdmin.send`. The pipeline records it as a mutation. */
  readonly update?: (input: UpdateInstanceCommandInput) => Promise<unknown>;
}

export interface EnsureEncryptionResult {
  /** False when the instance already was in the desired state: no UpdateInstance was sent. */
  readonly changed: boolean;
  /** DescribeInstance calls made, the read before any UpdateInstance included. */
  readonly polls: number;
  /** How long the driver waited for the switch (from the UpdateInstance's answer, or from first seeing UPDATING); 0 when it did not wait. */
  readonly waitedMs: number;
}

type Details = NonNullable<DescribeInstanceCommandOutput['EncryptionConfigurationDetails']>;

function isDesired(details: Details, desired: DesiredEncryption): boolean {
  if (details.KeyType !== desired.keyType) return false;
  return desired.keyType === 'AWS_OWNED_KMS_KEY' || details.KmsKeyArn === desired.kmsKeyArn;
}

function describeTarget(desired: DesiredEncryption): string {
  return desired.keyType === 'AWS_OWNED_KMS_KEY' ? 'an AWS owned key' : desired.kmsKeyArn;
}

/**
 * Brings the instance's encryption to `desired`, idempotently: already ENABLED on the desired key
 * → no call; a switch already UPDATING → wait for it; otherwise one UpdateInstance (with
 * EncryptionConfiguration only), then DescribeInstance on the shared poll schedule
 * (poll-schedule.ts) until ENABLED on the desired key, failing with EncryptionStatusReason on
 * UPDATE_FAILED, or on timeout.
 */
export async function ensureIdentityCenterEncryption(
  clients: IdentityCenterClients,
  instanceArn: string,
  desired: DesiredEncryption,
  options: EnsureEncryptionOptions = {},
): Promise<EnsureEncryptionResult> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => undefined);
  const random = options.random ?? Math.random;
  const schedule = resolvePollSchedule(options.schedule);
  const timeoutMs = options.timeoutMs ?? DEFAULT_SWITCH_TIMEOUT_MS;
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw new IdentityCenterEncryptionError(instanceArn, `the wait timeout ${timeoutMs} ms is not a positive number`, {
      fault: 'operator',
      nextStep: 'pass a positive timeout (the helper\'s --timeout-seconds, or EngineOptions.poll.timeoutMs)',
    });
  }
  const deadline = now() + timeoutMs;
  let updateSent = false;
  let polls = 0;
  // The schedule counts from when the switch is known to be under way: after UpdateInstance
  // answered, or when UPDATING was first seen. Either is no earlier than the switch's real start,
  // so the delays are never longer than the schedule allows.
  let waitStartedAt: number | undefined;
  let lastStatus: string | undefined;

  for (;;) {
    const response = await clients.ssoAdmin.send(new DescribeInstanceCommand({ InstanceArn: instanceArn }));
    polls += 1;
    const details: Details = response.EncryptionConfigurationDetails ?? {};
    const status = details.EncryptionStatus;

    if (status === 'ENABLED' && isDesired(details, desired)) {
      const waitedMs = waitStartedAt === undefined ? 0 : now() - waitStartedAt;
      if (updateSent) log(`ENABLED on ${describeTarget(desired)} after ${(waitedMs / 1000).toFixed(1)} s (${polls} DescribeInstance calls)`);
      else log(waitStartedAt === undefined ? `already ENABLED on ${describeTarget(desired)}; nothing to do` : `ENABLED on ${describeTarget(desired)} (a switch already under way)`);
      return { changed: updateSent, polls, waitedMs };
    }
    if (status === 'UPDATE_FAILED' && updateSent) {
      const reason = details.EncryptionStatusReason ?? 'no reason given';
      throw new IdentityCenterEncryptionError(
        instanceArn,
        `switch to ${describeTarget(desired)} failed (UPDATE_FAILED): ${reason}`,
        { fault: 'operator', nextStep: 'fix the key (enabled? Identity Center statements in its policy? same account and Region?) and apply again; the instance keeps its previous key' },
        reason,
      );
    }
    if (status !== 'UPDATING' && !updateSent) {
      log(`switching from ${details.KeyType ?? 'unknown'} ${details.KmsKeyArn ?? ''} (${status ?? 'no status'}) to ${describeTarget(desired)}`.replace(/\s+/g, ' '));
      const input: UpdateInstanceCommandInput = {
        InstanceArn: instanceArn,
        EncryptionConfiguration: desired.keyType === 'AWS_OWNED_KMS_KEY' ? { KeyType: desired.keyType } : { KeyType: desired.keyType, KmsKeyArn: desired.kmsKeyArn },
      };
      await (options.update ? options.update(input) : clients.ssoAdmin.send(new UpdateInstanceCommand(input)));
      updateSent = true;
    } else if (status !== lastStatus) {
      // Once per status, not once per poll: the schedule polls often early on.
      log(`status ${status ?? 'unknown'}; waiting`);
    }
    lastStatus = status;

    waitStartedAt ??= now();
    const delay = nextPollDelayMs(now() - waitStartedAt, schedule, random);
    if (now() + delay > deadline) {
      throw new IdentityCenterEncryptionError(instanceArn, `not ENABLED on ${describeTarget(desired)} within the timeout (last status ${status ?? 'unknown'})`, {
        fault: 'aws',
        retryable: true,
        nextStep: 'check the instance with `aws sso-admin describe-instance`, then apply again (the helper resumes without a second update if the switch is under way)',
      });
    }
    await sleep(delay);
  }
}
