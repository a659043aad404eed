import { member, type OperationTable } from '../operation';
import { AwsServiceError, constraintError, requireString } from '../service-error';
import type { Caller } from '../operation';
import { paginate } from './inputs';
import { aliasArn, parseKeyArn, type KeyStore, type KmsKey, type Scope } from './key-store';
import { assertNotPendingDeletion, epochSeconds } from './rules';

// CreateAlias API reference: "alias/" followed by letters, digits, / _ - ; at most 256 characters.
const ALIAS_NAME = /^alias\/[a-zA-Z0-9/_-]+$/;

function validateAliasName(name: string): void {
  if (name.length > 256 || !ALIAS_NAME.test(name)) {
    throw new AwsServiceError('ValidationException', `Alias name ${name} must begin with alias/ and contain only letters, digits, / _ and - (at most 256 characters).`);
  }
  // The alias/aws/ prefix is reserved for AWS managed keys (CreateAlias API reference).
  if (name.startsWith('alias/aws/')) {
    throw new AwsServiceError('InvalidAliasNameException', `Alias name ${name} must not begin with alias/aws/: that prefix is reserved for AWS managed keys.`);
  }
}

/**
 * The alias target must be a customer managed key of the alias's own account and Region
 * (CreateAlias / UpdateAlias API references), given by key id or key ARN (not another alias).
 */
function resolveTarget(store: KeyStore, scope: Caller, targetKeyId: string, operation: string): KmsKey {
  const arn = parseKeyArn(targetKeyId);
  if (arn && (arn.account !== scope.account || arn.region !== scope.region)) {
    throw new AwsServiceError('ValidationException', `TargetKeyId ${targetKeyId} must be a KMS key in the alias's account ${scope.account} and Region ${scope.region}.`);
  }
  if (targetKeyId.startsWith('alias/') || targetKeyId.includes(':alias/')) {
    throw new AwsServiceError('ValidationException', `TargetKeyId ${targetKeyId} must be a key ID or key ARN, not an alias.`);
  }
  return store.resolve(scope, targetKeyId, { allowAlias: false, operation });
}

function aliasEntry(scope: Scope, alias: { aliasName: string; targetKeyId: string; creationDate: Date; lastUpdatedDate: Date }): Record<string, unknown> {
  return {
    AliasName: alias.aliasName,
    AliasArn: aliasArn(scope, alias.aliasName),
    TargetKeyId: alias.targetKeyId,
    CreationDate: epochSeconds(alias.creationDate),
    LastUpdatedDate: epochSeconds(alias.lastUpdatedDate),
  };
}

/** CreateAlias, UpdateAlias, DeleteAlias, ListAliases. */
export function aliasOperations(store: KeyStore): OperationTable {
  return {
    CreateAlias: {
      mutating: true,
      target: member('AliasName'),
      handle: (input, ctx) => {
        const name = requireString(input, 'AliasName');
        validateAliasName(name);
        const key = resolveTarget(store, ctx.caller, requireString(input, 'TargetKeyId'), 'CreateAlias');
        assertNotPendingDeletion(key);
        if (store.getAlias(ctx.caller, name)) {
          throw new AwsServiceError('AlreadyExistsException', `An alias with the name ${aliasArn(ctx.caller, name)} already exists`);
        }
        const now = ctx.now();
        store.putAlias({ aliasName: name, account: ctx.caller.account, region: ctx.caller.region, targetKeyId: key.keyId, creationDate: now, lastUpdatedDate: now });
        return {};
      },
    },

    // UpdateAlias API reference: the new key must have the same key type (symmetric / asymmetric /
    // HMAC) and key usage as the current one, in the same account and Region.
    UpdateAlias: {
      mutating: true,
      target: member('AliasName'),
      handle: (input, ctx) => {
        const name = requireString(input, 'AliasName');
        const alias = store.getAlias(ctx.caller, name);
        if (!alias) throw new AwsServiceError('NotFoundException', `Alias ${aliasArn(ctx.caller, name)} is not found.`);
        const next = resolveTarget(store, ctx.caller, requireString(input, 'TargetKeyId'), 'UpdateAlias');
        assertNotPendingDeletion(next);
        const current = store.get(ctx.caller, alias.targetKeyId);
        if (current && (keyType(current) !== keyType(next) || current.keyUsage !== next.keyUsage)) {
          throw new AwsServiceError(
            'ValidationException',
            `${name} points to a ${keyType(current)} ${current.keyUsage} key; ${next.arn} is ${keyType(next)} ${next.keyUsage}. An alias can only move to a key of the same type and usage.`,
          );
        }
        alias.targetKeyId = next.keyId;
        alias.lastUpdatedDate = ctx.now();
        return {};
      },
    },

    DeleteAlias: {
      mutating: true,
      target: member('AliasName'),
      handle: (input, ctx) => {
        const name = requireString(input, 'AliasName');
        if (!store.deleteAlias(ctx.caller, name)) throw new AwsServiceError('NotFoundException', `Alias ${aliasArn(ctx.caller, name)} is not found.`);
        return {};
      },
    },

    // ListAliases API reference: optional KeyId (id or ARN) filter; Limit/Marker paging.
    ListAliases: {
      mutating: false,
      handle: (input, ctx) => {
        let aliases = store.listAliases(ctx.caller);
        if (typeof input.KeyId === 'string') {
          const key = store.resolve(ctx.caller, input.KeyId, { allowAlias: false, operation: 'ListAliases' });
          aliases = aliases.filter((a) => a.targetKeyId === key.keyId);
        } else if (input.KeyId !== undefined) {
          throw constraintError('keyId', input.KeyId, 'Member must be a string');
        }
        const page = paginate(aliases, input);
        return { Aliases: page.items.map((a) => aliasEntry(ctx.caller, a)), ...page.next };
      },
    },
  };
}

function keyType(key: KmsKey): 'symmetric' | 'asymmetric' | 'HMAC' {
  if (key.keySpec === 'SYMMETRIC_DEFAULT') return 'symmetric';
  return key.keySpec.startsWith('HMAC_') ? 'HMAC' : 'asymmetric';
}
