import type { OperationContext } from '../operation';
import { AwsServiceError, requireString } from '../service-error';
import type { Instance, InstanceRegistry } from './instances';

// SSO Admin API reference: the InstanceArn pattern.
const INSTANCE_ARN = /^arn:aws(-[a-z]{1,5}){0,3}:sso:::instance\/(sso)?ins-[a-zA-Z0-9-.]{16}$/;

export const seconds = (date: Date): number => date.getTime() / 1000;

/**
 * The instance named by InstanceArn, as the caller may reach it. Reads work from the primary
 * Region and from every ACTIVE additional Region, for the owner account and its delegated
 * administrators; changes (`manage`) are the owner's, made in the primary Region (RemoveRegion API
 * reference: "The request must be made from the primary Region"; issue 12: key management in the
 * primary Region only).
 */
export function findInstance(registry: InstanceRegistry, input: Record<string, unknown>, ctx: OperationContext, access: 'read' | 'manage'): Instance {
  const arn = requireString(input, 'InstanceArn');
  if (!INSTANCE_ARN.test(arn)) throw new AwsServiceError('ValidationException', `InstanceArn ${arn} does not match arn:aws:sso:::instance/ssoins-<16 characters>.`);
  const instance = registry.get(arn);
  if (!instance || !registry.servesRegion(instance, ctx.caller.region)) {
    throw new AwsServiceError('ResourceNotFoundException', `Instance ${arn} does not exist in Region ${ctx.caller.region}.`);
  }
  const { account } = ctx.caller;
  const allowed = access === 'manage' ? account === instance.account : account === instance.account || instance.delegatedAdministrators.includes(account);
  if (!allowed) {
    throw new AwsServiceError('AccessDeniedException', `${ctx.caller.arn} is not allowed to ${access === 'manage' ? 'change' : 'read'} ${instance.instanceArn}: it belongs to account ${instance.account}.`);
  }
  if (access === 'manage' && ctx.caller.region !== instance.region) {
    throw new AwsServiceError('ValidationException', `${instance.instanceArn} is managed in its primary Region ${instance.region}; this request was sent to ${ctx.caller.region}.`);
  }
  return instance;
}

/** RegionMetadata of every Region of the instance, the primary first (ListRegions / DescribeInstance). */
export function regionsMetadata(instance: Instance): Record<string, unknown>[] {
  return [
    { RegionName: instance.region, Status: 'ACTIVE', AddedDate: seconds(instance.createdDate), IsPrimaryRegion: true },
    ...instance.regions.list().map((r) => ({ RegionName: r.name, Status: r.status, AddedDate: seconds(r.addedDate), IsPrimaryRegion: false })),
  ];
}
