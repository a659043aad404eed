import type { OperationContext } from '../operation';
import { awsPrincipals, grantsAction, principalNames, statementsOf } from '../policy-document';
import { AwsServiceError, optionalString, requireString } from '../service-error';
import type { KmsKey } from './key-store';
import { defaultKeyPolicy, validatePolicy } from './rules';

/** How CreateKey, ReplicateKey and PutKeyPolicy take a key policy from their input. */
export interface PolicyCheck {
  /** CreateKey / ReplicateKey: Policy, or the default key policy of the caller's account when absent. */
  forNewKey(input: Record<string, unknown>, ctx: OperationContext, operation: string): string;
  /** PutKeyPolicy: Policy is required. */
  forPut(input: Record<string, unknown>, ctx: OperationContext, key: KmsKey): string;
}

/**
 * Whether `policy` lets the caller make a later PutKeyPolicy on the key: an Allow statement whose
 * principal names the caller (its own ARN, its role for an assumed-role session, or the account,
 * which delegates to IAM: the emulator models no IAM, so the account's principals are allowed)
 * and whose actions cover kms:PutKeyPolicy, with no unconditional Deny of it. Conditions are not
 * evaluated: a conditional Allow counts (MFA, for instance, may be present), a conditional Deny
 * does not.
 */
export function allowsLaterPutKeyPolicy(policy: string, callerArn: string, account: string): boolean {
  const statements = statementsOf(policy) ?? [];
  const names = (s: (typeof statements)[number]) => awsPrincipals(s).some((p) => principalNames(p, callerArn, account)) && grantsAction(s, 'kms:PutKeyPolicy');
  if (statements.some((s) => s.Effect === 'Deny' && s.Condition === undefined && names(s))) return false;
  return statements.some((s) => s.Effect === 'Allow' && names(s));
}

/**
 * Size and JSON checks (≤ 32 KB, a Statement) as the API references state them, and the policy
 * lockout safety check: unless BypassPolicyLockoutSafetyCheck is set, KMS refuses a policy that
 * would not let the caller change it again (MalformedPolicyDocumentException, AWS's wording).
 * BypassPolicyLockoutSafetyCheck is accepted, as AWS accepts it, but reported to `log`: keyrotor
 * never sets it, so a notice means a bug.
 */
export function policyCheck(log: (message: string) => void): PolicyCheck {
  const noteBypass = (input: Record<string, unknown>, what: string) => {
    if (input.BypassPolicyLockoutSafetyCheck === true) log(`${what} set BypassPolicyLockoutSafetyCheck=true`);
  };
  const lockoutCheck = (input: Record<string, unknown>, policy: string, ctx: OperationContext) => {
    if (input.BypassPolicyLockoutSafetyCheck === true || allowsLaterPutKeyPolicy(policy, ctx.caller.arn, ctx.caller.account)) return;
    throw new AwsServiceError('MalformedPolicyDocumentException', 'The new key policy will not allow you to update the key policy in the future.');
  };
  return {
    forNewKey: (input, ctx, operation) => {
      const policy = optionalString(input, 'Policy') ?? defaultKeyPolicy(ctx.caller.account);
      validatePolicy(policy);
      lockoutCheck(input, policy, ctx);
      noteBypass(input, `${operation} by ${ctx.caller.arn}`);
      return policy;
    },
    forPut: (input, ctx, key) => {
      const policy = requireString(input, 'Policy');
      validatePolicy(policy);
      lockoutCheck(input, policy, ctx);
      noteBypass(input, `PutKeyPolicy on ${key.arn} by ${ctx.caller.arn}`);
      return policy;
    },
  };
}
