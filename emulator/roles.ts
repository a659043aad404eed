import type { Caller } from './operation';
import { principalNames } from './policy-document';
import { AwsServiceError } from './service-error';

// IAM user guide, "IAM identifiers": arn:aws:iam::<account>:role/<optional path/>name.
const ROLE_ARN = /^arn:aws:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;

/** An IAM role callers may assume: who its trust policy lets assume it, and its maximum session. */
export interface RoleDefinition {
  readonly arn: string;
  /**
   * Principals the trust policy allows (`Principal.AWS` entries): an account id or
   * `arn:aws:iam::<account>:root` (any principal of that account), an IAM user or role ARN (a role
   * ARN admits that role's sessions: role chaining), or `*`.
   */
  readonly trustedPrincipals: readonly string[];
  /** MaxSessionDuration, 3600–43200 seconds; default 3600 (IAM CreateRole API reference). */
  readonly maxSessionDurationSeconds?: number;
}

export interface Role extends RoleDefinition {
  readonly account: string;
  readonly name: string;
}

/** Parses a role ARN; undefined when it is not one. */
export function parseRoleArn(arn: string): { account: string; name: string } | undefined {
  const match = ROLE_ARN.exec(arn);
  return match ? { account: match[1]!, name: match[2]! } : undefined;
}

/** The IAM roles of the organization that STS AssumeRole can hand out sessions for. */
export class RoleRegistry {
  private readonly roles = new Map<string, Role>();

  constructor(seed: readonly RoleDefinition[] = []) {
    for (const role of seed) this.add(role);
  }

  /** Adds or replaces a role (a changed trust policy takes effect at the next AssumeRole). */
  add(role: RoleDefinition): void {
    const parsed = parseRoleArn(role.arn);
    if (!parsed) throw new AwsServiceError('ValidationException', `role ARN ${role.arn} must look like arn:aws:iam::<account>:role/<name>.`);
    const max = role.maxSessionDurationSeconds ?? 3600;
    if (!Number.isInteger(max) || max < 3600 || max > 43_200) {
      throw new AwsServiceError('ValidationException', `maxSessionDurationSeconds ${max} of ${role.arn} must be an integer from 3600 to 43200.`);
    }
    if (role.trustedPrincipals.some((p) => typeof p !== 'string' || p === '')) {
      throw new AwsServiceError('ValidationException', `trustedPrincipals of ${role.arn} must be non-empty strings.`);
    }
    this.roles.set(role.arn, { ...role, ...parsed, maxSessionDurationSeconds: max });
  }

  get(arn: string): Role | undefined {
    return this.roles.get(arn);
  }

  /** Whether the role's trust policy lets `caller` assume it. */
  trusts(role: Role, caller: Caller): boolean {
    return role.trustedPrincipals.some((p) => principalNames(p, caller.arn, caller.account));
  }
}
