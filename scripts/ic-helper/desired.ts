import type { IdentityCenterTarget } from '../../pipeline/ledger/types';
import { IdentityCenterEncryptionError } from '../../pipeline/identity-center/errors';

export type DesiredEncryption = IdentityCenterTarget;

const KEY_ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):key\/(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
const ALIAS_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:alias\//;

/**
 * Validates what the helper was asked for before any AWS call. Identity Center takes a key ARN
 * only (an alias ARN is a ValidationException there, and would silently follow the alias later),
 * and the key must live in the instance's Region.
 */
export function parseDesiredEncryption(instanceArn: string, keyType: string, kmsKeyArn: string | undefined, region: string): DesiredEncryption {
  const refuse = (message: string, nextStep: string): never => {
    throw new IdentityCenterEncryptionError(instanceArn, message, { fault: 'operator', nextStep });
  };
  if (keyType === 'AWS_OWNED_KMS_KEY') {
    if (kmsKeyArn) refuse(`--kms-key-arn ${kmsKeyArn} was given with --key-type AWS_OWNED_KMS_KEY`, 'drop --kms-key-arn, or use --key-type CUSTOMER_MANAGED_KEY');
    return { keyType };
  }
  if (keyType !== 'CUSTOMER_MANAGED_KEY') {
    return refuse(`--key-type ${JSON.stringify(keyType)} is not AWS_OWNED_KMS_KEY or CUSTOMER_MANAGED_KEY`, 'pass one of the two key types');
  }
  if (!kmsKeyArn) return refuse('--key-type CUSTOMER_MANAGED_KEY needs --kms-key-arn', 'pass the key ARN of the active generation');
  if (ALIAS_ARN.test(kmsKeyArn)) {
    return refuse(`--kms-key-arn ${kmsKeyArn} is an alias ARN; Identity Center needs the key ARN itself`, 'resolve the alias with `aws kms describe-key --key-id <alias>` and pass its KeyMetadata.Arn');
  }
  const match = KEY_ARN.exec(kmsKeyArn);
  if (!match) return refuse(`--kms-key-arn ${kmsKeyArn} is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>)`, 'pass the full key ARN');
  if (match[1] !== region) {
    return refuse(`key ${kmsKeyArn} is in ${match[1]}, but the instance is in ${region}; the key must be in the instance's Region`, 'use a key (or multi-Region replica) in the instance\'s Region');
  }
  return { keyType, kmsKeyArn };
}
