/**
 * The reads stages share: what a key is, where the alias points, what Identity Center uses, and a
 * backoff poll for the asynchronous Identity Center switch. Every call goes through `callAws`, so
 * failures come back as typed errors naming the operation and the resource. (Waiting for the
 * asynchronous Identity Center switch lives in pipeline/identity-center.)
 */
import { DescribeKeyCommand, GetKeyLastUsageCommand, ListKeysCommand, ListResourceTagsCommand, type KeyMetadata } from '@aws-sdk/client-kms';
import { RUN_ID_TAG } from '../key-tags';
import { DescribeInstanceCommand, type DescribeInstanceCommandOutput } from '@aws-sdk/client-sso-admin';
import { callAws } from '../aws/call';
import { mapAwsError } from '../aws/map-error';
import type { AwsClients } from '../aws/clients';
import { AwsCallError } from '../errors';
import type { StageContext } from '../engine/types';

export async function describeKey(ctx: Pick<StageContext, 'clients'>, keyId: string): Promise<KeyMetadata> {
  const out = await callAws('kms:DescribeKey', { target: keyId }, () => ctx.clients.kms.send(new DescribeKeyCommand({ KeyId: keyId })));
  return out.KeyMetadata!;
}

/** The key ARN the alias points to, or undefined when the alias does not exist. */
export async function aliasTarget(ctx: Pick<StageContext, 'clients'>, alias: string): Promise<string | undefined> {
  try {
    const out = await ctx.clients.kms.send(new DescribeKeyCommand({ KeyId: alias }));
    return out.KeyMetadata?.Arn;
  } catch (error) {
    if ((error as { name?: string }).name === 'NotFoundException') return undefined;
    throw mapAwsError(error, { operation: 'kms:DescribeKey', target: alias });
  }
}

export type InstanceEncryption = {
  readonly status: string | undefined;
  readonly encryptionStatus: string | undefined;
  readonly keyType: string | undefined;
  readonly kmsKeyArn: string | undefined;
  readonly reason: string | undefined;
};

export async function describeInstanceEncryption(ctx: Pick<StageContext, 'clients'>, instanceArn: string): Promise<InstanceEncryption> {
  const out: DescribeInstanceCommandOutput = await callAws('sso:DescribeInstance', { target: instanceArn }, () =>
    ctx.clients.ssoAdmin.send(new DescribeInstanceCommand({ InstanceArn: instanceArn })),
  );
  const details = out.EncryptionConfigurationDetails;
  return {
    status: out.Status,
    encryptionStatus: details?.EncryptionStatus,
    keyType: details?.KeyType,
    kmsKeyArn: details?.KmsKeyArn,
    reason: details?.EncryptionStatusReason,
  };
}

export function isAliasArn(arn: string): boolean {
  return /^arn:aws[a-z-]*:kms:[^:]+:\d{12}:alias\//.test(arn);
}

/**
 * The key's last recorded cryptographic use (GetKeyLastUsage), as plain JSON for evidence; when the
 * call fails the reason is recorded instead, so approvers see that it is unknown.
 */
export async function keyLastUsage(ctx: StageContext, keyArn: string): Promise<Record<string, unknown>> {
  try {
    const out = await ctx.clients.kms.send(new GetKeyLastUsageCommand({ KeyId: keyArn }));
    return JSON.parse(JSON.stringify(out, (k, v) => (k === '$metadata' ? undefined : v))) as Record<string, unknown>;
  } catch (error) {
    return { unavailable: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Every key of the credentials' account in the clients' Region with its tags, one at a time
 * (ListKeys, then ListResourceTags per key, both paged — KMS has no server-side tag filter for
 * keys). A key deleted between the two calls is skipped; one whose tags these credentials may not
 * read (another team's key policy) comes back without tags; any other error stops the listing.
 */
export async function* keysWithTags(clients: Pick<AwsClients, 'kms'>): AsyncGenerator<{ readonly keyArn: string; readonly tags: Readonly<Record<string, string>> } | { readonly keyArn: string; readonly unreadable: true }> {
  let marker: string | undefined;
  do {
    const page = await callAws('kms:ListKeys', { service: 'kms' }, () => clients.kms.send(new ListKeysCommand({ Marker: marker, Limit: 1000 })));
    for (const entry of page.Keys ?? []) {
      if (!entry.KeyArn) continue;
      const keyArn = entry.KeyArn;
      const tags: Record<string, string> = {};
      let tagMarker: string | undefined;
      try {
        do {
          const out = await callAws('kms:ListResourceTags', { target: keyArn, service: 'kms' }, () => clients.kms.send(new ListResourceTagsCommand({ KeyId: keyArn, Marker: tagMarker })));
          for (const t of out.Tags ?? []) if (t.TagKey) tags[t.TagKey] = t.TagValue ?? '';
          tagMarker = out.Truncated ? out.NextMarker : undefined;
        } while (tagMarker);
      } catch (error) {
        if (error instanceof AwsCallError && error.awsCode === 'AccessDeniedException') yield { keyArn, unreadable: true };
        else if (!(error instanceof AwsCallError && error.awsCode === 'NotFoundException')) throw error;
        continue;
      }
      yield { keyArn, tags };
    }
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker);
}

/**
 * The key a run created, found by its `keyrotor:run-id` tag (a crash may have lost its ARN). Keys
 * whose tags this caller may not read (another team's key policy) or that vanish meanwhile are
 * passed over: the run's own key was tagged by this pipeline role, whose key policy lets it read them.
 */
export async function findKeyByRunTag(ctx: StageContext, runId: string): Promise<string | undefined> {
  for await (const key of keysWithTags(ctx.clients)) {
    if ('tags' in key && key.tags[RUN_ID_TAG] === runId) return key.keyArn;
  }
  return undefined;
}

/** The key id at the end of a key ARN (`…:key/<id>`). */
export function keyIdOf(keyArn: string): string {
  return keyArn.slice(keyArn.lastIndexOf('/') + 1);
}
