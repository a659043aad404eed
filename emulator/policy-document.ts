/**
 * Reading IAM policy documents (key policies, role trust) the few ways the emulator needs to: the
 * statements, their principals and actions. Conditions are never evaluated (the emulator has no
 * request context); callers decide what an unconditional statement means.
 */
export interface Statement {
  readonly Effect?: unknown;
  readonly Principal?: unknown;
  readonly Action?: unknown;
  readonly Condition?: unknown;
}

export const asList = (value: unknown): string[] =>
  Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [];

/** The statements of a policy document; undefined when it is not valid JSON. */
export function statementsOf(policy: string): Statement[] | undefined {
  try {
    const document = JSON.parse(policy) as { Statement?: unknown };
    return (Array.isArray(document.Statement) ? document.Statement : [document.Statement]).filter(
      (s): s is Statement => typeof s === 'object' && s !== null,
    );
  } catch {
    return undefined;
  }
}

/** IAM action matching: case-insensitive, `*` and `?` wildcards. */
export function actionMatches(pattern: string, action: string): boolean {
  const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return regex.test(action);
}

export function grantsAction(statement: Statement, action: string): boolean {
  return asList(statement.Action).some((a) => actionMatches(a, action));
}

/** The `AWS` principals of a statement (`"*"` as a bare Principal counts as `AWS: "*"`). */
export function awsPrincipals(statement: Statement): string[] {
  const principal = statement.Principal;
  if (principal === '*') return ['*'];
  if (typeof principal !== 'object' || principal === null) return [];
  return asList((principal as Record<string, unknown>).AWS);
}

/**
 * Whether a policy's AWS principal names `callerArn` (an IAM user, IAM role or STS assumed-role
 * session of `account`): `*`, the account id or its root ARN (which delegates to the account's IAM
 * policies), the caller's own ARN, or the role an assumed-role session belongs to (IAM user guide,
 * "AWS JSON policy elements: Principal").
 */
export function principalNames(principal: string, callerArn: string, account: string): boolean {
  if (principal === '*' || principal === account || principal === `arn:aws:iam::${account}:root`) return true;
  if (principal === callerArn) return true;
  const session = /^arn:aws:sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/.exec(callerArn);
  const role = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(principal);
  return Boolean(session && role && session[1] === role[1] && session[2] === role[2]);
}
