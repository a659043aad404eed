import { member, type OperationContext, type OperationTable } from '../operation';
import { AwsServiceError, requireString } from '../service-error';
import type { Instance, InstanceRegistry } from './instances';
import { pageByToken } from './paging';

/**
 * The identity store behind an instance, readable in each Region the instance serves (its primary
 * Region and ACTIVE additional Regions) by the owner account and delegated administrators, and
 * only while the instance's key works in that Region (in an additional Region: the multi-Region
 * key's replica there). With a customer managed key that is disabled, pending deletion, deleted or
 * no longer usable by the services, Identity Store answers AccessDeniedException with Reason
 * KMS_ACCESS_DENIED (Identity Store API reference, AccessDeniedException) — the lockout the
 * pipeline must detect.
 */
function readableStore(registry: InstanceRegistry, input: Record<string, unknown>, ctx: OperationContext): Instance {
  const id = requireString(input, 'IdentityStoreId');
  if (!/^d-[0-9a-f]{10}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) {
    throw new AwsServiceError('ValidationException', `IdentityStoreId ${id} must look like d-0123456789.`);
  }
  const instance = registry.byIdentityStore(id);
  if (!instance || !registry.servesRegion(instance, ctx.caller.region)) {
    throw new AwsServiceError('ResourceNotFoundException', `Identity store ${id} does not exist in Region ${ctx.caller.region}.`, 400, {
      ResourceType: 'IDENTITY_STORE',
      ResourceId: id,
    });
  }
  const { account } = ctx.caller;
  if (account !== instance.account && !instance.delegatedAdministrators.includes(account)) {
    throw new AwsServiceError('AccessDeniedException', `${ctx.caller.arn} may not read identity store ${id} of account ${instance.account}.`);
  }
  const problem = registry.currentKeyProblem(instance, ctx.caller.region);
  if (problem) {
    throw new AwsServiceError('AccessDeniedException', `Identity store ${id} cannot decrypt its data with the instance's KMS key: ${problem}`, 400, {
      Reason: 'KMS_ACCESS_DENIED',
    });
  }
  return instance;
}

/** Identity Store (AWSIdentityStore): ListUsers, ListGroups. */
export function identityStoreOperations(registry: InstanceRegistry): OperationTable {
  return {
    ListUsers: {
      mutating: false,
      target: member('IdentityStoreId'),
      handle: (input, ctx) => {
        const instance = readableStore(registry, input, ctx);
        const { items, NextToken } = pageByToken(instance.users, input);
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
        const { items, NextToken } = pageByToken(instance.groups, input);
        return {
          Groups: items.map((g) => ({ GroupId: g.id, DisplayName: g.displayName, IdentityStoreId: instance.identityStoreId })),
          NextToken,
        };
      },
    },
  };
}
