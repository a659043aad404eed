import { member, type OperationContext, type OperationTable } from '../operation';
import { AwsServiceError, requireString } from '../service-error';
import { findInstance, regionsMetadata } from './instance-access';
import { regionalKeyArn, type Instance, type InstanceRegistry } from './instances';
import { pageByToken } from './paging';

// AddRegion / RemoveRegion / DescribeRegion API references: RegionName, 1–32 characters, ([a-z]+-){2,3}\d.
const REGION_NAME = /^([a-z]+-){2,3}\d$/;

function regionName(input: Record<string, unknown>): string {
  const name = requireString(input, 'RegionName');
  if (name.length > 32 || !REGION_NAME.test(name)) throw new AwsServiceError('ValidationException', `RegionName ${name} is not an AWS Region name such as us-east-1.`);
  return name;
}

/** Identity Center runs one workflow at a time: an encryption switch or one Region being added or removed. */
function assertIdle(instance: Instance): void {
  const busy = instance.regions.inProgress();
  if (busy) throw new AwsServiceError('ConflictException', `Region ${busy.name} of ${instance.instanceArn} is ${busy.status}; wait for that workflow to complete.`);
  if (instance.encryptionStatus === 'UPDATING') {
    throw new AwsServiceError('ConflictException', `The encryption configuration of ${instance.instanceArn} is being updated; wait until EncryptionStatus leaves UPDATING.`);
  }
}

/**
 * The instance's key must serve the new Region: a multi-Region customer managed key whose replica
 * in that Region exists, is Enabled and has the Identity Center statements in its own policy
 * (Identity Center user guide, "Using IAM Identity Center across multiple AWS Regions",
 * prerequisites, and "Replicate IAM Identity Center to an additional Region", step 1).
 */
function assertKeyServes(registry: InstanceRegistry, instance: Instance, region: string): void {
  const { keyType, kmsKeyArn } = instance.encryption;
  if (keyType !== 'CUSTOMER_MANAGED_KEY' || !kmsKeyArn) {
    throw new AwsServiceError('ValidationException', `${instance.instanceArn} uses an AWS owned key; adding a Region needs a multi-Region customer managed KMS key.`);
  }
  if (!kmsKeyArn.includes(':key/mrk-')) {
    throw new AwsServiceError('ValidationException', `${kmsKeyArn} is a single-Region KMS key; adding a Region needs a multi-Region customer managed KMS key.`);
  }
  const problem = registry.keyProblem(instance, regionalKeyArn(kmsKeyArn, region), region);
  if (problem) throw new AwsServiceError('ValidationException', `Cannot add ${region} to ${instance.instanceArn}: ${problem}`);
}

/** SSO Admin Region management: AddRegion, RemoveRegion, DescribeRegion, ListRegions. */
export function regionOperations(registry: InstanceRegistry): OperationTable {
  const manage = (input: Record<string, unknown>, ctx: OperationContext) => findInstance(registry, input, ctx, 'manage');
  return {
    // AddRegion API reference: asynchronous; the Region is ADDING, then ACTIVE.
    AddRegion: {
      mutating: true,
      target: member('InstanceArn'),
      handle: (input, ctx) => {
        const instance = manage(input, ctx);
        const region = regionName(input);
        if (region === instance.region) throw new AwsServiceError('ValidationException', `${region} is the primary Region of ${instance.instanceArn}.`);
        const existing = instance.regions.get(region);
        if (existing) throw new AwsServiceError('ConflictException', `${region} is already a Region of ${instance.instanceArn} (${existing.status}).`);
        assertIdle(instance);
        assertKeyServes(registry, instance, region);
        instance.regions.add(region, ctx.now());
        return { Status: 'ADDING' };
      },
    },

    // RemoveRegion API reference: from the primary Region; not the primary Region; no other Region
    // workflow in progress; REMOVING, then the Region record is deleted.
    RemoveRegion: {
      mutating: true,
      target: member('InstanceArn'),
      handle: (input, ctx) => {
        const instance = manage(input, ctx);
        const region = regionName(input);
        if (region === instance.region) throw new AwsServiceError('ValidationException', `${region} is the primary Region of ${instance.instanceArn}; the primary Region cannot be removed.`);
        if (!instance.regions.get(region)) throw new AwsServiceError('ResourceNotFoundException', `${region} is not a Region of ${instance.instanceArn}.`);
        assertIdle(instance);
        instance.regions.remove(region);
        return { Status: 'REMOVING' };
      },
    },

    // DescribeRegion API reference: from any enabled Region of the instance.
    DescribeRegion: {
      mutating: false,
      target: member('InstanceArn'),
      handle: (input, ctx) => {
        const instance = findInstance(registry, input, ctx, 'read');
        const region = regionName(input);
        const found = regionsMetadata(instance).find((r) => r.RegionName === region);
        if (!found) throw new AwsServiceError('ResourceNotFoundException', `${region} is not a Region of ${instance.instanceArn}.`);
        return found;
      },
    },

    // ListRegions API reference: every Region, ACTIVE, ADDING or REMOVING, the primary included.
    ListRegions: {
      mutating: false,
      target: member('InstanceArn'),
      handle: (input, ctx) => {
        const { items, NextToken } = pageByToken(regionsMetadata(findInstance(registry, input, ctx, 'read')), input);
        return { Regions: items, NextToken };
      },
    },
  };
}
