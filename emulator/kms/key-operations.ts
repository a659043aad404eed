import { member, type OperationContext, type OperationDefinition, type OperationTable } from '../operation';
import { AwsServiceError, constraintError, optionalString, requireString } from '../service-error';
import { keyById, paginate, parseDescription, parseTags } from './inputs';
import type { KeyStore, KmsKey } from './key-store';
import type { PolicyCheck } from './policy-check';
import { KEY_SPECS, KEY_USAGES, assertNotInTransition, assertNotPendingDeletion, epochSeconds, keyMetadata } from './rules';

type Input = Record<string, unknown>;

/** Key creation and description, enablement, policy, tag and usage operations of KMS (TrentService). */
export function keyOperations(store: KeyStore, policies: PolicyCheck): OperationTable {
  const byId = (operation: string) => (input: Input, ctx: OperationContext): KmsKey => keyById(store, input, ctx, operation);

  const switchState = (operation: 'EnableKey' | 'DisableKey', state: 'Enabled' | 'Disabled'): OperationDefinition => ({
    mutating: true,
    target: member('KeyId'),
    handle: (input, ctx) => {
      const key = byId(operation)(input, ctx);
      assertNotPendingDeletion(key);
      assertNotInTransition(key);
      key.state = state;
      return {};
    },
  });

  return {
    // CreateKey API reference: Policy (≤32 KB JSON, default policy otherwise), Description, KeySpec,
    // KeyUsage, Tags, MultiRegion; BypassPolicyLockoutSafetyCheck is accepted (AWS allows it) but logged.
    CreateKey: {
      mutating: true,
      target: (_input, output) => (output as { KeyMetadata?: { Arn?: string } } | undefined)?.KeyMetadata?.Arn,
      handle: (input, ctx) => {
        const keySpec = optionalString(input, 'KeySpec') ?? optionalString(input, 'CustomerMasterKeySpec') ?? 'SYMMETRIC_DEFAULT';
        const keyUsage = optionalString(input, 'KeyUsage') ?? 'ENCRYPT_DECRYPT';
        if (!KEY_SPECS.includes(keySpec)) throw constraintError('keySpec', keySpec, `Member must satisfy enum value set: [${KEY_SPECS.join(', ')}]`);
        if (!KEY_USAGES.includes(keyUsage)) throw constraintError('keyUsage', keyUsage, `Member must satisfy enum value set: [${KEY_USAGES.join(', ')}]`);
        if (keySpec === 'SYMMETRIC_DEFAULT' && keyUsage !== 'ENCRYPT_DECRYPT') {
          throw new AwsServiceError('ValidationException', `KeyUsage ${keyUsage} is not compatible with KeySpec SYMMETRIC_DEFAULT; use ENCRYPT_DECRYPT.`);
        }
        const description = parseDescription(input);
        const policy = policies.forNewKey(input, ctx, 'CreateKey');
        const key = store.create(ctx.caller, {
          keySpec, keyUsage, description, policy, multiRegion: input.MultiRegion === true, tags: parseTags(input.Tags),
        });
        return { KeyMetadata: keyMetadata(key) };
      },
    },

    // DescribeKey API reference: KeyId may be a key id, key ARN, alias name or alias ARN; any state.
    DescribeKey: {
      mutating: false,
      target: member('KeyId'),
      handle: (input, ctx) => ({ KeyMetadata: keyMetadata(store.resolve(ctx.caller, requireString(input, 'KeyId'), { allowAlias: true, operation: 'DescribeKey' })) }),
    },

    // ListKeys API reference: every key of the account and Region, Limit 1–1000 with Marker paging.
    ListKeys: {
      mutating: false,
      handle: (input, ctx) => {
        const page = paginate(store.list(ctx.caller), input);
        return { Keys: page.items.map((k) => ({ KeyId: k.keyId, KeyArn: k.arn })), ...page.next };
      },
    },

    // EnableKey / DisableKey API references: idempotent; KMSInvalidStateException when pending deletion.
    EnableKey: switchState('EnableKey', 'Enabled'),
    DisableKey: switchState('DisableKey', 'Disabled'),

    // GetKeyPolicy / PutKeyPolicy API references: the only policy name is "default".
    GetKeyPolicy: {
      mutating: false,
      target: member('KeyId'),
      handle: (input, ctx) => {
        const key = byId('GetKeyPolicy')(input, ctx);
        const name = optionalString(input, 'PolicyName') ?? 'default';
        if (name !== 'default') throw new AwsServiceError('NotFoundException', `Policy ${name} of key ${key.arn} does not exist; the only key policy name is "default".`);
        return { Policy: key.policy, PolicyName: 'default' };
      },
    },
    PutKeyPolicy: {
      mutating: true,
      target: member('KeyId'),
      handle: (input, ctx) => {
        const key = byId('PutKeyPolicy')(input, ctx);
        const name = optionalString(input, 'PolicyName') ?? 'default';
        if (name !== 'default') throw constraintError('policyName', name, 'Member must be "default"');
        key.policy = policies.forPut(input, ctx, key);
        return {};
      },
    },

    // TagResource / UntagResource / ListResourceTags API references: tag keys starting with
    // "aws:" are reserved (TagException); a key pending deletion cannot be tagged.
    TagResource: {
      mutating: true,
      target: member('KeyId'),
      handle: (input, ctx) => {
        const key = byId('TagResource')(input, ctx);
        assertNotPendingDeletion(key);
        for (const [k, v] of parseTags(input.Tags)) key.tags.set(k, v);
        return {};
      },
    },
    UntagResource: {
      mutating: true,
      target: member('KeyId'),
      handle: (input, ctx) => {
        const key = byId('UntagResource')(input, ctx);
        assertNotPendingDeletion(key);
        const keys = Array.isArray(input.TagKeys) ? (input.TagKeys as unknown[]) : [];
        for (const k of keys) key.tags.delete(String(k));
        return {};
      },
    },
    ListResourceTags: {
      mutating: false,
      target: member('KeyId'),
      handle: (input, ctx) => ({
        Tags: [...byId('ListResourceTags')(input, ctx).tags].map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
        Truncated: false,
      }),
    },

    // GetKeyLastUsage API reference: the last successful cryptographic operation and its time;
    // an empty KeyLastUsage when the key has not been used; tracking starts at creation.
    GetKeyLastUsage: {
      mutating: false,
      target: member('KeyId'),
      handle: (input, ctx) => {
        const key = byId('GetKeyLastUsage')(input, ctx);
        return {
          KeyId: key.keyId,
          KeyLastUsage: key.lastUsage
            ? { Operation: key.lastUsage.operation, Timestamp: epochSeconds(key.lastUsage.at), KmsRequestId: key.lastUsage.requestId }
            : {},
          TrackingStartDate: epochSeconds(key.creationDate),
          KeyCreationDate: epochSeconds(key.creationDate),
        };
      },
    },
  };
}
