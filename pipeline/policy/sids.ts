/**
 * Statement ids of the key policy. They are an interface: lint findings, the verify-key stage and
 * the emulator name statements by them, so a Sid is never renamed. Alphanumeric only (IAM's Sid
 * grammar), which is why the account statement is `EnableIAMUserPermissions` rather than the
 * console's "Enable IAM User Permissions".
 */
export const SID = {
  /** AWS's documented default key policy statement: the account root may use IAM policies for this key. */
  accountRoot: 'EnableIAMUserPermissions',
  keyAdministrators: 'AllowKeyAdministrators',
  keyUsers: 'AllowKeyUsers',
  pipelineRole: 'AllowKeyrotorPipelineRole',
  identityCenterDescribe: 'AllowIdentityCenterAndIdentityStoreToDescribeKey',
  identityCenterUse: 'AllowIdentityCenterAndIdentityStoreToUseKey',
  identityCenterOrganization: 'AllowOrganizationPrincipalsViaIdentityCenter',
  identityCenterManagedApps: 'AllowAWSManagedApplicationsViaIdentityCenter',
  delegatedAdminsDescribe: 'AllowIdentityCenterDelegatedAdminsToDescribeKey',
  delegatedAdminsUse: 'AllowIdentityCenterDelegatedAdminsViaIdentityCenter',
  denyWithoutTls: 'DenyRequestsWithoutTLS',
  denyDestructiveToOthers: 'DenyDestructiveActionsExceptAdminsAndPipeline',
  denyDestructiveWithoutMfa: 'DenyDestructiveActionsWithoutMFA',
  denyBypassLockoutCheck: 'DenyBypassPolicyLockoutSafetyCheck',
  denyShortDeletionWindow: 'DenyDeletionWindowBelowFloor',
} as const;

export type StatementId = (typeof SID)[keyof typeof SID];

/** The Identity Center baseline statements an attached key ring's policy must carry. */
export const REQUIRED_IDENTITY_CENTER_SIDS: readonly StatementId[] = [
  SID.identityCenterDescribe,
  SID.identityCenterUse,
  SID.identityCenterOrganization,
  SID.identityCenterManagedApps,
];
