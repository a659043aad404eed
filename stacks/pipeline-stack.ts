/**
 * Team mode: the pipeline's own infrastructure, one stack `keyrotor-pipeline-<account>-<region>`
 * (only when the config has a `pipeline` section):
 *  - the DynamoDB state table, when `state.type` is `dynamodb`, exactly as DynamoDbStateStore
 *    reads and writes it (and as its ensureTable() creates it for tests and the demo);
 *  - the pipeline role in every account with key rings (and in the team account when the table
 *    is there), trusted by GitHub OIDC for the configured environments, with the least-privilege
 *    inline policy of pipeline-role-policy.ts;
 *  - the GitHub OIDC provider in each of those accounts, unless `oidcProviderArn` names an
 *    existing one (an account holds at most one provider per issuer URL).
 *
 * Why one stack with an aliased provider per account rather than the role in each key stack: IAM
 * is global, so the role needs no Region of its own; keeping every team-mode resource here leaves
 * the key stacks' output untouched and puts the whole trust surface of CI in one reviewable plan.
 * The price: applying this stack needs credentials for each role account (every provider is pinned
 * with allowed_account_ids, so wrong credentials fail instead of creating roles elsewhere).
 */
import { ConfigError } from '../pipeline/errors';
import type { Config, PipelineInfraConfig } from '../pipeline/config/types';
import { pipelineRoleAccounts, pipelineRoleMismatches } from '../pipeline/config/rules';
import { GITHUB_OIDC_PROVIDER_ARN_PATTERN } from '../pipeline/config/schema';
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
  githubOidcProviderArn,
  INLINE_ROLE_POLICY_MAX_CHARS,
  pipelineRolePolicy,
  pipelineTrustPolicy,
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

export function pipelineStackNameFor(pipeline: Pick<PipelineInfraConfig, 'account' | 'region'>): string {
  return `keyrotor-pipeline-${pipeline.account}-${pipeline.region}`;
}

export interface PipelineStackProps {
  readonly config: Config;
}

export class PipelineStack extends TerraformStack {
  readonly pipeline: PipelineInfraConfig;
  readonly stateTable?: DynamodbTable;
  /** The pipeline role by account. */
  readonly roles: ReadonlyMap<string, IamRole>;

  constructor(scope: Construct, props: PipelineStackProps) {
    const { config } = props;
    const pipeline = config.pipeline;
    if (!pipeline) throw new TypeError('PipelineStack needs config.pipeline; buildApp only declares it in team mode');
    // The same rule loadConfig runs; repeated here because buildApp also takes hand-built configs.
    const mismatches = pipelineRoleMismatches(config);
    if (mismatches.length > 0) {
      throw new ConfigError(config.file, mismatches, `make each key ring's pipelineRole the role this stack declares, then run \`rotate synth\` again`);
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

    const roles = new Map<string, IamRole>();
    for (const account of pipelineRoleAccounts(config)) {
      const provider =
        account === pipeline.account
          ? undefined
          : new AwsProvider(this, `aws_${account}`, { alias: `account_${account}`, region: pipeline.region, allowedAccountIds: [account], defaultTags });
      roles.set(account, declarePipelineRole(this, { account, pipeline, config, table, provider }));
    }
    this.roles = roles;
  }
}

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

interface RoleInputs {
  readonly account: string;
  readonly pipeline: PipelineInfraConfig;
  readonly config: Config;
  readonly table: StateTableRef | undefined;
  readonly provider: AwsProvider | undefined;
}

function declarePipelineRole(stack: TerraformStack, inputs: RoleInputs): IamRole {
  const { account, pipeline, config, table, provider } = inputs;
  const onProvider = provider ? { provider } : {};
  const providerAccount = pipeline.oidcProviderArn === undefined ? undefined : GITHUB_OIDC_PROVIDER_ARN_PATTERN.exec(pipeline.oidcProviderArn)?.[1];
  const existingProvider = providerAccount === account ? pipeline.oidcProviderArn : undefined;

  let oidc: IamOpenidConnectProvider | undefined;
  if (!existingProvider) {
    // No thumbprint: IAM trusts GitHub's OIDC issuer through its own root CA library.
    oidc = new IamOpenidConnectProvider(stack, `github_oidc_${account}`, { url: `https://${GITHUB_OIDC_HOST}`, clientIdList: [GITHUB_OIDC_AUDIENCE], ...onProvider });
    oidc.overrideLogicalId(`github_oidc_${account}`);
  }

  const document = pipelineRolePolicy(account, config.keyrings, table);
  const size = policySize(document);
  if (size > INLINE_ROLE_POLICY_MAX_CHARS) {
    throw new ConfigError(config.file, [
      `pipeline: the inline policy of the pipeline role in account ${account} is ${size} characters, above IAM's ${INLINE_ROLE_POLICY_MAX_CHARS}; split the account's key rings or shorten their aliases`,
    ]);
  }

  // The provider ARN is deterministic, so the trust policy is a literal (reviewable in the plan);
  // depends_on orders the provider first.
  const role = new IamRole(stack, `pipeline_role_${account}`, {
    name: pipeline.roleName,
    description: `keyrotor pipeline: GitHub Actions of ${pipeline.github.repository} in environments ${pipeline.github.environments.join(', ')}`,
    assumeRolePolicy: JSON.stringify(pipelineTrustPolicy(pipeline, existingProvider ?? githubOidcProviderArn(account))),
    maxSessionDuration: 3600,
    ...(oidc ? { dependsOn: [oidc] } : {}),
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
