import { asList, grantsAction, statementsOf, type Statement } from '../policy-document';

/**
 * The emulator's own, deliberately independent, check that a key policy lets IAM Identity Center
 * use the key (Identity Center user guide, "Baseline KMS key policy statements"): for each of
 * sso.amazonaws.com and identitystore.amazonaws.com an Allow statement must grant kms:Decrypt and
 * kms:DescribeKey, and no Deny statement may take them away. Conditions on Allow statements are
 * assumed to be met (the emulator does not evaluate request context); an unconditional Deny wins.
 *
 * It never imports the project's policy builder, so a bug there cannot hide behind the same bug here.
 */
export const IDENTITY_CENTER_SERVICES = ['sso.amazonaws.com', 'identitystore.amazonaws.com'] as const;
export const REQUIRED_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey'] as const;

function namesService(principal: unknown, service: string): boolean {
  if (principal === '*') return true;
  if (typeof principal !== 'object' || principal === null) return false;
  const p = principal as Record<string, unknown>;
  return asList(p.Service).includes(service) || asList(p.AWS).includes('*');
}

function grants(statement: Statement, service: string, action: string): boolean {
  return namesService(statement.Principal, service) && grantsAction(statement, action);
}

/**
 * Returns what is missing, in words (e.g. "no Allow of kms:Decrypt for identitystore.amazonaws.com"),
 * or an empty list when the policy lets Identity Center use the key.
 */
export function identityCenterPolicyGaps(policy: string): string[] {
  const statements = statementsOf(policy);
  if (!statements) return ['the key policy is not valid JSON'];
  const gaps: string[] = [];
  for (const service of IDENTITY_CENTER_SERVICES) {
    for (const action of REQUIRED_ACTIONS) {
      const denied = statements.some((s) => s.Effect === 'Deny' && s.Condition === undefined && grants(s, service, action));
      const allowed = statements.some((s) => s.Effect === 'Allow' && grants(s, service, action));
      if (denied) gaps.push(`an unconditional Deny of ${action} for ${service}`);
      else if (!allowed) gaps.push(`no Allow of ${action} for ${service}`);
    }
  }
  return gaps;
}
