/**
 * Team mode: the pipeline's own infrastructure, one stack `keyrotor-pipeline-<account>-<region>`
 * (only when the config has a `pipeline` section), applied once by an administrator (`rotate
 * bootstrap` writes it; the deploy workflow never plans it, see buildBootstrapApp):
 *  - the DynamoDB state table, when `state.type` is `dynamodb`, exactly as DynamoDbStateStore
 *    reads and writes it (and as its ensureTable() creates it for tests and the demo);
 *  - the CI identity in the team account (`access.ciRole`, default `keyrotor-ci`): the one role
 *    GitHub OIDC may assume — for the rotation environments, the deploy's environments and its
 *    plan job — and whose only permission is AssumeRole of the declared roles;
 *  - the pipeline role in every account with key rings (and in the team account when the table
 *    is there), trusted by the CI identity only, with the least-privilege inline policy of
 *    pipeline-role-policy.ts: the pipeline's calls, Terraform's calls for the key stacks (it is
 *    the role Terraform applies with: the key policy reserves PutKeyPolicy for it), the state table
 *    and the Terraform backend objects where they live;
 *  - the GitHub OIDC provider in the team account, unless `oidcProviderArn` names an existing one.
 *
 * Providers: the team account's uses the administrator's own credentials; every other account's
 * assumes `access.bootstrapRoleName` there (default OrganizationAccountAccessRole, which AWS
 * Organizations creates in member accounts, trusted by the management account), so one
 * administrator session applies the whole stack. Every provider is pinned with
 * allowed_account_ids, so wrong credentials fail instead of creating roles elsewhere.
 */
import { ConfigError } from '../pipeline/errors';
import type { AccessConfig, Config, PipelineInfraConfig } from '../pipeline/config/types';
import { accessOf, roleArnIn, sameRole } from '../pipeline/config/access';
import { pipelineRoleAccounts, pipelineRoleMismatches } from '../pipeline/config/rules';
import { KEYROTOR_PROVIDER_DEFAULT_TAGS } from '../pipeline/key-tags';
import {
  AwsProvider,
  DynamodbTable,
  IamOpenidConnectProvider,
  IamRole,
  IamRolePolicy,
  TerraformStack,
  type Construct,
} from './cdktf';
import { declareBackend } from './key-stack';
import { REQUIRED_TERRAFORM_VERSION } from './terraform-version';
import {
  GITHUB_OIDC_AUDIENCE,
  GITHUB_OIDC_HOST,
  ciRolePolicy,
  ciRoleTrustPolicy,
  githubOidcProviderArn,
  INLINE_ROLE_POLICY_MAX_CHARS,
  pipelineRolePolicy,
  pipelineRoleTrustPolicy,
  policySize,
  stateTableOf,
  type StateTableRef,
} from './pipeline-role-policy';

/**
 * The table layout of DynamoDbStateStore (pipeline/state/dynamodb-store.ts): partition key `pk`,
 * sort key `sk`, both strings, on-demand. Changing any of these replaces the table; the stack test
 * compares them with what the store's own ensureTable() creates.
 */
export const STATE_TABLE_PARTITION_KEY = 'pk';
export const STATE_TABLE_SORT_KEY = 'sk';
export const STATE_TABLE_BILLING_MODE = 'PAY_PER_REQUEST';

export const PIPELINE_ROLE_POLICY_NAME = 'keyrotor-pipeline';
export const CI_ROLE_POLICY_NAME = 'keyrotor-ci';

export function pipelineStackNameFor(pipeline: Pick<PipelineInfraConfig, 'account' | 'region'>): string {
  return `keyrotor-pipeline-${pipeline.account}-${pipeline.region}`;
}

export interface PipelineStackProps {
  readonly config: Config;
}

export class PipelineStack extends TerraformStack {
  readonly pipeline: PipelineInfraConfig;
  readonly stateTable?: DynamodbTable;
  /** The CI identity (team account). */
  readonly ciRole: IamRole;
  /** The pipeline role by account. */
  readonly roles: ReadonlyMap<string, IamRole>;

  constructor(scope: Construct, props: PipelineStackProps) {
    const { config } = props;
    const pipeline = config.pipeline;
    const access = accessOf(config);
    if (!pipeline || !access?.ciRole) throw new TypeError('PipelineStack needs config.pipeline; buildBootstrapApp only declares it in team mode');
    // The same rule loadConfig runs; repeated here because the app builders also take hand-built configs.
    const mismatches = pipelineRoleMismatches(config);
    if (mismatches.length > 0) {
      throw new ConfigError(config.file, mismatches, `make each key ring's pipelineRole the role this stack declares, then run \`rotate bootstrap\` again`);
    }
    const name = pipelineStackNameFor(pipeline);
    super(scope, name);
    this.pipeline = pipeline;

    const defaultTags = [{ tags: { ...KEYROTOR_PROVIDER_DEFAULT_TAGS } }];
    new AwsProvider(this, 'aws', { region: pipeline.region, allowedAccountIds: [pipeline.account], defaultTags });
    declareBackend(this, name, config.backend);
    this.addOverride('terraform.required_version', REQUIRED_TERRAFORM_VERSION);

    const table = stateTableOf(config);
    if (table) this.stateTable = declareStateTable(this, table);
    this.ciRole = declareCiRole(this, config, pipeline, access);

    const roles = new Map<string, IamRole>();
    for (const account of pipelineRoleAccounts(config)) {
      const provider =
        account === pipeline.account
          ? undefined
          : new AwsProvider(this, `aws_${account}`, {
              alias: `account_${account}`,
              region: pipeline.region,
              allowedAccountIds: [account],
              defaultTags,
              assumeRole: [{ roleArn: roleArnIn(account, access.bootstrapRoleName), sessionName: BOOTSTRAP_SESSION_NAME }],
            });
      roles.set(account, declarePipelineRole(this, { account, pipeline, access, config, table, provider, ciRole: this.ciRole }));
    }
    this.roles = roles;
  }
}

/** Session name of the bootstrap apply's assumed roles, as CloudTrail shows them. */
export const BOOTSTRAP_SESSION_NAME = 'keyrotor-bootstrap';

function declareStateTable(stack: TerraformStack, table: StateTableRef): DynamodbTable {
  const resource = new DynamodbTable(stack, 'state_table', {
    name: table.table,
    billingMode: STATE_TABLE_BILLING_MODE,
    hashKey: STATE_TABLE_PARTITION_KEY,
    rangeKey: STATE_TABLE_SORT_KEY,
    attribute: [
      { name: STATE_TABLE_PARTITION_KEY, type: 'S' },
      { name: STATE_TABLE_SORT_KEY, type: 'S' },
    ],
    // The table holds the ledgers (which keys are live) and the audit chain: losing it loses the
    // record of what may be deleted. Hence PITR, deletion protection and prevent_destroy.
    pointInTimeRecovery: { enabled: true },
    serverSideEncryption: { enabled: true },
    deletionProtectionEnabled: true,
    lifecycle: { preventDestroy: true },
  });
  resource.overrideLogicalId('state_table');
  return resource;
}

/** `arn:aws:iam::<a>:role/<path/>name` → its path (`/` when none) and name. */
function roleParts(arn: string): { path: string; name: string } {
  const rest = arn.slice(arn.indexOf(':role/') + ':role/'.length);
  const slash = rest.lastIndexOf('/');
  return slash < 0 ? { path: '/', name: rest } : { path: `/${rest.slice(0, slash)}/`, name: rest.slice(slash + 1) };
}

function declareCiRole(stack: TerraformStack, config: Config, pipeline: PipelineInfraConfig, access: AccessConfig): IamRole {
  let oidc: IamOpenidConnectProvider | undefined;
  if (!pipeline.oidcProviderArn) {
    // No thumbprint: IAM trusts GitHub's OIDC issuer through its own root CA library.
    oidc = new IamOpenidConnectProvider(stack, 'github_oidc', { url: `https://${GITHUB_OIDC_HOST}`, clientIdList: [GITHUB_OIDC_AUDIENCE] });
    oidc.overrideLogicalId('github_oidc');
  }
  const { path, name } = roleParts(access.ciRole!);
  // The provider ARN is deterministic, so the trust policy is a literal (reviewable in the plan);
  // depends_on orders the provider first.
  const role = new IamRole(stack, 'ci_role', {
    name,
    ...(path === '/' ? {} : { path }),
    description: `keyrotor CI identity: GitHub Actions of ${pipeline.github.repository}; may only assume the roles keyrotor declares`,
    assumeRolePolicy: JSON.stringify(ciRoleTrustPolicy(pipeline, access, pipeline.oidcProviderArn ?? githubOidcProviderArn(pipeline.account))),
    maxSessionDuration: 3600,
    ...(oidc ? { dependsOn: [oidc] } : {}),
  });
  role.overrideLogicalId('ci_role');
  const assumable = [
    ...Object.values(access.accounts).flatMap((r) => [r.pipelineRole, r.terraformRole]),
    ...(access.stateRole ? [access.stateRole] : []),
    ...(access.backendRole && config.backend.type === 's3' ? [access.backendRole] : []),
  ];
  const policy = new IamRolePolicy(stack, 'ci_role_policy', { name: CI_ROLE_POLICY_NAME, role: role.name, policy: JSON.stringify(ciRolePolicy(assumable)) });
  policy.overrideLogicalId('ci_role_policy');
  return role;
}

interface RoleInputs {
  readonly account: string;
  readonly pipeline: PipelineInfraConfig;
  readonly access: AccessConfig;
  readonly config: Config;
  readonly table: StateTableRef | undefined;
  readonly provider: AwsProvider | undefined;
  readonly ciRole: IamRole;
}

function declarePipelineRole(stack: TerraformStack, inputs: RoleInputs): IamRole {
  const { account, pipeline, access, config, table, provider, ciRole } = inputs;
  const onProvider = provider ? { provider } : {};
  const roleArn = roleArnIn(account, pipeline.roleName);
  const backend = config.backend.type === 's3' && access.backendRole && sameRole(access.backendRole, roleArn) ? { bucket: config.backend.bucket, keyPrefix: config.backend.keyPrefix } : undefined;
  const document = pipelineRolePolicy(account, config.keyrings, table, { monitoring: config.monitoring, ...(backend ? { backend } : {}) });
  const size = policySize(document);
  if (size > INLINE_ROLE_POLICY_MAX_CHARS) {
    throw new ConfigError(config.file, [
      `pipeline: the inline policy of the pipeline role in account ${account} is ${size} characters, above IAM's ${INLINE_ROLE_POLICY_MAX_CHARS}; split the account's key rings or shorten their aliases`,
    ]);
  }

  // IAM checks a trust policy's principals exist when it is written: the CI identity comes first.
  const role = new IamRole(stack, `pipeline_role_${account}`, {
    name: pipeline.roleName,
    description: `keyrotor pipeline in ${account}: rotations and Terraform applies, assumed from the CI identity ${access.ciRole}`,
    assumeRolePolicy: JSON.stringify(pipelineRoleTrustPolicy(access.ciRole!)),
    maxSessionDuration: 3600,
    dependsOn: [ciRole],
    ...onProvider,
  });
  role.overrideLogicalId(`pipeline_role_${account}`);

  if (document.Statement.length > 0) {
    const policy = new IamRolePolicy(stack, `pipeline_role_policy_${account}`, {
      name: PIPELINE_ROLE_POLICY_NAME,
      role: role.name,
      policy: JSON.stringify(document),
      ...onProvider,
    });
    policy.overrideLogicalId(`pipeline_role_policy_${account}`);
  }
  return role;
}
