import { member, type OperationContext, type OperationTable } from '../operation';
import { AwsServiceError, optionalInteger, optionalString, requireString } from '../service-error';
import type { IdentityStoreEntry, Instance, InstanceRegistry } from './instances';

/**
 * The identity store behind an instance, readable only while the instance's key works: with a
 * customer managed key that is disabled, pending deletion, deleted or no longer usable by the
 * services, Identity Store answers AccessDeniedException with Reason KMS_ACCESS_DENIED
 * (Identity Store API reference, AccessDeniedException) — the lockout the pipeline must detect.
 */
function readableStore(registry: InstanceRegistry, input: Record<string, unknown>, ctx: OperationContext): Instance {
  const id = requireString(input, 'IdentityStoreId');
  if (!/^d-[0-9a-f]{10}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) {
    throw new AwsServiceError('ValidationException', `IdentityStoreId ${id} must look like d-0123456789.`);
  }
  const instance = registry.byIdentityStore(id);
  if (!instance || instance.region !== ctx.caller.region) {
    throw new AwsServiceError('ResourceNotFoundException', `Identity store ${id} does not exist in Region ${ctx.caller.region}.`, 400, {
      ResourceType: 'IDENTITY_STORE',
      ResourceId: id,
    });
  }
  const problem = registry.currentKeyProblem(instance);
  if (problem) {
    throw new AwsServiceError('AccessDeniedException', `Identity store ${id} cannot decrypt its data with the instance's KMS key: ${problem}`, 400, {
      Reason: 'KMS_ACCESS_DENIED',
    });
  }
  return instance;
}

/** MaxResults (1–100) / NextToken paging; the token is the next index. */
function page(entries: readonly IdentityStoreEntry[], input: Record<string, unknown>): { items: IdentityStoreEntry[]; NextToken?: string } {
  const max = optionalInteger(input, 'MaxResults') ?? 100;
  if (max < 1 || max > 100) throw new AwsServiceError('ValidationException', `MaxResults ${max} must be between 1 and 100.`);
  const token = optionalString(input, 'NextToken');
  const start = token === undefined ? 0 : Number.parseInt(token, 10);
  if (!Number.isInteger(start) || start < 0 || start > entries.length) throw new AwsServiceError('ValidationException', `NextToken ${token} is not valid.`);
  const items = entries.slice(start, start + max);
  return { items, NextToken: start + items.length < entries.length ? String(start + items.length) : undefined };
}

/** Identity Store (AWSIdentityStore): ListUsers, ListGroups. */
export function identityStoreOperations(registry: InstanceRegistry): OperationTable {
  return {
    ListUsers: {
      mutating: false,
      target: member('IdentityStoreId'),
      handle: (input, ctx) => {
        const instance = readableStore(registry, input, ctx);
        const { items, NextToken } = page(instance.users, input);
        return {
          Users: items.map((u) => ({ UserId: u.id, UserName: u.name, DisplayName: u.displayName, IdentityStoreId: instance.identityStoreId })),
          NextToken,
        };
      },
    },
    ListGroups: {
      mutating: false,
      target: member('IdentityStoreId'),
      handle: (input, ctx) => {
        const instance = readableStore(registry, input, ctx);
        const { items, NextToken } = page(instance.groups, input);
        return {
          Groups: items.map((g) => ({ GroupId: g.id, DisplayName: g.displayName, IdentityStoreId: instance.identityStoreId })),
          NextToken,
        };
      },
    },
  };
}
