/**
 * Policy lint: pure functions over a key policy document, so the same rules run on what a stack is
 * about to synthesize (the CDKTF Aspect in stacks/), on the config (`rotate lint`) and on a policy
 * fetched from AWS. Each finding names the statement Sid and the rule.
 *
 * Identity Center never re-validates a key policy after the switch: a bad edit later locks the
 * organization out. That is why these rules fail synth instead of warning.
 */
import type { Config, KeyRingConfig } from '../config/types';
import { PUT_KEY_POLICY, SCHEDULE_KEY_DELETION } from './actions';
import { accountRootArn, buildKeyPolicy, renderKeyPolicy } from './builder';
import { identityCenterGaps } from './identity-center';
import { asList, coversAction, grantsAllKmsActions, hasConditions, hasWildcardPrincipal, principalsOf } from './read';
import { SID } from './sids';
import type { KeyPolicyDocument, PolicyStatement } from './types';

/** The smallest pending window KMS accepts for ScheduleKeyDeletion. */
export const MINIMUM_DELETION_WINDOW_DAYS = 7;

export type LintRule =
  | 'wildcard-principal-without-conditions'
  | 'kms-star-for-non-admin'
  | 'identity-center-statement-missing'
  | 'deletion-window-below-floor'
  | 'bypass-lockout-safety-check'
  | 'policy-too-large';

export interface LintFinding {
  /** The statement at fault, or the Sid of the statement that is missing. */
  readonly sid: string;
  readonly rule: LintRule;
  readonly message: string;
  /** Set by lintConfig. */
  readonly keyring?: string;
}

export interface LintContext {
  readonly keyring: KeyRingConfig;
}

type StatementRule = (statement: PolicyStatement, sid: string, context: LintContext) => LintFinding[];
type DocumentRule = (doc: KeyPolicyDocument, context: LintContext) => LintFinding[];

const wildcardPrincipalWithoutConditions: StatementRule = (s, sid) =>
  s.Effect === 'Allow' && hasWildcardPrincipal(s) && !hasConditions(s)
    ? [
        {
          sid,
          rule: 'wildcard-principal-without-conditions',
          message: 'allows any principal ("*") with no Condition; anyone with AWS credentials could use the key — name the principals or add conditions (aws:PrincipalOrgID, kms:ViaService)',
        },
      ]
    : [];

/** `kms:*` belongs only to account roots: the key's own account and Identity Center's delegated administrator accounts. */
const kmsStarForNonAdmin: StatementRule = (s, sid, { keyring }) => {
  if (s.Effect !== 'Allow' || !grantsAllKmsActions(s)) return [];
  const adminRoots = new Set([keyring.account, ...(keyring.identityCenter?.delegatedAdminAccounts ?? [])].flatMap((a) => [a, accountRootArn(a)]));
  const principals = [...principalsOf(s.Principal, 'AWS'), ...principalsOf(s.Principal, 'Service')];
  const others = s.NotPrincipal !== undefined ? ['NotPrincipal (everyone else)'] : principals.filter((p) => !adminRoots.has(p));
  if (others.length === 0) return [];
  return [
    {
      sid,
      rule: 'kms-star-for-non-admin',
      message: `grants every KMS action (${asList(s.Action).join(', ') || 'NotAction'}) to ${others.join(', ')}; only the account root may hold kms:* — list the needed actions (see pipeline/policy/actions.ts)`,
    },
  ];
};

const bypassLockoutSafetyCheck: StatementRule = (s, sid) => {
  if (s.Effect !== 'Allow' || !coversAction(s, PUT_KEY_POLICY)) return [];
  const allowsBypass = Object.values(s.Condition ?? {}).some((block) =>
    Object.entries(block).some(([key, value]) => key.toLowerCase() === 'kms:bypasspolicylockoutsafetycheck' && asList(value).includes('true')),
  );
  return allowsBypass
    ? [{ sid, rule: 'bypass-lockout-safety-check', message: 'allows kms:PutKeyPolicy with BypassPolicyLockoutSafetyCheck; keyrotor never bypasses the check — remove the condition' }]
    : [];
};

const identityCenterStatementsPresent: DocumentRule = (doc, { keyring }) => {
  if (!keyring.identityCenter) return [];
  return identityCenterGaps(doc, { account: keyring.account, includeOrganizationStatements: true }).map((gap) => ({
    sid: gap.sid,
    rule: 'identity-center-statement-missing' as const,
    message: `key ring ${keyring.name} is attached to Identity Center but the policy has ${gap.missing}; Identity Center would fail to use the key`,
  }));
};

const deletionWindowFloor: DocumentRule = (doc, { keyring }) => {
  const window = keyring.rotation.deletionWindowDays;
  if (window < MINIMUM_DELETION_WINDOW_DAYS) {
    return [
      {
        sid: SID.denyShortDeletionWindow,
        rule: 'deletion-window-below-floor',
        message: `key ring ${keyring.name} has deletionWindowDays ${window}, below KMS's minimum of ${MINIMUM_DELETION_WINDOW_DAYS}`,
      },
    ];
  }
  const floors = doc.Statement.filter((s) => s.Effect === 'Deny' && coversAction(s, SCHEDULE_KEY_DELETION)).flatMap((s) =>
    floorOf(s) === undefined ? [] : [{ sid: s.Sid, floor: floorOf(s)! }],
  );
  if (floors.length === 0) {
    return [
      {
        sid: SID.denyShortDeletionWindow,
        rule: 'deletion-window-below-floor',
        message: `no Deny of kms:ScheduleKeyDeletion below the key ring's window of ${window} days (kms:ScheduleKeyDeletionPendingWindowInDays); anyone allowed to delete could pick 7`,
      },
    ];
  }
  const strongest = floors.reduce((a, b) => (b.floor > a.floor ? b : a));
  return strongest.floor >= window
    ? []
    : [
        {
          sid: strongest.sid,
          rule: 'deletion-window-below-floor',
          message: `denies deletion windows below ${strongest.floor} days, weaker than the key ring's window of ${window} days; raise the floor to ${window}`,
        },
      ];
};

/** The smallest window a Deny statement still permits, from NumericLessThan(Equals) on the pending window. */
function floorOf(s: PolicyStatement): number | undefined {
  for (const [operator, block] of Object.entries(s.Condition ?? {})) {
    for (const [key, value] of Object.entries(block)) {
      if (key.toLowerCase() !== 'kms:schedulekeydeletionpendingwindowindays') continue;
      const n = Number(asList(value)[0]);
      if (operator === 'NumericLessThan') return n;
      if (operator === 'NumericLessThanEquals') return n + 1;
    }
  }
  return undefined;
}

const STATEMENT_RULES: readonly StatementRule[] = [wildcardPrincipalWithoutConditions, kmsStarForNonAdmin, bypassLockoutSafetyCheck];
const DOCUMENT_RULES: readonly DocumentRule[] = [identityCenterStatementsPresent, deletionWindowFloor];

/** Every rule broken by `doc` as the key policy of `context.keyring`; empty when clean. */
export function lintKeyPolicy(doc: KeyPolicyDocument, context: LintContext): LintFinding[] {
  const statementFindings = doc.Statement.flatMap((s, index) => {
    const sid = s.Sid || `Statement[${index}]`;
    return STATEMENT_RULES.flatMap((rule) => rule(s, sid, context));
  });
  return [...statementFindings, ...DOCUMENT_RULES.flatMap((rule) => rule(doc, context))];
}

/** Builds and lints every key ring's policy (including the 32 KB limit). */
export function lintConfig(config: Config): LintFinding[] {
  return config.keyrings.flatMap((keyring) => {
    const doc = buildKeyPolicy(keyring);
    const findings: LintFinding[] = lintKeyPolicy(doc, { keyring });
    try {
      renderKeyPolicy(doc, `key ring ${keyring.name}`);
    } catch (error) {
      findings.push({ sid: '(whole policy)', rule: 'policy-too-large', message: (error as Error).message });
    }
    return findings.map((f) => ({ ...f, keyring: keyring.name }));
  });
}

/** One line per finding, for terminals and error messages. */
export function describeFinding(finding: LintFinding): string {
  const where = finding.keyring === undefined ? '' : `key ring ${finding.keyring}: `;
  return `${where}statement "${finding.sid}" breaks ${finding.rule}: ${finding.message}`;
}
