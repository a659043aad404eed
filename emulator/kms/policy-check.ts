import type { OperationContext } from '../operation';
import { optionalString, requireString } from '../service-error';
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
 * Size and JSON checks (≤ 32 KB, a Statement) as the API references state them.
 * BypassPolicyLockoutSafetyCheck is accepted, as AWS accepts it, but reported to `log`: keyrotor
 * never sets it, so a notice means a bug.
 */
export function policyCheck(log: (message: string) => void): PolicyCheck {
  const noteBypass = (input: Record<string, unknown>, what: string) => {
    if (input.BypassPolicyLockoutSafetyCheck === true) log(`${what} set BypassPolicyLockoutSafetyCheck=true`);
  };
  return {
    forNewKey: (input, ctx, operation) => {
      const policy = optionalString(input, 'Policy') ?? defaultKeyPolicy(ctx.caller.account);
      validatePolicy(policy);
      noteBypass(input, `${operation} by ${ctx.caller.arn}`);
      return policy;
    },
    forPut: (input, ctx, key) => {
      const policy = requireString(input, 'Policy');
      validatePolicy(policy);
      noteBypass(input, `PutKeyPolicy on ${key.arn} by ${ctx.caller.arn}`);
      return policy;
    },
  };
}
