import type { Caller } from '../operation';
import { awsPrincipals, grantsAction, principalNames, statementsOf } from '../policy-document';
import { AwsServiceError } from '../service-error';
import type { KmsKey } from './key-store';

/**
 * The KMS operations whose API reference says "Cross-account use: Yes" among those the emulator
 * models, by the permission they need (ReEncrypt needs ReEncryptFrom on the source key and
 * ReEncryptTo on the destination). Every other operation works only on the caller's own keys.
 */
const CROSS_ACCOUNT_OPERATIONS = new Set([
  'DescribeKey', 'Encrypt', 'Decrypt', 'ReEncryptFrom', 'ReEncryptTo', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'GetKeyRotationStatus',
]);

/**
 * A caller of another account may use a key only through an operation that allows cross-account
 * use, and only when the key policy allows the caller's account or the caller itself to perform it
 * (KMS developer guide, "Allowing users in other accounts to use a KMS key"). The caller's own IAM
 * policies, which AWS also requires, are not modelled: they are taken to allow it. An
 * unconditional Deny naming the caller wins; conditions on Allow statements are taken as met.
 *
 * Refusals are AccessDeniedException worded as KMS words them
 * ("User: … is not authorized to perform: kms:Op on resource: … because no resource-based policy allows the kms:Op action").
 */
export function assertCrossAccountUse(key: KmsKey, caller: Caller, operation: string): void {
  const action = `kms:${operation}`;
  if (CROSS_ACCOUNT_OPERATIONS.has(operation) && keyPolicyAllows(key.policy, caller, action)) return;
  throw new AwsServiceError(
    'AccessDeniedException',
    `User: ${caller.arn} is not authorized to perform: ${action} on resource: ${key.arn} because no resource-based policy allows the ${action} action`,
  );
}

function keyPolicyAllows(policy: string, caller: Caller, action: string): boolean {
  const statements = statementsOf(policy) ?? [];
  const names = (s: (typeof statements)[number]) =>
    grantsAction(s, action) && awsPrincipals(s).some((p) => principalNames(p, caller.arn, caller.account));
  if (statements.some((s) => s.Effect === 'Deny' && s.Condition === undefined && names(s))) return false;
  return statements.some((s) => s.Effect === 'Allow' && names(s));
}
