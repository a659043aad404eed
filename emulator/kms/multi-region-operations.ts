import type { OperationTable } from '../operation';
import { member } from '../operation';
import { AwsServiceError, requireString } from '../service-error';
import { keyById, parseDescription, parseTags } from './inputs';
import type { KeyStore, KmsKey } from './key-store';
import type { PolicyCheck } from './policy-check';
import { assertNotInTransition, assertNotPendingDeletion, keyMetadata } from './rules';

// ReplicateKey / UpdatePrimaryRegion API references: a Region ID such as us-east-1 or ap-southeast-2.
const REGION = /^([a-z]+-){2,3}\d+$/;

function regionMember(input: Record<string, unknown>, name: 'ReplicaRegion' | 'PrimaryRegion'): string {
  const region = requireString(input, name);
  if (!REGION.test(region)) throw new AwsServiceError('ValidationException', `${name} ${region} is not an AWS Region ID such as us-east-1.`);
  return region;
}

/** The key must be a multi-Region primary: only a primary can be replicated or hand over its role. */
function assertPrimary(key: KmsKey, operation: string): NonNullable<KmsKey['set']> {
  if (!key.set) throw new AwsServiceError('UnsupportedOperationException', `${key.arn} is not a multi-Region key; ${operation} needs a multi-Region primary key (CreateKey with MultiRegion).`);
  if (key.set.typeOf(key) !== 'PRIMARY') {
    throw new AwsServiceError('UnsupportedOperationException', `${key.arn} is a multi-Region replica key; call ${operation} on its primary key in ${key.set.primaryRegion}.`);
  }
  return key.set;
}

/** UpdatePrimaryRegion: both keys must be Enabled when it starts (KMS developer guide, "Updating the primary Region"). */
function assertEnabled(key: KmsKey): void {
  if (key.state === 'Disabled') throw new AwsServiceError('DisabledException', `${key.arn} is disabled.`);
  if (key.state !== 'Enabled') throw new AwsServiceError('KMSInvalidStateException', `${key.arn} is ${key.state}; UpdatePrimaryRegion needs both keys Enabled.`);
}

/**
 * ReplicateKey and UpdatePrimaryRegion. `transitionMs` is how long (real time) a new replica stays
 * Creating, and the two keys of an UpdatePrimaryRegion stay Updating — AWS's "a few seconds".
 */
export function multiRegionOperations(store: KeyStore, policies: PolicyCheck, transitionMs: number): OperationTable {
  return {
    // ReplicateKey API reference: called in the primary key's Region; the replica gets the same key
    // id and key material, its own policy (default policy when absent), description and tags; one
    // replica per Region (AlreadyExistsException); a replica is Creating for a few seconds. Its quota
    // is CreateKey's in the replica Region (QuotaLimiter, via `quotaScopes`).
    ReplicateKey: {
      mutating: true,
      target: (input, output) => (output as { ReplicaKeyMetadata?: { Arn?: string } } | undefined)?.ReplicaKeyMetadata?.Arn ?? member('KeyId')(input),
      quotaScopes: (input, caller) => [{ operation: 'CreateKey', region: typeof input.ReplicaRegion === 'string' ? input.ReplicaRegion : caller.region }],
      handle: (input, ctx) => {
        const primary = keyById(store, input, ctx, 'ReplicateKey');
        const region = regionMember(input, 'ReplicaRegion');
        const set = assertPrimary(primary, 'ReplicateKey');
        assertNotPendingDeletion(primary);
        assertNotInTransition(primary);
        if (region === primary.region) {
          throw new AwsServiceError('ValidationException', `ReplicaRegion ${region} is the primary key's own Region; a replica must be in another Region.`);
        }
        const existing = set.inRegion(region);
        if (existing) throw new AwsServiceError('AlreadyExistsException', `${primary.arn} already has a replica in ${region}: ${existing.arn} (${existing.state}).`);
        const replica = store.replicate(
          primary,
          region,
          { description: parseDescription(input), policy: policies.forNewKey(input, ctx, 'ReplicateKey'), tags: parseTags(input.Tags) },
          Date.now() + transitionMs,
        );
        return {
          ReplicaKeyMetadata: keyMetadata(replica),
          ReplicaPolicy: replica.policy,
          ReplicaTags: [...replica.tags].map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
        };
      },
    },

    // UpdatePrimaryRegion API reference: KeyId names the current primary; the replica in
    // PrimaryRegion becomes the primary and the old primary a replica; both are Updating for a few
    // seconds (usable for cryptography, not for Enable/Disable, deletion or replication).
    UpdatePrimaryRegion: {
      mutating: true,
      target: member('KeyId'),
      handle: (input, ctx) => {
        const primary = keyById(store, input, ctx, 'UpdatePrimaryRegion');
        const region = regionMember(input, 'PrimaryRegion');
        const set = assertPrimary(primary, 'UpdatePrimaryRegion');
        if (region === primary.region) throw new AwsServiceError('ValidationException', `${primary.arn} is already the primary key; PrimaryRegion ${region} is its own Region.`);
        const replica = set.inRegion(region);
        if (!replica) throw new AwsServiceError('NotFoundException', `${primary.arn} has no replica in ${region}; create one with ReplicateKey first.`);
        assertEnabled(primary);
        assertEnabled(replica);
        set.primaryRegion = region;
        const untilMs = Date.now() + transitionMs;
        for (const key of [primary, replica]) {
          key.state = 'Updating';
          key.transition = { untilMs, then: 'Enabled' };
        }
        return {};
      },
    },
  };
}
