/**
 * The least-privilege key policy of a key ring, shared by the stacks (aws_kms_key.policy) and the
 * pipeline's CreateKey, so a key the pipeline created is adopted by Terraform without a diff.
 *
 * Statements, in this fixed order (Sids in sids.ts):
 *  1. the account root (AWS's documented default statement; lets IAM policies in the account apply)
 *  2. named key administrators (management, no cryptography), 3. named key users (cryptography),
 *  4. the pipeline role (administration + the verify round trip),
 *  5–8. with Identity Center: the AWS baseline (services describe / use, organization principals and
 *     AWS managed applications through the services), 9–10. delegated administrator accounts,
 *  11. deny without TLS, 12. deny destructive actions to everyone but the admins and the pipeline,
 *  13. deny them to humans without MFA, 14. deny BypassPolicyLockoutSafetyCheck,
 *  15. deny ScheduleKeyDeletion with a window below the key ring's (the floor).
 */
import { KeyrotorError } from '../errors';
import type { IdentityCenterAttachment, KeyRingConfig } from '../config/types';
import {
  DELEGATED_ADMIN_VIA_SERVICE_ACTIONS,
  DESTRUCTIVE_ACTIONS,
  IDENTITY_CENTER_CONTEXT_KEYS,
  IDENTITY_CENTER_DESCRIBE_ACTIONS,
  IDENTITY_CENTER_SERVICE_PRINCIPALS,
  IDENTITY_CENTER_SERVICE_USE_ACTIONS,
  IDENTITY_CENTER_VIA_SERVICES,
  IDENTITY_CENTER_VIA_SERVICE_ACTIONS,
  IDENTITY_STORE_CONTEXT_KEY,
  KEY_ADMIN_ACTIONS,
  KEY_USER_ACTIONS,
  PIPELINE_ROLE_ACTIONS,
  PUT_KEY_POLICY,
  SCHEDULE_KEY_DELETION,
  SSO_INSTANCE_CONTEXT_KEY,
} from './actions';
import { SID } from './sids';
import type { KeyPolicyDocument, PolicyConditions, PolicyStatement } from './types';

export type { KeyPolicyDocument, PolicyStatement } from './types';

/** KMS rejects key policies above 32 KB (PutKeyPolicy / CreateKey `Policy`). */
export const KEY_POLICY_MAX_BYTES = 32 * 1024;

export class KeyPolicyTooLargeError extends KeyrotorError {
  constructor(readonly bytes: number, subject: string) {
    super(`the key policy of ${subject} is ${bytes} bytes, above KMS's limit of ${KEY_POLICY_MAX_BYTES} bytes`, {
      fault: 'operator',
      nextStep: 'list fewer key administrators/users in the config (grant groups of roles through IAM policies instead), then run `rotate lint`',
    });
  }
}

export function accountRootArn(account: string): string {
  return `arn:aws:iam::${account}:root`;
}

const uniqueSorted = (values: readonly string[]): string[] => [...new Set(values)].sort();

export function buildKeyPolicy(keyring: KeyRingConfig): KeyPolicyDocument {
  const admins = uniqueSorted(keyring.keyAdministrators);
  const statements: PolicyStatement[] = [
    allow(SID.accountRoot, { AWS: accountRootArn(keyring.account) }, 'kms:*'),
    allow(SID.keyAdministrators, { AWS: admins }, KEY_ADMIN_ACTIONS),
  ];
  if (keyring.keyUsers.length > 0) {
    statements.push(allow(SID.keyUsers, { AWS: uniqueSorted(keyring.keyUsers) }, KEY_USER_ACTIONS));
  }
  if (keyring.pipelineRole !== undefined) {
    statements.push(allow(SID.pipelineRole, { AWS: keyring.pipelineRole }, PIPELINE_ROLE_ACTIONS));
  }
  if (keyring.identityCenter) statements.push(...identityCenterStatements(keyring.account, keyring.identityCenter));
  statements.push(...guardrailStatements(keyring, admins));
  return { Version: '2012-10-17', Statement: statements };
}

/**
 * AWS's Identity Center baseline ("Baseline KMS key policy statements", IAM Identity Center user
 * guide), with two deliberate differences: the key's own account is covered by statement 1 rather
 * than a second root statement, and delegated administrator accounts get DescribeKey plus the
 * actions Identity Center performs for them (not `kms:*`, which the current baseline grants).
 */
function identityCenterStatements(account: string, ic: IdentityCenterAttachment): PolicyStatement[] {
  const contextKeys = { 'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': IDENTITY_CENTER_CONTEXT_KEYS } };
  const viaServices = { StringLike: { 'kms:ViaService': IDENTITY_CENTER_VIA_SERVICES } };
  // Per-instance scoping. IfExists because each request carries only its own service's key (sso
  // requests the instance ARN, identitystore requests the store ARN); the context-keys condition
  // above guarantees at least one is present, and any present one must be ours. AWS cannot scope
  // DescribeKey this way (it takes no encryption context), so the describe statements carry none.
  const scope: PolicyConditions = ic.scopeToInstance
    ? {
        StringEqualsIfExists: {
          [`kms:EncryptionContext:${SSO_INSTANCE_CONTEXT_KEY}`]: ic.instanceArn,
          [`kms:EncryptionContext:${IDENTITY_STORE_CONTEXT_KEY}`]: ic.identityStoreArn,
        },
      }
    : {};
  const services = { Service: IDENTITY_CENTER_SERVICE_PRINCIPALS };
  const sourceAccount = { StringEquals: { 'aws:SourceAccount': account } };
  const statements: PolicyStatement[] = [
    allow(SID.identityCenterDescribe, services, IDENTITY_CENTER_DESCRIBE_ACTIONS, sourceAccount),
    allow(SID.identityCenterUse, services, IDENTITY_CENTER_SERVICE_USE_ACTIONS, { ...sourceAccount, ...contextKeys, ...scope }),
    allow(SID.identityCenterOrganization, { AWS: '*' }, IDENTITY_CENTER_VIA_SERVICE_ACTIONS, {
      StringEquals: { 'aws:PrincipalOrgID': ic.organizationId },
      ...viaServices,
      ...contextKeys,
      ...scope,
    }),
    allow(SID.identityCenterManagedApps, { AWS: '*' }, IDENTITY_CENTER_VIA_SERVICE_ACTIONS, {
      Bool: { 'aws:PrincipalIsAWSService': 'true' },
      StringEquals: { 'aws:SourceOrgID': ic.organizationId },
      ...viaServices,
      ...contextKeys,
      ...scope,
    }),
  ];
  const delegated = uniqueSorted(ic.delegatedAdminAccounts).map(accountRootArn);
  if (delegated.length > 0) {
    statements.push(
      allow(SID.delegatedAdminsDescribe, { AWS: delegated }, IDENTITY_CENTER_DESCRIBE_ACTIONS),
      allow(SID.delegatedAdminsUse, { AWS: delegated }, DELEGATED_ADMIN_VIA_SERVICE_ACTIONS, { ...viaServices, ...contextKeys, ...scope }),
    );
  }
  return statements;
}

function guardrailStatements(keyring: KeyRingConfig, admins: readonly string[]): PolicyStatement[] {
  const pipeline = keyring.pipelineRole === undefined ? [] : [keyring.pipelineRole];
  return [
    // `Bool` (not BoolIfExists): requests without the key, e.g. from AWS services on their own
    // TLS channels, are not denied; KMS endpoints are TLS-only anyway, so this is belt and braces.
    deny(SID.denyWithoutTls, 'kms:*', { Bool: { 'aws:SecureTransport': 'false' } }),
    deny(SID.denyDestructiveToOthers, DESTRUCTIVE_ACTIONS, {
      ArnNotEquals: { 'aws:PrincipalArn': uniqueSorted([...admins, ...pipeline]) },
    }),
    // Humans (the admin roles) must have signed in with MFA. The pipeline role is exempt: CI assumes
    // it through OIDC (AssumeRoleWithWebIdentity), whose sessions never carry MFA, so requiring it
    // would lock the pipeline out of the very steps it exists to run; its guard is the approval gate.
    // BoolIfExists: sessions without the key at all (long-term keys) count as "no MFA".
    deny(SID.denyDestructiveWithoutMfa, DESTRUCTIVE_ACTIONS, {
      BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' },
      ...(pipeline.length > 0 ? { ArnNotEquals: { 'aws:PrincipalArn': pipeline } } : {}),
    }),
    // The lockout safety check is what stops a PutKeyPolicy from making the key unmanageable.
    deny(SID.denyBypassLockoutCheck, PUT_KEY_POLICY, { Bool: { 'kms:BypassPolicyLockoutSafetyCheck': 'true' } }),
    deny(SID.denyShortDeletionWindow, SCHEDULE_KEY_DELETION, {
      NumericLessThan: { 'kms:ScheduleKeyDeletionPendingWindowInDays': String(keyring.rotation.deletionWindowDays) },
    }),
  ];
}

function allow(
  sid: string,
  principal: NonNullable<PolicyStatement['Principal']>,
  action: string | readonly string[],
  condition?: PolicyConditions,
): PolicyStatement {
  return statement(sid, 'Allow', principal, action, condition);
}

function deny(sid: string, action: string | readonly string[], condition: PolicyConditions): PolicyStatement {
  return statement(sid, 'Deny', '*', action, condition);
}

function statement(
  sid: string,
  effect: 'Allow' | 'Deny',
  principal: NonNullable<PolicyStatement['Principal']>,
  action: string | readonly string[],
  condition?: PolicyConditions,
): PolicyStatement {
  return {
    Sid: sid,
    Effect: effect,
    Principal: principal,
    Action: action,
    Resource: '*',
    ...(condition && Object.keys(condition).length > 0 ? { Condition: condition } : {}),
  };
}

/**
 * The policy as KMS and Terraform receive it: 2-space JSON, statement fields in IAM's usual order,
 * condition operators and keys sorted. Same document → byte-identical text, whatever order the
 * caller built it in. Throws KeyPolicyTooLargeError past KMS's 32 KB.
 */
export function renderKeyPolicy(doc: KeyPolicyDocument, subject = 'this key'): string {
  const text = JSON.stringify(normalize(doc), null, 2);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > KEY_POLICY_MAX_BYTES) throw new KeyPolicyTooLargeError(bytes, subject);
  return text;
}

const STATEMENT_FIELD_ORDER = ['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'Condition'] as const;

function normalize(doc: KeyPolicyDocument): KeyPolicyDocument {
  return {
    Version: doc.Version,
    ...(doc.Id === undefined ? {} : { Id: doc.Id }),
    Statement: doc.Statement.map((s) => {
      const out: Record<string, unknown> = {};
      for (const field of STATEMENT_FIELD_ORDER) {
        const value = s[field];
        if (value === undefined) continue;
        out[field] = field === 'Condition' ? sortConditions(value as PolicyConditions) : sortPrincipal(field, value);
      }
      return out as unknown as PolicyStatement;
    }),
  };
}

function sortPrincipal(field: string, value: unknown): unknown {
  if ((field !== 'Principal' && field !== 'NotPrincipal') || typeof value !== 'object' || value === null) return value;
  return sortKeys(value as Record<string, unknown>);
}

function sortConditions(conditions: PolicyConditions): PolicyConditions {
  const out: Record<string, Record<string, string | readonly string[]>> = {};
  for (const operator of Object.keys(conditions).sort()) out[operator] = sortKeys(conditions[operator]!);
  return out;
}

function sortKeys<T>(record: Readonly<Record<string, T>>): Record<string, T> {
  return Object.fromEntries(Object.keys(record).sort().map((k) => [k, record[k]!]));
}
