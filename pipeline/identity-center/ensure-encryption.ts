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

type DesiredEncryption = IdentityCenterTarget;

/** The SSO Admin client (or anything with its `send`). */
export interface IdentityCenterClients {
  readonly ssoAdmin: Pick<SSOAdminClient, 'send'>;
}

export interface EnsureEncryptionOptions {
  /** Give up waiting for ENABLED after this long. Default 15 minutes. */
  readonly timeoutMs?: number;
  /** First poll delay; doubles each poll. Default 1 s. */
  readonly initialDelayMs?: number;
  /** Poll delay cap. Default 20 s. */
  readonly maxDelayMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
  /** Progress lines (the CLI prints them to stderr). */
  readonly log?: (line: string) => void;
  /** Sends the UpdateInstance; default `clients.ssoAdmin.send`. The pipeline records it as a mutation. */
  readonly update?: (input: UpdateInstanceCommandInput) => Promise<unknown>;
}

export interface EnsureEncryptionResult {
  /** False when the instance already was in the desired state: no UpdateInstance was sent. */
  readonly changed: boolean;
  readonly polls: number;
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
 * EncryptionConfiguration only), then DescribeInstance with exponential backoff until ENABLED on
 * the desired key, failing with EncryptionStatusReason on UPDATE_FAILED, or on timeout.
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
  const deadline = now() + (options.timeoutMs ?? 15 * 60_000);
  const maxDelay = options.maxDelayMs ?? 20_000;
  let delay = options.initialDelayMs ?? 1_000;
  let updateSent = false;
  let polls = 0;

  for (;;) {
    const response = await clients.ssoAdmin.send(new DescribeInstanceCommand({ InstanceArn: instanceArn }));
    polls += 1;
    const details: Details = response.EncryptionConfigurationDetails ?? {};
    const status = details.EncryptionStatus;

    if (status === 'ENABLED' && isDesired(details, desired)) {
      log(updateSent ? `ENABLED on ${describeTarget(desired)}` : `already ENABLED on ${describeTarget(desired)}; nothing to do`);
      return { changed: updateSent, polls };
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
    } else {
      log(`status ${status ?? 'unknown'}; waiting`);
    }

    if (now() + delay > deadline) {
      throw new IdentityCenterEncryptionError(instanceArn, `not ENABLED on ${describeTarget(desired)} within the timeout (last status ${status ?? 'unknown'})`, {
        fault: 'aws',
        retryable: true,
        nextStep: 'check the instance with `aws sso-admin describe-instance`, then apply again (the helper resumes without a second update if the switch is under way)',
      });
    }
    await sleep(delay);
    delay = Math.min(delay * 2, maxDelay);
  }
}
