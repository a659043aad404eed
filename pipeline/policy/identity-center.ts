/**
 * Does a key policy let Identity Center use the key? Checked by meaning, not by Sid: a policy
 * written by hand (or by an older keyrotor) with other Sids passes when its statements grant the
 * same thing. Used by the lint, the pipeline's verify-key stage (on the policy GetKeyPolicy
 * returns) and the emulator's UPDATE_FAILED rule.
 *
 * Only explicit `Service` principals count for the service statements; a `"*"` principal is not
 * taken as covering them (its conditions usually exclude services, and it is what the lint flags).
 */
import {
  IDENTITY_CENTER_DESCRIBE_ACTIONS,
  IDENTITY_CENTER_SERVICE_PRINCIPALS,
  IDENTITY_CENTER_SERVICE_USE_ACTIONS,
  IDENTITY_CENTER_VIA_SERVICE_ACTIONS,
} from './actions';
import { conditionKeys, coversAction, hasConditions, hasWildcardPrincipal, principalsOf } from './read';
import { SID, type StatementId } from './sids';
import type { KeyPolicyDocument, PolicyStatement } from './types';

export { REQUIRED_IDENTITY_CENTER_SIDS } from './sids';

export interface IdentityCenterCheckOptions {
  /** The key's account: a service statement whose aws:SourceAccount names another account does not count. */
  readonly account?: string;
  /** Also require the organization-principal and managed-application statements. Default false. */
  readonly includeOrganizationStatements?: boolean;
}

export interface IdentityCenterGap {
  /** The keyrotor statement that would provide it. */
  readonly sid: StatementId;
  readonly missing: string;
}

export function identityCenterGaps(doc: KeyPolicyDocument, options: IdentityCenterCheckOptions = {}): IdentityCenterGap[] {
  const statements = Array.isArray(doc.Statement) ? doc.Statement : [];
  const gaps: IdentityCenterGap[] = [];
  for (const service of IDENTITY_CENTER_SERVICE_PRINCIPALS) {
    const serviceAllows = (action: string) =>
      !deniedOutright(statements, action) &&
      statements.some(
        (s) =>
          s.Effect === 'Allow' &&
          principalsOf(s.Principal, 'Service').some((p) => p.toLowerCase() === service) &&
          coversAction(s, action) &&
          sourceAccountAllows(s, options.account),
      );
    for (const [sid, actions] of [
      [SID.identityCenterDescribe, IDENTITY_CENTER_DESCRIBE_ACTIONS],
      [SID.identityCenterUse, IDENTITY_CENTER_SERVICE_USE_ACTIONS],
    ] as const) {
      for (const action of actions) {
        if (!serviceAllows(action)) gaps.push({ sid, missing: `no Allow of ${action} for service principal ${service}` });
      }
    }
  }
  if (options.includeOrganizationStatements) {
    const viaServiceAllow = (requiredKey: string) =>
      IDENTITY_CENTER_VIA_SERVICE_ACTIONS.every((action) =>
        statements.some(
          (s) =>
            s.Effect === 'Allow' &&
            hasWildcardPrincipal(s) &&
            coversAction(s, action) &&
            conditionKeys(s).has('kms:viaservice') &&
            conditionKeys(s).has(requiredKey),
        ),
      );
    if (!viaServiceAllow('aws:principalorgid')) {
      gaps.push({
        sid: SID.identityCenterOrganization,
        missing: 'no Allow of kms:Decrypt for organization principals (aws:PrincipalOrgID) through kms:ViaService sso/identitystore',
      });
    }
    if (!viaServiceAllow('aws:principalisawsservice')) {
      gaps.push({
        sid: SID.identityCenterManagedApps,
        missing: 'no Allow of kms:Decrypt for AWS managed applications (aws:PrincipalIsAWSService) through kms:ViaService sso/identitystore',
      });
    }
  }
  return gaps;
}

/**
 * What a fetched policy (GetKeyPolicy's JSON) lacks for Identity Center, in words; empty when it
 * has everything. Not-JSON is itself a finding rather than an exception: callers report, not crash.
 */
export function missingIdentityCenterStatements(policyJson: string, options: IdentityCenterCheckOptions = {}): string[] {
  let doc: KeyPolicyDocument;
  try {
    doc = JSON.parse(policyJson) as KeyPolicyDocument;
  } catch {
    return ['the key policy is not valid JSON'];
  }
  if (typeof doc !== 'object' || doc === null || !Array.isArray(doc.Statement)) return ['the key policy has no Statement list'];
  return identityCenterGaps(doc, options).map((gap) => `${gap.missing} (keyrotor's statement ${gap.sid})`);
}

function deniedOutright(statements: readonly PolicyStatement[], action: string): boolean {
  return statements.some((s) => s.Effect === 'Deny' && hasWildcardPrincipal(s) && !hasConditions(s) && coversAction(s, action));
}

function sourceAccountAllows(statement: PolicyStatement, account: string | undefined): boolean {
  if (account === undefined) return true;
  for (const [operator, block] of Object.entries(statement.Condition ?? {})) {
    if (!/^String(Equals|Like)/i.test(operator)) continue;
    for (const [key, value] of Object.entries(block)) {
      if (key.toLowerCase() !== 'aws:sourceaccount') continue;
      const values = typeof value === 'string' ? [value] : value;
      if (!values.includes(account)) return false;
    }
  }
  return true;
}
