import { member, type OperationTable } from '../operation';
import { AwsServiceError, optionalString } from '../service-error';
import { findInstance, regionsMetadata, seconds } from './instance-access';
import type { Instance, InstanceRegistry, KeyType } from './instances';

// UpdateInstance / EncryptionConfiguration API references: the key ARN pattern. A key ARN only —
// an alias ARN does not match, which is how AWS rejects it.
const KMS_KEY_ARN = /^arn:aws(-[a-z]{1,5}){0,3}:kms:([a-z]{2,}(-[a-z0-9]+)+):[0-9]{12}:key\/(mrk-[a-f0-9]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
const KEY_TYPES: readonly KeyType[] = ['AWS_OWNED_KMS_KEY', 'CUSTOMER_MANAGED_KEY'];

function validation(message: string): AwsServiceError {
  return new AwsServiceError('ValidationException', message);
}

function metadata(instance: Instance): Record<string, unknown> {
  return {
    InstanceArn: instance.instanceArn,
    IdentityStoreId: instance.identityStoreId,
    IdentityStoreArn: `arn:aws:identitystore::${instance.account}:identitystore/${instance.identityStoreId}`,
    OwnerAccountId: instance.account,
    Name: instance.name,
    CreatedDate: seconds(instance.createdDate),
    Status: 'ACTIVE',
    PrimaryRegion: instance.region,
    Regions: regionsMetadata(instance),
  };
}

/** SSO Admin (SWBExternalService): ListInstances, DescribeInstance, UpdateInstance. */
export function ssoAdminOperations(registry: InstanceRegistry): OperationTable {
  return {
    // ListInstances API reference: the instances of the caller's account (or that it is a delegated
    // administrator of) served in this Region.
    ListInstances: {
      mutating: false,
      handle: (_input, ctx) => ({
        Instances: registry
          .list()
          .filter((i) => (i.account === ctx.caller.account || i.delegatedAdministrators.includes(ctx.caller.account)) && registry.servesRegion(i, ctx.caller.region))
          .map(metadata),
      }),
    },

    // DescribeInstance API reference: Status and EncryptionConfigurationDetails (KeyType, KmsKeyArn,
    // EncryptionStatus, EncryptionStatusReason). While UPDATING the key shown is the one still in use.
    DescribeInstance: {
      mutating: false,
      target: member('InstanceArn'),
      handle: (input, ctx) => {
        const instance = findInstance(registry, input, ctx, 'read');
        return {
          ...metadata(instance),
          EncryptionConfigurationDetails: {
            KeyType: instance.encryption.keyType,
            KmsKeyArn: instance.encryption.kmsKeyArn,
            EncryptionStatus: instance.encryptionStatus,
            EncryptionStatusReason: instance.encryptionStatusReason,
          },
        };
      },
    },

    // UpdateInstance API reference: EncryptionConfiguration.KeyType is required; KmsKeyArn is
    // required for CUSTOMER_MANAGED_KEY and must be absent for AWS_OWNED_KMS_KEY; a second update
    // while the first is UPDATING is a ConflictException. The switch itself is asynchronous. An
    // instance with additional Regions needs a multi-Region key (checked here) with a ready replica
    // in each of them (checked when the switch settles: UPDATE_FAILED otherwise), and no Region
    // workflow may be in progress (one workflow at a time).
    UpdateInstance: {
      mutating: true,
      target: member('InstanceArn'),
      handle: (input, ctx) => {
        const instance = findInstance(registry, input, ctx, 'manage');
        const name = optionalString(input, 'Name');
        const config = input.EncryptionConfiguration as { KeyType?: unknown; KmsKeyArn?: unknown } | undefined;
        if (config === undefined && name === undefined) throw validation('UpdateInstance needs EncryptionConfiguration or Name.');
        if (config !== undefined && (typeof config !== 'object' || config === null)) throw validation('EncryptionConfiguration must be an object.');
        if (config) {
          const keyType = config.KeyType as KeyType;
          if (!KEY_TYPES.includes(keyType)) {
            throw validation(`EncryptionConfiguration.KeyType ${JSON.stringify(config.KeyType)} must be one of ${KEY_TYPES.join(', ')}.`);
          }
          const kmsKeyArn = config.KmsKeyArn;
          if (keyType === 'CUSTOMER_MANAGED_KEY' && (typeof kmsKeyArn !== 'string' || kmsKeyArn === '')) {
            throw validation('EncryptionConfiguration.KmsKeyArn is required when KeyType is CUSTOMER_MANAGED_KEY.');
          }
          if (keyType === 'AWS_OWNED_KMS_KEY' && kmsKeyArn !== undefined && kmsKeyArn !== null) {
            throw validation('EncryptionConfiguration.KmsKeyArn cannot be specified when KeyType is AWS_OWNED_KMS_KEY.');
          }
          if (typeof kmsKeyArn === 'string' && !KMS_KEY_ARN.test(kmsKeyArn)) {
            throw validation(`EncryptionConfiguration.KmsKeyArn ${kmsKeyArn} is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>); alias ARNs are not accepted.`);
          }
          if (instance.encryptionStatus === 'UPDATING') {
            throw new AwsServiceError('ConflictException', `The encryption configuration of ${instance.instanceArn} is being updated; wait until EncryptionStatus leaves UPDATING.`);
          }
          assertFitsRegions(instance, keyType, kmsKeyArn);
          registry.beginSwitch(instance, { keyType, kmsKeyArn: keyType === 'CUSTOMER_MANAGED_KEY' ? (kmsKeyArn as string) : undefined });
        }
        if (name !== undefined) instance.name = name;
        return {};
      },
    },
  };
}

/** An instance replicated to other Regions cannot go back to an AWS owned key or to a single-Region key. */
function assertFitsRegions(instance: Instance, keyType: KeyType, kmsKeyArn: unknown): void {
  const busy = instance.regions.inProgress();
  if (busy) throw new AwsServiceError('ConflictException', `Region ${busy.name} of ${instance.instanceArn} is ${busy.status}; wait for that workflow to complete.`);
  const additional = instance.regions.list().map((r) => r.name);
  if (additional.length === 0) return;
  if (keyType === 'AWS_OWNED_KMS_KEY') {
    throw validation(`${instance.instanceArn} is replicated to ${additional.join(', ')}, which needs a multi-Region customer managed KMS key; remove those Regions before switching to an AWS owned key.`);
  }
  if (!/:key\/mrk-/.test(String(kmsKeyArn))) {
    throw validation(`${String(kmsKeyArn)} is a single-Region KMS key; ${instance.instanceArn} is replicated to ${additional.join(', ')} and needs a multi-Region key with a replica in each of them.`);
  }
}
