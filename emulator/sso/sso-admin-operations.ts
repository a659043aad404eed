import { member, type OperationContext, type OperationTable } from '../operation';
import { AwsServiceError, optionalString, requireString } from '../service-error';
import type { Instance, InstanceRegistry, KeyType } from './instances';

// UpdateInstance / EncryptionConfiguration API references: the instance ARN and key ARN patterns.
// A key ARN only — an alias ARN does not match, which is how AWS rejects it.
const INSTANCE_ARN = /^arn:aws(-[a-z]{1,5}){0,3}:sso:::instance\/(sso)?ins-[a-zA-Z0-9-.]{16}$/;
const KMS_KEY_ARN = /^arn:aws(-[a-z]{1,5}){0,3}:kms:([a-z]{2,}(-[a-z0-9]+)+):[0-9]{12}:key\/(mrk-[a-f0-9]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
const KEY_TYPES: readonly KeyType[] = ['AWS_OWNED_KMS_KEY', 'CUSTOMER_MANAGED_KEY'];

const seconds = (date: Date): number => date.getTime() / 1000;

function validation(message: string): AwsServiceError {
  return new AwsServiceError('ValidationException', message);
}

/** The instance named by InstanceArn, visible from the caller's Region. */
function findInstance(registry: InstanceRegistry, input: Record<string, unknown>, ctx: OperationContext): Instance {
  const arn = requireString(input, 'InstanceArn');
  if (!INSTANCE_ARN.test(arn)) throw validation(`InstanceArn ${arn} does not match arn:aws:sso:::instance/ssoins-<16 characters>.`);
  const instance = registry.get(arn);
  if (!instance || instance.region !== ctx.caller.region) {
    throw new AwsServiceError('ResourceNotFoundException', `Instance ${arn} does not exist in Region ${ctx.caller.region}.`);
  }
  return instance;
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
  };
}

/** SSO Admin (SWBExternalService): ListInstances, DescribeInstance, UpdateInstance. */
export function ssoAdminOperations(registry: InstanceRegistry): OperationTable {
  return {
    // ListInstances API reference: the instances of the caller's account in this Region.
    ListInstances: {
      mutating: false,
      handle: (_input, ctx) => ({
        Instances: registry.list().filter((i) => i.account === ctx.caller.account && i.region === ctx.caller.region).map(metadata),
      }),
    },

    // DescribeInstance API reference: Status and EncryptionConfigurationDetails (KeyType, KmsKeyArn,
    // EncryptionStatus, EncryptionStatusReason). While UPDATING the key shown is the one still in use.
    DescribeInstance: {
      mutating: false,
      target: member('InstanceArn'),
      handle: (input, ctx) => {
        const instance = findInstance(registry, input, ctx);
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
    // while the first is UPDATING is a ConflictException. The switch itself is asynchronous.
    UpdateInstance: {
      mutating: true,
      target: member('InstanceArn'),
      handle: (input, ctx) => {
        const instance = findInstance(registry, input, ctx);
        if (instance.account !== ctx.caller.account) {
          throw new AwsServiceError('AccessDeniedException', `Only the owner account ${instance.account} can update ${instance.instanceArn}.`);
        }
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
          registry.beginSwitch(instance, { keyType, kmsKeyArn: keyType === 'CUSTOMER_MANAGED_KEY' ? (kmsKeyArn as string) : undefined });
        }
        if (name !== undefined) instance.name = name;
        return {};
      },
    },
  };
}
