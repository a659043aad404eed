import { member, type OperationContext, type OperationDefinition, type OperationTable } from '../operation';
import { AwsServiceError, constraintError, optionalInteger, optionalString, requireString } from '../service-error';
import type { KeyStore, KmsKey } from './key-store';
import {
  KEY_SPECS, KEY_USAGES, assertNotPendingDeletion, assertUsable, defaultKeyPolicy, epochSeconds, keyMetadata, validatePolicy,
} from './rules';

const DAY_MS = 86_400_000;

type Input = Record<string, unknown>;

/** Key lifecycle, policy, rotation, tag and usage operations of KMS (TrentService). */
export function keyOperations(store: KeyStore, log: (message: string) => void): OperationTable {
  const byId = (input: Input, ctx: OperationContext): KmsKey =>
    store.resolve(ctx.caller, requireString(input, 'KeyId'), { allowAlias: false });

  const switchState = (state: 'Enabled' | 'Disabled'): OperationDefinition => ({
    mutating: true,
    target: member('KeyId'),
    handle: (input, ctx) => {
      const key = byId(input, ctx);
      assertNotPendingDeletion(key);
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
        const description = optionalString(input, 'Description') ?? '';
        if (description.length > 8192) throw constraintError('description', '…', 'Member must have length less than or equal to 8192');
        const policy = optionalString(input, 'Policy') ?? defaultKeyPolicy(ctx.caller.account);
        validatePolicy(policy);
        if (input.BypassPolicyLockoutSafetyCheck === true) {
          log(`CreateKey by ${ctx.caller.arn} set BypassPolicyLockoutSafetyCheck=true`);
        }
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
      handle: (input, ctx) => ({ KeyMetadata: keyMetadata(store.resolve(ctx.caller, requireString(input, 'KeyId'), { allowAlias: true })) }),
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
    EnableKey: switchState('Enabled'),
    DisableKey: switchState('Disabled'),

    // ScheduleKeyDeletion API reference: PendingWindowInDays 7–30 (default 30) → PendingDeletion
    // with a DeletionDate; KMSInvalidStateException when the key is already pending deletion.
    ScheduleKeyDeletion: {
      mutating: true,
      target: member('KeyId'),
      handle: (input, ctx) => {
        const key = byId(input, ctx);
        const days = optionalInteger(input, 'PendingWindowInDays') ?? 30;
        if (days < 7) throw constraintError('pendingWindowInDays', days, 'Member must have value greater than or equal to 7');
        if (days > 30) throw constraintError('pendingWindowInDays', days, 'Member must have value less than or equal to 30');
        assertNotPendingDeletion(key);
        key.state = 'PendingDeletion';
        key.pendingWindowInDays = days;
        key.deletionDate = new Date(ctx.now().getTime() + days * DAY_MS);
        return { KeyId: key.arn, DeletionDate: epochSeconds(key.deletionDate), KeyState: key.state, PendingWindowInDays: days };
      },
    },

    // CancelKeyDeletion API reference: only from PendingDeletion; the key comes back Disabled.
    CancelKeyDeletion: {
      mutating: true,
      target: member('KeyId'),
      handle: (input, ctx) => {
        const key = byId(input, ctx);
        if (key.state !== 'PendingDeletion') throw new AwsServiceError('KMSInvalidStateException', `${key.arn} is not pending deletion.`);
        key.state = 'Disabled';
        key.deletionDate = undefined;
        key.pendingWindowInDays = undefined;
        return { KeyId: key.arn };
      },
    },

    // GetKeyPolicy / PutKeyPolicy API references: the only policy name is "default".
    GetKeyPolicy: {
      mutating: false,
      target: member('KeyId'),
      handle: (input, ctx) => {
        const key = byId(input, ctx);
        const name = optionalString(input, 'PolicyName') ?? 'default';
        if (name !== 'default') throw new AwsServiceError('NotFoundException', `Policy ${name} of key ${key.arn} does not exist; the only key policy name is "default".`);
        return { Policy: key.policy, PolicyName: 'default' };
      },
    },
    PutKeyPolicy: {
      mutating: true,
      target: member('KeyId'),
      handle: (input, ctx) => {
        const key = byId(input, ctx);
        const name = optionalString(input, 'PolicyName') ?? 'default';
        if (name !== 'default') throw constraintError('policyName', name, 'Member must be "default"');
        const policy = requireString(input, 'Policy');
        validatePolicy(policy);
        if (input.BypassPolicyLockoutSafetyCheck === true) log(`PutKeyPolicy on ${key.arn} set BypassPolicyLockoutSafetyCheck=true`);
        key.policy = policy;
        return {};
      },
    },

    // EnableKeyRotation API reference: RotationPeriodInDays 90–2560 (default 365); symmetric
    // encryption keys only; DisabledException on a Disabled key.
    EnableKeyRotation: {
      mutating: true,
      target: member('KeyId'),
      handle: (input, ctx) => {
        const key = byId(input, ctx);
        const period = optionalInteger(input, 'RotationPeriodInDays') ?? 365;
        if (period < 90) throw constraintError('rotationPeriodInDays', period, 'Member must have value greater than or equal to 90');
        if (period > 2560) throw constraintError('rotationPeriodInDays', period, 'Member must have value less than or equal to 2560');
        assertUsable(key);
        if (key.keySpec !== 'SYMMETRIC_DEFAULT') {
          throw new AwsServiceError('UnsupportedOperationException', `${key.arn} has KeySpec ${key.keySpec}; automatic rotation needs a symmetric encryption key.`);
        }
        key.rotationPeriodInDays = period;
        key.rotationEnabledAt = ctx.now();
        return {};
      },
    },
    DisableKeyRotation: {
      mutating: true,
      target: member('KeyId'),
      handle: (input, ctx) => {
        const key = byId(input, ctx);
        assertUsable(key);
        key.rotationPeriodInDays = undefined;
        key.rotationEnabledAt = undefined;
        return {};
      },
    },
    // GetKeyRotationStatus API reference: KeyRotationEnabled, RotationPeriodInDays, NextRotationDate.
    GetKeyRotationStatus: {
      mutating: false,
      target: member('KeyId'),
      handle: (input, ctx) => {
        const key = byId(input, ctx);
        const enabled = key.rotationPeriodInDays !== undefined;
        return {
          KeyId: key.arn,
          KeyRotationEnabled: enabled,
          RotationPeriodInDays: key.rotationPeriodInDays,
          NextRotationDate: enabled ? epochSeconds(new Date(key.rotationEnabledAt!.getTime() + key.rotationPeriodInDays! * DAY_MS)) : undefined,
        };
      },
    },

    // TagResource / UntagResource / ListResourceTags API references: tag keys starting with
    // "aws:" are reserved (TagException); a key pending deletion cannot be tagged.
    TagResource: {
      mutating: true,
      target: member('KeyId'),
      handle: (input, ctx) => {
        const key = byId(input, ctx);
        assertNotPendingDeletion(key);
        for (const [k, v] of parseTags(input.Tags)) key.tags.set(k, v);
        return {};
      },
    },
    UntagResource: {
      mutating: true,
      target: member('KeyId'),
      handle: (input, ctx) => {
        const key = byId(input, ctx);
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
        Tags: [...byId(input, ctx).tags].map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
        Truncated: false,
      }),
    },

    // GetKeyLastUsage API reference: the last successful cryptographic operation and its time;
    // an empty KeyLastUsage when the key has not been used; tracking starts at creation.
    GetKeyLastUsage: {
      mutating: false,
      target: member('KeyId'),
      handle: (input, ctx) => {
        const key = byId(input, ctx);
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

/** Tags as KMS takes them: [{TagKey, TagValue}]; "aws:" keys are reserved (TagResource API reference). */
function parseTags(raw: unknown): Map<string, string> {
  const tags = new Map<string, string>();
  if (raw === undefined || raw === null) return tags;
  if (!Array.isArray(raw)) throw constraintError('tags', raw, 'Member must be a list');
  for (const tag of raw as { TagKey?: unknown; TagValue?: unknown }[]) {
    if (typeof tag?.TagKey !== 'string' || tag.TagKey.length === 0 || tag.TagKey.length > 128) {
      throw new AwsServiceError('TagException', `Tag key ${JSON.stringify(tag?.TagKey)} must be a string of 1–128 characters.`);
    }
    if (tag.TagKey.toLowerCase().startsWith('aws:')) throw new AwsServiceError('TagException', `Tag key ${tag.TagKey} uses the reserved prefix aws:.`);
    if (typeof tag.TagValue !== 'string' || tag.TagValue.length > 256) {
      throw new AwsServiceError('TagException', `Tag value of ${tag.TagKey} must be a string of at most 256 characters.`);
    }
    tags.set(tag.TagKey, tag.TagValue);
  }
  return tags;
}

/** Limit/Marker paging shared by the List* operations; the marker is the next index. */
export function paginate<T>(items: readonly T[], input: Input): { items: T[]; next: { Truncated: boolean; NextMarker?: string } } {
  const limit = optionalInteger(input, 'Limit') ?? 100;
  if (limit < 1 || limit > 1000) throw constraintError('limit', limit, 'Member must have value between 1 and 1000');
  const marker = optionalString(input, 'Marker');
  const start = marker === undefined ? 0 : Number.parseInt(marker, 10);
  if (!Number.isInteger(start) || start < 0 || start > items.length) throw new AwsServiceError('InvalidMarkerException', `Marker ${marker} is not valid.`);
  const page = items.slice(start, start + limit);
  const end = start + page.length;
  return { items: page, next: end < items.length ? { Truncated: true, NextMarker: String(end) } : { Truncated: false } };
}
