/**
 * The reads stages share: what a key is, where the alias points, what Identity Center uses, and a
 * backoff poll for the asynchronous Identity Center switch. Every call goes through `callAws`, so
 * failures come back as typed errors naming the operation and the resource. (Waiting for the
 * asynchronous Identity Center switch lives in pipeline/identity-center.)
 */
import { DescribeKeyCommand, GetKeyLastUsageCommand, ListKeysCommand, ListResourceTagsCommand, type KeyMetadata, type ListResourceTagsCommandOutput } from '@aws-sdk/client-kms';
import { RUN_ID_TAG } from '../key-tags';
import { DescribeInstanceCommand, type DescribeInstanceCommandOutput } from '@aws-sdk/client-sso-admin';
import { callAws } from '../aws/call';
import { mapAwsError } from '../aws/map-error';
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
 * The key a run created, found by its `keyrotor:run-id` tag (a crash may have lost its ARN). A real
 * account holds keys this caller may not read the tags of (another team's key policy) and keys
 * deleted between the listing and the read: those are skipped, since the run's own key was tagged
 * by this pipeline role, whose key policy lets it read them. Any other error stops the search.
 */
export async function findKeyByRunTag(ctx: StageContext, runId: string): Promise<string | undefined> {
  const { kms } = ctx.clients;
  let marker: string | undefined;
  do {
    const page = await callAws('kms:ListKeys', {}, () => kms.send(new ListKeysCommand({ Marker: marker, Limit: 1000 })));
    for (const key of page.Keys ?? []) {
      let tagMarker: string | undefined;
      do {
        let tags: ListResourceTagsCommandOutput;
        try {
          tags = await callAws('kms:ListResourceTags', { target: key.KeyArn }, () => kms.send(new ListResourceTagsCommand({ KeyId: key.KeyId, Marker: tagMarker })));
        } catch (error) {
          if (error instanceof AwsCallError && (error.awsCode === 'AccessDeniedException' || error.awsCode === 'NotFoundException')) break;
          throw error;
        }
        if (tags.Tags?.some((t) => t.TagKey === RUN_ID_TAG && t.TagValue === runId)) return key.KeyArn;
        tagMarker = tags.Truncated ? tags.NextMarker : undefined;
      } while (tagMarker);
    }
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker);
  return undefined;
}

/** The key id at the end of a key ARN (`…:key/<id>`). */
export function keyIdOf(keyArn: string): string {
  return keyArn.slice(keyArn.lastIndexOf('/') + 1);
}
