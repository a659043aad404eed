import { AwsServiceError } from '../service-error';
import type { KmsKey } from './key-store';

/**
 * Key-state rules from the KMS developer guide's "Key states of AWS KMS keys" table: a key pending
 * deletion (or, for a multi-Region primary, pending replica deletion) refuses almost everything with
 * KMSInvalidStateException; a Disabled key refuses cryptographic use (and EnableKeyRotation) with
 * DisabledException; a replica still Creating can be managed but not used. Messages follow AWS's
 * wording ("<key ARN> is pending deletion.", "<key ARN> is disabled.").
 */
export function assertNotPendingDeletion(key: KmsKey): void {
  if (key.state === 'PendingDeletion') throw new AwsServiceError('KMSInvalidStateException', `${key.arn} is pending deletion.`);
  if (key.state === 'PendingReplicaDeletion') throw new AwsServiceError('KMSInvalidStateException', `${key.arn} is pending replica deletion.`);
}

export function assertUsable(key: KmsKey): void {
  assertNotPendingDeletion(key);
  if (key.state === 'Disabled') throw new AwsServiceError('DisabledException', `${key.arn} is disabled.`);
  if (key.state === 'Creating') throw new AwsServiceError('KMSInvalidStateException', `${key.arn} is creating; retry when its KeyState is Enabled.`);
}

/** Enable/Disable, deletion and multi-Region changes wait for a transient state (Creating, Updating) to end. */
export function assertNotInTransition(key: KmsKey): void {
  if (key.state === 'Creating' || key.state === 'Updating') {
    throw new AwsServiceError('KMSInvalidStateException', `${key.arn} is ${key.state.toLowerCase()}; retry when the operation in progress completes.`);
  }
}

/** The emulator does real cryptography for symmetric encryption keys only. */
export function assertSymmetricEncryption(key: KmsKey, operation: string): void {
  if (key.keySpec !== 'SYMMETRIC_DEFAULT' || key.keyUsage !== 'ENCRYPT_DECRYPT') {
    throw new AwsServiceError(
      'InvalidKeyUsageException',
      `You cannot use ${operation} with ${key.arn}: its KeySpec is ${key.keySpec} and KeyUsage ${key.keyUsage}; ${operation} needs a SYMMETRIC_DEFAULT ENCRYPT_DECRYPT key.`,
    );
  }
}

/** Key policy limits (PutKeyPolicy / CreateKey API references: a JSON document of at most 32 KB). */
export const MAX_POLICY_BYTES = 32 * 1024;

export function validatePolicy(policy: string): void {
  if (Buffer.byteLength(policy, 'utf8') > MAX_POLICY_BYTES) {
    throw new AwsServiceError('LimitExceededException', `The key policy is ${Buffer.byteLength(policy, 'utf8')} bytes; the limit is ${MAX_POLICY_BYTES} bytes.`);
  }
  let document: unknown;
  try {
    document = JSON.parse(policy);
  } catch (error) {
    throw new AwsServiceError('MalformedPolicyDocumentException', `The key policy is not valid JSON: ${(error as Error).message}`);
  }
  const statements = (document as { Statement?: unknown } | null)?.Statement;
  if (typeof document !== 'object' || document === null || (!Array.isArray(statements) && typeof statements !== 'object')) {
    throw new AwsServiceError('MalformedPolicyDocumentException', 'The key policy must be a JSON object with a Statement.');
  }
}

/** The default key policy KMS attaches when CreateKey has no Policy (developer guide, "Default key policy"). */
export function defaultKeyPolicy(account: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Id: 'key-default-1',
    Statement: [
      {
        Sid: 'Enable IAM User Permissions',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${account}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
    ],
  });
}

export const KEY_SPECS = [
  'SYMMETRIC_DEFAULT', 'RSA_2048', 'RSA_3072', 'RSA_4096', 'ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521',
  'ECC_SECG_P256K1', 'HMAC_224', 'HMAC_256', 'HMAC_384', 'HMAC_512', 'SM2', 'ML_DSA_44', 'ML_DSA_65', 'ML_DSA_87',
];
export const KEY_USAGES = ['ENCRYPT_DECRYPT', 'SIGN_VERIFY', 'GENERATE_VERIFY_MAC', 'KEY_AGREEMENT'];

/** Seconds since the epoch: the AWS JSON 1.1 timestamp format. */
export function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

export function keyMetadata(key: KmsKey): Record<string, unknown> {
  return {
    AWSAccountId: key.account,
    KeyId: key.keyId,
    Arn: key.arn,
    CreationDate: epochSeconds(key.creationDate),
    Enabled: key.state === 'Enabled',
    Description: key.description,
    KeyUsage: key.keyUsage,
    KeyState: key.state,
    DeletionDate: key.state === 'PendingDeletion' && key.deletionDate ? epochSeconds(key.deletionDate) : undefined,
    // KeyMetadata reference: the waiting period is shown only while PendingReplicaDeletion, when
    // there is no DeletionDate yet; once PendingDeletion, DeletionDate says when.
    PendingDeletionWindowInDays: key.state === 'PendingReplicaDeletion' ? key.pendingWindowInDays : undefined,
    Origin: 'AWS_KMS',
    KeyManager: 'CUSTOMER',
    CustomerMasterKeySpec: key.keySpec,
    KeySpec: key.keySpec,
    EncryptionAlgorithms: key.keyUsage === 'ENCRYPT_DECRYPT' && key.keySpec === 'SYMMETRIC_DEFAULT' ? ['SYMMETRIC_DEFAULT'] : undefined,
    MultiRegion: key.multiRegion,
    MultiRegionConfiguration: key.set?.configuration(key),
  };
}
