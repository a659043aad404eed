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

interface Statement {
  readonly Effect?: unknown;
  readonly Principal?: unknown;
  readonly Action?: unknown;
  readonly Condition?: unknown;
}

const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : []);

/** IAM action matching: case-insensitive, `*` and `?` wildcards. */
function actionMatches(pattern: string, action: string): boolean {
  const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return regex.test(action);
}

function namesService(principal: unknown, service: string): boolean {
  if (principal === '*') return true;
  if (typeof principal !== 'object' || principal === null) return false;
  const p = principal as Record<string, unknown>;
  return list(p.Service).includes(service) || list(p.AWS).includes('*');
}

function grants(statement: Statement, service: string, action: string): boolean {
  return namesService(statement.Principal, service) && list(statement.Action).some((a) => actionMatches(a, action));
}

/**
 * Returns what is missing, in words (e.g. "no Allow of kms:Decrypt for identitystore.amazonaws.com"),
 * or an empty list when the policy lets Identity Center use the key.
 */
export function identityCenterPolicyGaps(policy: string): string[] {
  let statements: Statement[];
  try {
    const document = JSON.parse(policy) as { Statement?: unknown };
    statements = (Array.isArray(document.Statement) ? document.Statement : [document.Statement]).filter(
      (s): s is Statement => typeof s === 'object' && s !== null,
    );
  } catch {
    return ['the key policy is not valid JSON'];
  }
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
