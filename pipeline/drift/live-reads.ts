/**
 * The reads `rotate drift` makes, through the pipeline's SDK clients (rate limits, retries, typed
 * errors). Read-only: no call here changes AWS.
 */
import {
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  type KeyMetadata,
} from '@aws-sdk/client-kms';
import { callAws } from '../aws/call';
import type { AwsClients } from '../aws/clients';
import { AwsCallError } from '../errors';

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

/**
 * Every key of the credentials' account in the clients' Region with its tags (ListKeys, then
 * ListResourceTags per key — KMS has no server-side tag filter for keys). Keys deleted between
 * the two calls are skipped; keys whose tags may not be read are listed as unreadable.
 */
export async function listKeysWithTags(clients: Clients): Promise<KeyListing> {
  const keys: TaggedKey[] = [];
  const unreadable: string[] = [];
  let marker: string | undefined;
  do {
    const page = await callAws('kms:ListKeys', { service: 'kms' }, () => clients.kms.send(new ListKeysCommand({ Marker: marker, Limit: 1000 })));
    for (const entry of page.Keys ?? []) {
      if (!entry.KeyArn) continue;
      try {
        const tags: Record<string, string> = {};
        let tagMarker: string | undefined;
        do {
          const out = await callAws('kms:ListResourceTags', { target: entry.KeyArn, service: 'kms' }, () =>
            clients.kms.send(new ListResourceTagsCommand({ KeyId: entry.KeyArn, Marker: tagMarker })),
          );
          for (const t of out.Tags ?? []) if (t.TagKey) tags[t.TagKey] = t.TagValue ?? '';
          tagMarker = out.Truncated ? out.NextMarker : undefined;
        } while (tagMarker);
        keys.push({ keyArn: entry.KeyArn, tags });
      } catch (error) {
        if (error instanceof AwsCallError && error.awsCode === 'AccessDeniedException') unreadable.push(entry.KeyArn);
        else if (!isNotFound(error)) throw error;
      }
    }
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker);
  return { keys, unreadable };
}
