/**
 * The team-mode roles' documents, as pure functions of the config: the CI identity's GitHub OIDC
 * trust and its one permission (AssumeRole of the declared roles), each pipeline role's trust (the
 * CI identity) and least-privilege inline policy. Every pipeline action here is one the pipeline
 * actually calls (grep `Command(` in pipeline/ and scripts/ic-helper/), and every Terraform action
 * one the AWS provider calls for the key stacks' resources (in `Terraform*` statements), spelled
 * out — no `kms:*`, no `iam:*`, no `Create*`-style wildcards that would quietly grow as AWS adds APIs.
 *
 * Scoping, and why each statement is shaped the way it is:
 *  - CreateKey has no resource; it is conditioned on the request tag every pipeline key carries
 *    (`keyrotor:managed-by`, see createKeyTags) and on the only key spec/usage the pipeline makes.
 *    Tagging at CreateKey needs kms:TagResource in an IAM policy covering all keys of the account
 *    and Region (KMS "Controlling access to tags"), conditioned on the same request tag.
 *  - Key actions that change or use a key are conditioned on `aws:ResourceTag/keyrotor:managed-by`,
 *    which the stacks' provider default tags and the pipeline's CreateKey both set.
 *  - DescribeKey and ListResourceTags stay unconditioned on the account's keys: `adopt` describes a
 *    key created outside keyrotor (not yet tagged), and a resumed create-key lists the tags of every
 *    key to find the one its run created. Both are reads of metadata only.
 *  - Alias actions need permission on the alias AND on the key(s); an alias carries no tags, so the
 *    alias ARNs (the configured ones only) get their own statement.
 *  - One explicit Deny: CreateKey with BypassPolicyLockoutSafetyCheck (DESIGN: never).
 */
import type { AccessConfig, Config, KeyRingConfig, MonitoringConfig, PipelineInfraConfig } from '../pipeline/config/types';
import { KEYROTOR_PROVIDER_DEFAULT_TAGS } from '../pipeline/key-tags';
import { keyRegions } from '../pipeline/config/multi-region';

export const GITHUB_OIDC_HOST = 'token.actions.githubusercontent.com';
export const GITHUB_OIDC_AUDIENCE = 'sts.amazonaws.com';

const [MANAGED_BY_TAG, MANAGED_BY_VALUE] = Object.entries(KEYROTOR_PROVIDER_DEFAULT_TAGS)[0]!;

/** CreateKey (create-key stage). */
export const PIPELINE_CREATE_KEY_ACTIONS: readonly string[] = ['kms:CreateKey'];
/** Implied by CreateKey's Tags parameter. */
export const PIPELINE_TAG_ON_CREATE_ACTIONS: readonly string[] = ['kms:TagResource'];
/** ListKeys has no resource type (resumed create-key scans the account's keys). */
export const PIPELINE_LIST_KEYS_ACTIONS: readonly string[] = ['kms:ListKeys'];
/** Metadata reads on any key of the account (adopt, resumed create-key). */
export const PIPELINE_KEY_METADATA_ACTIONS: readonly string[] = ['kms:DescribeKey', 'kms:ListResourceTags'];
/** Everything else the stages do to a keyrotor-managed key. */
export const PIPELINE_MANAGED_KEY_ACTIONS: readonly string[] = [
  'kms:CancelKeyDeletion', // cancel-deletion
  'kms:CreateAlias', // promote-alias / retire-alias (the key side)
  'kms:Decrypt', // verify-key round trip
  'kms:DeleteAlias',
  'kms:DisableKey', // soak (optional), create-key undo
  'kms:EnableKey', // soak undo, cancel-deletion
  'kms:EnableKeyRotation', // create-key
  'kms:Encrypt', // verify-key round trip
  'kms:GetKeyLastUsage', // integration-checks evidence for approvers
  'kms:GetKeyPolicy', // verify-key
  'kms:GetKeyRotationStatus', // create-key resume, rotate-material
  'kms:ListKeyRotations', // rotate-material budget and wait, rotate status
  'kms:ReplicateKey', // create-key of a multi-Region key ring (the replica also needs CreateKey in its Region)
  'kms:RotateKeyOnDemand', // rotate-material
  'kms:ScheduleKeyDeletion', // schedule-deletion (after the approval gate)
  'kms:UpdateAlias', // promote-alias
];
/** The alias side of the alias actions. */
export const PIPELINE_ALIAS_ACTIONS: readonly string[] = ['kms:CreateAlias', 'kms:DeleteAlias', 'kms:UpdateAlias'];
/** preflight / switch-identity-center and the Identity Center helper. */
export const PIPELINE_SSO_ACTIONS: readonly string[] = ['sso:DescribeInstance', 'sso:ListRegions', 'sso:UpdateInstance'];
/** integration-checks: an Identity Store read proves the instance can still decrypt. */
export const PIPELINE_IDENTITY_STORE_ACTIONS: readonly string[] = ['identitystore:ListUsers'];
/** DynamoDbStateStore's item calls. Not CreateTable/DescribeTable: Terraform owns the table. */
export const PIPELINE_STATE_TABLE_ACTIONS: readonly string[] = [
  'dynamodb:DeleteItem',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:Query',
  'dynamodb:UpdateItem',
];

export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly Principal?: Record<string, string>;
  readonly Condition?: Record<string, Record<string, string | readonly string[]>>;
}

export interface PolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: readonly PolicyStatement[];
}

/** IAM's limit on the inline policies of one role (characters, whitespace excluded). */
export const INLINE_ROLE_POLICY_MAX_CHARS = 10_240;

export function githubOidcProviderArn(account: string): string {
  return `arn:aws:iam::${account}:oidc-provider/${GITHUB_OIDC_HOST}`;
}

/**
 * The OIDC subjects the CI identity trusts: the rotation workflow's environments
 * (`pipeline.github.environments`), the deploy's environments (`access.github.deployEnvironments`,
 * its apply job) and the deploy's plan job (`access.github.planSubjects`, main only by default).
 */
export function githubOidcSubjects(pipeline: PipelineInfraConfig, access?: Pick<AccessConfig, 'github'>): string[] {
  const environments = [...pipeline.github.environments, ...(access?.github.deployEnvironments ?? [])];
  const suffixes = [...new Set(environments)].map((env) => `environment:${env}`).concat(access?.github.planSubjects ?? []);
  return [...new Set(suffixes)].map((suffix) => `repo:${pipeline.github.repository}:${suffix}`);
}

/** The CI identity's trust: only this repository's workflows with those subjects, audience STS. */
export function ciRoleTrustPolicy(pipeline: PipelineInfraConfig, access: Pick<AccessConfig, 'github'> | undefined, providerArn: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'GitHubActions',
        Effect: 'Allow',
        Principal: { Federated: providerArn },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          // StringEquals, not StringLike: the subjects are exact, never patterns.
          StringEquals: {
            [`${GITHUB_OIDC_HOST}:aud`]: GITHUB_OIDC_AUDIENCE,
            [`${GITHUB_OIDC_HOST}:sub`]: githubOidcSubjects(pipeline, access),
          },
        },
      },
    ],
  };
}

/** The CI identity may do one thing: assume the roles `access` declares (nothing else in any account). */
export function ciRolePolicy(roleArns: readonly string[]): PolicyDocument {
  return { Version: '2012-10-17', Statement: [{ Sid: 'AssumeDeclaredRoles', Effect: 'Allow', Action: ['sts:AssumeRole'], Resource: distinctSorted(roleArns) }] };
}

/** A pipeline role's trust: the CI identity only (role chaining from GitHub OIDC). */
export function pipelineRoleTrustPolicy(ciRoleArn: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [{ Sid: 'CiIdentity', Effect: 'Allow', Principal: { AWS: ciRoleArn }, Action: 'sts:AssumeRole' }],
  };
}

export interface StateTableRef {
  readonly account: string;
  readonly region: string;
  readonly table: string;
}

/** What else a pipeline role serves besides the pipeline's own calls. */
export interface PipelineRoleExtras {
  /** Terraform applies the key stacks with this role: their monitoring resources (when enabled). */
  readonly monitoring?: MonitoringConfig;
  /** Terraform's S3 backend assumes this role: the state objects under the key prefix. */
  readonly backend?: { readonly bucket: string; readonly keyPrefix: string };
}

/**
 * The inline policy of the pipeline role in `account`: KMS, Identity Center and Identity Store
 * statements for the key rings of that account (empty when it has none) — what the pipeline calls
 * and what Terraform's provider calls to apply the key stacks with the same role —, plus the state
 * table and Terraform's backend objects when they live in that account.
 */
export function pipelineRolePolicy(account: string, keyrings: readonly KeyRingConfig[], stateTable?: StateTableRef, extras: PipelineRoleExtras = {}): PolicyDocument {
  const own = keyrings.filter((k) => k.account === account);
  const statements: PolicyStatement[] =
    own.length === 0 ? [] : kmsStatements(account, own).concat(identityCenterStatements(own), terraformStatements(account, own, extras.monitoring));
  if (extras.backend) statements.push(...backendStatements(extras.backend));
  if (stateTable && stateTable.account === account) {
    statements.push({
      Sid: 'StateTableItems',
      Effect: 'Allow',
      Action: PIPELINE_STATE_TABLE_ACTIONS,
      Resource: `arn:aws:dynamodb:${stateTable.region}:${stateTable.account}:table/${stateTable.table}`,
    });
  }
  return { Version: '2012-10-17', Statement: statements };
}

/** The state table the pipeline stack declares, when the config keeps its state in DynamoDB. */
export function stateTableOf(config: Pick<Config, 'state' | 'pipeline'>): StateTableRef | undefined {
  if (config.state.type !== 'dynamodb' || !config.pipeline) return undefined;
  return { account: config.pipeline.account, region: config.state.region, table: config.state.table };
}

function kmsStatements(account: string, keyrings: readonly KeyRingConfig[]): PolicyStatement[] {
  // A multi-Region key ring's keys (and alias) live in its replica Regions too.
  const regions = distinctSorted(keyrings.flatMap((k) => keyRegions(k)));
  const keysOfAccount = regions.map((region) => `arn:aws:kms:${region}:${account}:key/*`);
  const managed = { StringEquals: { [`aws:ResourceTag/${MANAGED_BY_TAG}`]: MANAGED_BY_VALUE } };
  const requestTagged = { [`aws:RequestTag/${MANAGED_BY_TAG}`]: MANAGED_BY_VALUE };
  return [
    {
      Sid: 'CreateManagedKeys',
      Effect: 'Allow',
      Action: PIPELINE_CREATE_KEY_ACTIONS,
      Resource: '*',
      Condition: { StringEquals: { ...requestTagged, 'kms:KeySpec': 'SYMMETRIC_DEFAULT', 'kms:KeyUsage': 'ENCRYPT_DECRYPT' } },
    },
    {
      Sid: 'NeverBypassLockoutCheck',
      Effect: 'Deny',
      Action: PIPELINE_CREATE_KEY_ACTIONS,
      Resource: '*',
      Condition: { Bool: { 'kms:BypassPolicyLockoutSafetyCheck': 'true' } },
    },
    { Sid: 'TagKeysAtCreation', Effect: 'Allow', Action: PIPELINE_TAG_ON_CREATE_ACTIONS, Resource: keysOfAccount, Condition: { StringEquals: requestTagged } },
    { Sid: 'ListKeys', Effect: 'Allow', Action: PIPELINE_LIST_KEYS_ACTIONS, Resource: '*' },
    { Sid: 'ReadKeyMetadata', Effect: 'Allow', Action: PIPELINE_KEY_METADATA_ACTIONS, Resource: keysOfAccount },
    { Sid: 'ManageManagedKeys', Effect: 'Allow', Action: PIPELINE_MANAGED_KEY_ACTIONS, Resource: keysOfAccount, Condition: managed },
    {
      Sid: 'ConfiguredAliases',
      Effect: 'Allow',
      Action: PIPELINE_ALIAS_ACTIONS,
      // An alias ARN is arn:aws:kms:<region>:<account>:alias/<name> for the alias name alias/<name>.
      Resource: distinctSorted(keyrings.flatMap((k) => keyRegions(k).map((region) => `arn:aws:kms:${region}:${account}:${k.alias}`))),
    },
  ];
}

/**
 * Terraform's own calls for the key stacks beyond the pipeline's (AWS provider: aws_kms_key reads
 * and updates policy, description and tags; aws_kms_alias lists aliases; the monitoring resources),
 * in statements of their own so the pipeline's least privilege stays checkable by itself.
 */
export const TERRAFORM_MANAGED_KEY_ACTIONS: readonly string[] = ['kms:PutKeyPolicy', 'kms:TagResource', 'kms:UntagResource', 'kms:UpdateKeyDescription'];
export const TERRAFORM_LIST_ALIASES_ACTIONS: readonly string[] = ['kms:ListAliases'];
export const TERRAFORM_SNS_ACTIONS: readonly string[] = [
  'sns:CreateTopic',
  'sns:DeleteTopic',
  'sns:GetSubscriptionAttributes',
  'sns:GetTopicAttributes',
  'sns:ListSubscriptionsByTopic',
  'sns:ListTagsForResource',
  'sns:SetTopicAttributes',
  'sns:Subscribe',
  'sns:TagResource',
  'sns:Unsubscribe',
  'sns:UntagResource',
];
export const TERRAFORM_EVENTS_ACTIONS: readonly string[] = [
  'events:DeleteRule',
  'events:DescribeRule',
  'events:ListTagsForResource',
  'events:ListTargetsByRule',
  'events:PutRule',
  'events:PutTargets',
  'events:RemoveTargets',
  'events:TagResource',
  'events:UntagResource',
];
export const TERRAFORM_CONFIG_RULE_ACTIONS: readonly string[] = ['config:DeleteConfigRule', 'config:DescribeConfigRules', 'config:ListTagsForResource', 'config:PutConfigRule', 'config:TagResource', 'config:UntagResource'];
/** The S3 backend: list the prefix, read and write the state, write and remove the lockfile. */
export const TERRAFORM_BACKEND_OBJECT_ACTIONS: readonly string[] = ['s3:DeleteObject', 's3:GetObject', 's3:PutObject'];

function terraformStatements(account: string, keyrings: readonly KeyRingConfig[], monitoring: MonitoringConfig | undefined): PolicyStatement[] {
  const regions = distinctSorted(keyrings.map((k) => k.region));
  const statements: PolicyStatement[] = [
    {
      Sid: 'TerraformManagedKeys',
      Effect: 'Allow',
      Action: TERRAFORM_MANAGED_KEY_ACTIONS,
      Resource: regions.map((region) => `arn:aws:kms:${region}:${account}:key/*`),
      Condition: { StringEquals: { [`aws:ResourceTag/${MANAGED_BY_TAG}`]: MANAGED_BY_VALUE } },
    },
    { Sid: 'TerraformListAliases', Effect: 'Allow', Action: TERRAFORM_LIST_ALIASES_ACTIONS, Resource: '*' },
  ];
  if (monitoring?.enabled) {
    statements.push(
      { Sid: 'TerraformMonitoringTopic', Effect: 'Allow', Action: TERRAFORM_SNS_ACTIONS, Resource: regions.map((r) => `arn:aws:sns:${r}:${account}:${monitoring.snsTopicName}`) },
      { Sid: 'TerraformMonitoringRules', Effect: 'Allow', Action: TERRAFORM_EVENTS_ACTIONS, Resource: regions.map((r) => `arn:aws:events:${r}:${account}:rule/${monitoring.snsTopicName}-*`) },
    );
    // Config rule ARNs carry an id AWS generates, so they cannot be named ahead of time.
    if (monitoring.configRules) statements.push({ Sid: 'TerraformConfigRules', Effect: 'Allow', Action: TERRAFORM_CONFIG_RULE_ACTIONS, Resource: '*' });
  }
  return statements;
}

function backendStatements(backend: { readonly bucket: string; readonly keyPrefix: string }): PolicyStatement[] {
  return [
    { Sid: 'TerraformStateList', Effect: 'Allow', Action: ['s3:ListBucket'], Resource: `arn:aws:s3:::${backend.bucket}`, Condition: { StringLike: { 's3:prefix': `${backend.keyPrefix}/*` } } },
    { Sid: 'TerraformStateObjects', Effect: 'Allow', Action: TERRAFORM_BACKEND_OBJECT_ACTIONS, Resource: `arn:aws:s3:::${backend.bucket}/${backend.keyPrefix}/*` },
  ];
}

function identityCenterStatements(keyrings: readonly KeyRingConfig[]): PolicyStatement[] {
  const attached = keyrings.flatMap((k) => (k.identityCenter ? [k.identityCenter] : []));
  if (attached.length === 0) return [];
  return [
    { Sid: 'IdentityCenterEncryption', Effect: 'Allow', Action: PIPELINE_SSO_ACTIONS, Resource: distinctSorted(attached.map((ic) => ic.instanceArn)) },
    {
      Sid: 'IdentityStoreRead',
      Effect: 'Allow',
      Action: PIPELINE_IDENTITY_STORE_ACTIONS,
      // ListUsers is authorized on the identity store and on its users.
      Resource: [...distinctSorted(attached.map((ic) => ic.identityStoreArn)), 'arn:aws:identitystore:::user/*'],
    },
  ];
}

function distinctSorted(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}

/** Policy size as IAM counts it (whitespace excluded). */
export function policySize(document: PolicyDocument): number {
  return JSON.stringify(document).replace(/\s/g, '').length;
}
