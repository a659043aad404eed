/**
 * Every action list, principal and condition key the key policy uses, in one place (the
 * aws-cdk-lib `aws-kms` style), so the builder, the lint and the verify-key stage agree.
 * Lists are explicit: no `kms:Create*`-style wildcards, which would quietly grow as KMS adds APIs.
 */

/** Key administration: manage the key and its aliases, never use it for cryptography, never grant. */
export const KEY_ADMIN_ACTIONS: readonly string[] = [
  'kms:CancelKeyDeletion',
  'kms:CreateAlias',
  'kms:DeleteAlias',
  'kms:DescribeKey',
  'kms:DisableKey',
  'kms:DisableKeyRotation',
  'kms:EnableKey',
  'kms:EnableKeyRotation',
  'kms:GetKeyPolicy',
  'kms:GetKeyRotationStatus',
  'kms:ListGrants',
  'kms:ListKeyPolicies',
  'kms:ListKeyRotations',
  'kms:ListResourceTags',
  'kms:PutKeyPolicy',
  'kms:RevokeGrant',
  'kms:RotateKeyOnDemand',
  'kms:ScheduleKeyDeletion',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:UpdateAlias',
  'kms:UpdateKeyDescription',
];

/** Symmetric encryption use (the actions of AWS's "Allow use of the key" statement, spelled out). */
export const KEY_USER_ACTIONS: readonly string[] = [
  'kms:Decrypt',
  'kms:DescribeKey',
  'kms:Encrypt',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
];

/**
 * The pipeline role: administration (it promotes aliases, enables rotation, schedules deletion and
 * must pass CreateKey's lockout safety check, which requires the caller to keep kms:PutKeyPolicy),
 * the verify-key stage's Encrypt/Decrypt round trip, and GetKeyLastUsage for approval evidence.
 */
export const PIPELINE_ROLE_ACTIONS: readonly string[] = [
  ...KEY_ADMIN_ACTIONS,
  'kms:Decrypt',
  'kms:Encrypt',
  'kms:GetKeyLastUsage',
].sort();

/** Irreversible or lock-out-capable actions: admin roles and the pipeline only, humans with MFA. */
export const DESTRUCTIVE_ACTIONS: readonly string[] = ['kms:DisableKey', 'kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion'];

export const SCHEDULE_KEY_DELETION = 'kms:ScheduleKeyDeletion';
export const PUT_KEY_POLICY = 'kms:PutKeyPolicy';

/** The services Identity Center encrypts through (both must be allowed). */
export const IDENTITY_CENTER_SERVICE_PRINCIPALS: readonly string[] = ['identitystore.amazonaws.com', 'sso.amazonaws.com'];
/** `kms:ViaService` patterns for requests that reach KMS through Identity Center in any Region. */
export const IDENTITY_CENTER_VIA_SERVICES: readonly string[] = ['identitystore.*.amazonaws.com', 'sso.*.amazonaws.com'];
/** Encryption context keys Identity Center and Identity Store put on every request. */
export const SSO_INSTANCE_CONTEXT_KEY = 'aws:sso:instance-arn';
export const IDENTITY_STORE_CONTEXT_KEY = 'aws:identitystore:identitystore-arn';
export const IDENTITY_CENTER_CONTEXT_KEYS: readonly string[] = [IDENTITY_STORE_CONTEXT_KEY, SSO_INSTANCE_CONTEXT_KEY];

export const IDENTITY_CENTER_DESCRIBE_ACTIONS: readonly string[] = ['kms:DescribeKey'];
export const IDENTITY_CENTER_SERVICE_USE_ACTIONS: readonly string[] = [
  'kms:Decrypt',
  'kms:GenerateDataKeyWithoutPlaintext',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
];
/** Organization principals and AWS managed applications only read through the services. */
export const IDENTITY_CENTER_VIA_SERVICE_ACTIONS: readonly string[] = ['kms:Decrypt'];
/** Delegated administrators manage Identity Center through its console/API, which encrypts and decrypts for them. */
export const DELEGATED_ADMIN_VIA_SERVICE_ACTIONS: readonly string[] = [
  'kms:Decrypt',
  'kms:Encrypt',
  'kms:GenerateDataKeyWithoutPlaintext',
];
