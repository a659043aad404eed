/**
 * The reads `rotate drift` makes, through the pipeline's SDK clients (rate limits, retries, typed
 * errors). Read-only: no call here changes AWS.
 */
import {
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  type KeyMetadata,
} from '@aws-sdk/client-kms';
import { callAws } from '../aws/call';
import type { AwsClients } from '../aws/clients';
import { AwsCallError } from '../errors';
import { keysWithTags } from '../stages/aws-reads';

type Clients = Pick<AwsClients, 'kms'>;

function isNotFound(error: unknown): boolean {
  return error instanceof AwsCallError && error.awsCode === 'NotFoundException';
}

/** DescribeKey, or undefined when KMS has no such key (deleted). */
export async function describeKeyIfExists(clients: Clients, keyArn: string): Promise<KeyMetadata | undefined> {
  try {
    const out = await callAws('kms:DescribeKey', { target: keyArn, service: 'kms' }, () => clients.kms.send(new DescribeKeyCommand({ KeyId: keyArn })));
    return out.KeyMetadata;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** The key's policy as JSON text. */
export async function keyPolicy(clients: Clients, keyArn: string): Promise<string> {
  const out = await callAws('kms:GetKeyPolicy', { target: keyArn, service: 'kms' }, () => clients.kms.send(new GetKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default' })));
  return out.Policy ?? '';
}

export interface RotationStatus {
  readonly enabled: boolean;
  readonly periodDays: number | undefined;
}

export async function rotationStatus(clients: Clients, keyArn: string): Promise<RotationStatus> {
  const out = await callAws('kms:GetKeyRotationStatus', { target: keyArn, service: 'kms' }, () => clients.kms.send(new GetKeyRotationStatusCommand({ KeyId: keyArn })));
  return { enabled: out.KeyRotationEnabled === true, periodDays: out.RotationPeriodInDays };
}

export interface TaggedKey {
  readonly keyArn: string;
  readonly tags: Readonly<Record<string, string>>;
}

export interface KeyListing {
  readonly keys: readonly TaggedKey[];
  /** Keys whose tags the credentials may not read (their key policy does not allow it). */
  readonly unreadable: readonly string[];
}

/** keysWithTags (stages/aws-reads.ts), collected: the keys with their tags, and the keys whose tags may not be read. */
export async function listKeysWithTags(clients: Clients): Promise<KeyListing> {
  const keys: TaggedKey[] = [];
  const unreadable: string[] = [];
  for await (const key of keysWithTags(clients)) {
    if ('tags' in key) keys.push(key);
    else unreadable.push(key.keyArn);
  }
  return { keys, unreadable };
}
