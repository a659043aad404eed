/**
 * Team mode: the pipeline stack's synthesized JSON — the state table as DynamoDbStateStore creates
 * it, the CI identity (GitHub OIDC trust, AssumeRole of the declared roles only), each pipeline
 * role's trust (the CI identity) and least-privilege policy (checked against the AWS calls the
 * pipeline source actually makes, plus Terraform's own), and the guard rails (pipelineRole
 * mismatch, no stack without `pipeline`, the key stacks' assume_role).
 */
import * as fs from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Config } from '../../pipeline/config/types';
import { ConfigError } from '../../pipeline/errors';
import { DynamoDbStateStore } from '../../pipeline/state/dynamodb-store';
import { buildApp, buildBootstrapApp, pipelineStackOf } from '../../stacks/app';
import { Testing } from '../../stacks/cdktf';
import type { PolicyDocument, PolicyStatement } from '../../stacks/pipeline-role-policy';
import { ACCOUNT_A, ACCOUNT_B, config, IDENTITY_CENTER, keyring, synthAll, type StackJson } from './helpers';

const createDynalite = require('dynalite') as (options: Record<string, unknown>) => Server;

const REPO = 'example-org/keyrotor';
const STACK = `keyrotor-pipeline-${ACCOUNT_A}-us-east-1`;
const PROVIDER_A = `arn:aws:iam::${ACCOUNT_A}:oidc-provider/token.actions.githubusercontent.com`;

const ic = keyring({ name: 'identity-center', alias: 'alias/identity-center', identityCenter: IDENTITY_CENTER, keyUsers: [] });
const audit = keyring({ name: 'org-audit-logs', alias: 'alias/org/audit-logs', region: 'eu-west-1' });
const payments = keyring({ name: 'payments-data', alias: 'alias/payments/data', account: ACCOUNT_B, region: 'eu-west-1' });

const PIPELINE = {
  account: ACCOUNT_A,
  region: 'us-east-1',
  roleName: 'keyrotor-pipeline',
  github: { repository: REPO, environments: ['rotation', 'key-deletion'] },
} as const;

function teamConfig(overrides: Partial<Config> = {}): Config {
  return config([ic, audit, payments], {
    state: { type: 'dynamodb', table: 'keyrotor-state', region: 'us-east-1' },
    pipeline: PIPELINE,
    ...overrides,
  });
}

function synthPipeline(cfg: Config): StackJson {
  const app = buildBootstrapApp(cfg, { outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'keyrotor-pipeline-')) });
  const stack = pipelineStackOf(app);
  if (!stack) throw new Error('no pipeline stack was declared');
  expect(stack.node.id).toBe(STACK);
  return JSON.parse(Testing.synth(stack)) as StackJson;
}

function roleOf(stack: StackJson, account: string): Record<string, any> {
  return stack.resource.aws_iam_role![`pipeline_role_${account}`]!;
}

function policyOf(stack: StackJson, account: string): PolicyDocument {
  return JSON.parse(stack.resource.aws_iam_role_policy![`pipeline_role_policy_${account}`]!.policy) as PolicyDocument;
}

function statement(doc: PolicyDocument, sid: string): PolicyStatement {
  const found = doc.Statement.find((s) => s.Sid === sid);
  if (!found) throw new Error(`no statement ${sid} in ${doc.Statement.map((s) => s.Sid).join(', ')}`);
  return found;
}

const list = (value: string | readonly string[] | undefined): string[] => (value === undefined ? [] : typeof value === 'string' ? [value] : [...value]);
const allowedActions = (doc: PolicyDocument): Set<string> => new Set(doc.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => list(s.Action)));

/** `<prefix>:<Operation>` for every `new <Operation>Command(` of the given SDK package in the pipeline's source. */
function operationsCalled(sdkPackage: string, prefix: string, dirs: readonly string[]): Set<string> {
  const root = path.join(__dirname, '..', '..');
  const out = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts')) {
        const text = fs.readFileSync(full, 'utf8');
        // Commands imported from this package (a file may import from several SDK clients)...
        const imported = new Set<string>();
        for (const block of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'([^']+)'/g)) {
          if (block[2] !== sdkPackage) continue;
          for (const name of block[1]!.matchAll(/\b([A-Z][A-Za-z]+)Command\b/g)) imported.add(name[1]!);
        }
        // ...and actually sent.
        for (const call of text.matchAll(/new ([A-Z][A-Za-z]+)Command\(/g)) if (imported.has(call[1]!)) out.add(`${prefix}:${call[1]}`);
      }
    }
  };
  for (const dir of dirs) walk(path.join(root, dir));
  return out;
}

describe('without a pipeline section', () => {
  test('GIVEN a config without `pipeline` WHEN the bootstrap app is built THEN it is refused naming the missing section, and the key stacks\' app has no pipeline stack', () => {
    expect(() => buildBootstrapApp(config([ic, payments]))).toThrow(/pipeline: is not declared, so there is no team-mode infrastructure to bootstrap/);
    const app = buildApp(config([ic, payments]), new Map(), { outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'keyrotor-pipeline-')) });
    expect(pipelineStackOf(app)).toBeUndefined();
  });

  test('GIVEN the same key rings with and without `pipeline` THEN the key stacks differ only in the provider\'s and the backend\'s assume_role of the account\'s pipeline role', () => {
    const without = synthAll(config([ic, audit, payments]));
    const withTeamMode = synthAll(teamConfig());
    expect(Object.keys(withTeamMode)).toEqual(Object.keys(without));
    expect(pipelineStackOf(buildApp(teamConfig(), new Map(), { outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'keyrotor-pipeline-')) }))).toBeUndefined();
    for (const [name, stack] of Object.entries(withTeamMode)) {
      const account = name.split('-')[1]!;
      const session = { role_arn: `arn:aws:iam::${account}:role/keyrotor-pipeline`, session_name: 'keyrotor-terraform' };
      expect(stack.provider.aws[0]!.assume_role).toEqual([session]);
      expect(stack.terraform.backend.s3!.assume_role).toEqual({ role_arn: `arn:aws:iam::${ACCOUNT_A}:role/keyrotor-pipeline`, session_name: 'keyrotor-terraform' });
      const { assume_role: _p, ...provider } = stack.provider.aws[0]!;
      const { assume_role: _b, ...backend } = stack.terraform.backend.s3!;
      expect({ ...stack, provider: { aws: [provider] }, terraform: { ...stack.terraform, backend: { s3: backend } } }).toEqual(without[name]);
    }
  });
});

describe('the stack', () => {
  test('THEN its default provider is the administrator\'s in the team account, and each other role account\'s assumes the bootstrap role there', () => {
    const stack = synthPipeline(teamConfig());
    const tags = [{ tags: { 'keyrotor:managed-by': 'keyrotor' } }];
    expect(stack.provider.aws).toEqual([
      { region: 'us-east-1', allowed_account_ids: [ACCOUNT_A], default_tags: tags },
      {
        alias: `account_${ACCOUNT_B}`,
        region: 'us-east-1',
        allowed_account_ids: [ACCOUNT_B],
        default_tags: tags,
        assume_role: [{ role_arn: `arn:aws:iam::${ACCOUNT_B}:role/OrganizationAccountAccessRole`, session_name: 'keyrotor-bootstrap' }],
      },
    ]);
    expect(roleOf(stack, ACCOUNT_A).provider).toBeUndefined();
    expect(roleOf(stack, ACCOUNT_B).provider).toBe(`aws.account_${ACCOUNT_B}`);
  });

  test('THEN it uses the key stacks\' backend convention (<prefix>/<stack>.tfstate, lockfile), with the administrator\'s own credentials', () => {
    expect(synthPipeline(teamConfig()).terraform.backend).toEqual({
      s3: { bucket: 'org-tfstate', key: `keyrotor/${STACK}.tfstate`, region: 'us-east-1', encrypt: true, use_lockfile: true },
    });
  });
});

describe('the state table', () => {
  let server: Server;
  let client: DynamoDBClient;
  beforeAll(async () => {
    server = createDynalite({ createTableMs: 0 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    client = new DynamoDBClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  });
  afterAll(async () => {
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('GIVEN DynamoDB state THEN the table is the one DynamoDbStateStore.ensureTable() creates (keys, types, billing)', async () => {
    await new DynamoDbStateStore({ table: 'keyrotor-state', region: 'us-east-1', client }).ensureTable();
    const described = (await client.send(new DescribeTableCommand({ TableName: 'keyrotor-state' }))).Table!;

    const table = synthPipeline(teamConfig()).resource.aws_dynamodb_table!.state_table!;
    expect(table.name).toBe(described.TableName);
    expect(described.KeySchema).toHaveLength(2);
    expect(table.hash_key).toBe(described.KeySchema!.find((k) => k.KeyType === 'HASH')!.AttributeName);
    expect(table.range_key).toBe(described.KeySchema!.find((k) => k.KeyType === 'RANGE')!.AttributeName);
    expect(table.attribute).toEqual(described.AttributeDefinitions!.map((a) => ({ name: a.AttributeName, type: a.AttributeType })));
    expect(table.billing_mode).toBe(described.BillingModeSummary!.BillingMode);
  });

  test('THEN point-in-time recovery, server-side encryption, deletion protection and prevent_destroy are all on', () => {
    const table = synthPipeline(teamConfig()).resource.aws_dynamodb_table!.state_table!;
    expect(table.point_in_time_recovery).toEqual({ enabled: true });
    expect(table.server_side_encryption).toEqual({ enabled: true });
    expect(table.deletion_protection_enabled).toBe(true);
    expect(table.lifecycle).toEqual({ prevent_destroy: true });
  });

  test('GIVEN the file state store THEN no table is declared, and no role gets DynamoDB actions', () => {
    const stack = synthPipeline(teamConfig({ state: { type: 'file', dir: '/repo/state' } }));
    expect(stack.resource.aws_dynamodb_table).toBeUndefined();
    for (const account of [ACCOUNT_A, ACCOUNT_B]) expect([...allowedActions(policyOf(stack, account))].filter((a) => a.startsWith('dynamodb:'))).toEqual([]);
  });
});

describe('trust', () => {
  const ciRoleArn = `arn:aws:iam::${ACCOUNT_A}:role/keyrotor-ci`;

  test('THEN the CI identity alone trusts GitHub OIDC: audience sts.amazonaws.com, one exact subject per rotation and deploy environment and the plan job on main', () => {
    const stack = synthPipeline(teamConfig());
    const ci = stack.resource.aws_iam_role!.ci_role!;
    expect(ci.name).toBe('keyrotor-ci');
    expect((JSON.parse(ci.assume_role_policy) as PolicyDocument).Statement).toEqual([
      {
        Sid: 'GitHubActions',
        Effect: 'Allow',
        Principal: { Federated: PROVIDER_A },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
            'token.actions.githubusercontent.com:sub': [
              `repo:${REPO}:environment:rotation`,
              `repo:${REPO}:environment:key-deletion`,
              `repo:${REPO}:environment:production`,
              `repo:${REPO}:ref:refs/heads/main`,
            ],
          },
        },
      },
    ]);
  });

  test('THEN the CI identity may only assume the declared roles, and each pipeline role trusts only the CI identity', () => {
    const stack = synthPipeline(teamConfig());
    const ciPolicy = JSON.parse(stack.resource.aws_iam_role_policy!.ci_role_policy!.policy) as PolicyDocument;
    expect(ciPolicy.Statement).toEqual([
      { Sid: 'AssumeDeclaredRoles', Effect: 'Allow', Action: ['sts:AssumeRole'], Resource: [`arn:aws:iam::${ACCOUNT_A}:role/keyrotor-pipeline`, `arn:aws:iam::${ACCOUNT_B}:role/keyrotor-pipeline`] },
    ]);
    for (const account of [ACCOUNT_A, ACCOUNT_B]) {
      const trust = JSON.parse(roleOf(stack, account).assume_role_policy) as PolicyDocument;
      expect(trust.Statement).toEqual([{ Sid: 'CiIdentity', Effect: 'Allow', Principal: { AWS: ciRoleArn }, Action: 'sts:AssumeRole' }]);
      expect(roleOf(stack, account).name).toBe('keyrotor-pipeline');
      expect(roleOf(stack, account).depends_on).toEqual(['aws_iam_role.ci_role']);
    }
  });

  test('GIVEN no existing provider THEN only the team account declares the GitHub OIDC provider, and the CI identity depends on it', () => {
    const stack = synthPipeline(teamConfig());
    const providers = stack.resource.aws_iam_openid_connect_provider!;
    expect(Object.keys(providers)).toEqual(['github_oidc']);
    expect(providers.github_oidc).toEqual({ url: 'https://token.actions.githubusercontent.com', client_id_list: ['sts.amazonaws.com'] });
    expect(stack.resource.aws_iam_role!.ci_role!.depends_on).toEqual(['aws_iam_openid_connect_provider.github_oidc']);
  });

  test('GIVEN oidcProviderArn in the team account THEN the CI identity reuses it and no provider is declared', () => {
    const stack = synthPipeline(teamConfig({ pipeline: { ...PIPELINE, oidcProviderArn: PROVIDER_A } }));
    expect(stack.resource.aws_iam_openid_connect_provider).toBeUndefined();
    const ci = stack.resource.aws_iam_role!.ci_role!;
    expect((JSON.parse(ci.assume_role_policy) as PolicyDocument).Statement[0]!.Principal).toEqual({ Federated: PROVIDER_A });
    expect(ci.depends_on).toBeUndefined();
  });
});

describe('the inline policy', () => {
  const stack = synthPipeline(teamConfig());
  const policyA = policyOf(stack, ACCOUNT_A);
  const policyB = policyOf(stack, ACCOUNT_B);

  /** The pipeline's own statements: what Terraform alone needs is in `Terraform*` statements. */
  const pipelineOnly = (doc: PolicyDocument): PolicyDocument => ({ ...doc, Statement: doc.Statement.filter((st) => !st.Sid.startsWith('Terraform')) });

  test('THEN no action is a wildcard, and nothing of IAM or STS is granted', () => {
    for (const doc of [policyA, policyB]) {
      for (const action of allowedActions(doc)) {
        expect(action).not.toContain('*');
        expect(action).not.toMatch(/^(iam|sts):/);
      }
    }
  });

  test('THEN it allows every KMS, Identity Center and Identity Store call the pipeline source makes, and nothing it does not make', () => {
    const called = new Set([
      ...operationsCalled('@aws-sdk/client-kms', 'kms', ['pipeline', 'scripts']),
      ...operationsCalled('@aws-sdk/client-sso-admin', 'sso', ['pipeline', 'scripts']),
      ...operationsCalled('@aws-sdk/client-identitystore', 'identitystore', ['pipeline', 'scripts']),
    ]);
    // CreateKey's Tags parameter is authorized as kms:TagResource (KMS "Controlling access to tags").
    called.add('kms:TagResource');
    const granted = new Set([...allowedActions(pipelineOnly(policyA))].filter((a) => !a.startsWith('dynamodb:')));
    expect([...granted].sort()).toEqual([...called].sort());
  });

  test('THEN the state table actions are the store\'s item calls, on the table only, in the team account\'s role only', () => {
    const storeCalls = operationsCalled('@aws-sdk/client-dynamodb', 'dynamodb', ['pipeline/state']);
    // Terraform owns the table; CreateTable/DescribeTable serve ensureTable() for tests and the demo.
    for (const ownedByTerraform of ['dynamodb:CreateTable', 'dynamodb:DescribeTable']) storeCalls.delete(ownedByTerraform);
    const table = statement(policyA, 'StateTableItems');
    expect([...list(table.Action)].sort()).toEqual([...storeCalls].sort());
    expect(table.Resource).toBe(`arn:aws:dynamodb:us-east-1:${ACCOUNT_A}:table/keyrotor-state`);
    expect(policyB.Statement.find((s) => s.Sid === 'StateTableItems')).toBeUndefined();
  });

  test('THEN CreateKey is on "*" only with the managed-by request tag and the one key spec and usage, and the lockout bypass is denied', () => {
    expect(statement(policyA, 'CreateManagedKeys')).toEqual({
      Sid: 'CreateManagedKeys',
      Effect: 'Allow',
      Action: ['kms:CreateKey'],
      Resource: '*',
      Condition: { StringEquals: { 'aws:RequestTag/keyrotor:managed-by': 'keyrotor', 'kms:KeySpec': 'SYMMETRIC_DEFAULT', 'kms:KeyUsage': 'ENCRYPT_DECRYPT' } },
    });
    expect(statement(policyA, 'NeverBypassLockoutCheck')).toMatchObject({ Effect: 'Deny', Condition: { Bool: { 'kms:BypassPolicyLockoutSafetyCheck': 'true' } } });
    expect(statement(policyA, 'TagKeysAtCreation').Condition).toEqual({ StringEquals: { 'aws:RequestTag/keyrotor:managed-by': 'keyrotor' } });
  });

  test('THEN key mutations and crypto are on the account\'s keys in its key rings\' Regions, conditioned on the managed-by resource tag', () => {
    const managed = statement(policyA, 'ManageManagedKeys');
    expect(managed.Resource).toEqual([`arn:aws:kms:eu-west-1:${ACCOUNT_A}:key/*`, `arn:aws:kms:us-east-1:${ACCOUNT_A}:key/*`]);
    expect(managed.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/keyrotor:managed-by': 'keyrotor' } });
    expect(list(managed.Action)).toEqual(expect.arrayContaining(['kms:ScheduleKeyDeletion', 'kms:DisableKey', 'kms:Decrypt', 'kms:UpdateAlias']));
    expect(statement(policyB, 'ManageManagedKeys').Resource).toEqual([`arn:aws:kms:eu-west-1:${ACCOUNT_B}:key/*`]);
  });

  test('THEN alias actions name exactly the configured aliases of the account', () => {
    expect(statement(policyA, 'ConfiguredAliases').Resource).toEqual([
      `arn:aws:kms:eu-west-1:${ACCOUNT_A}:alias/org/audit-logs`,
      `arn:aws:kms:us-east-1:${ACCOUNT_A}:alias/identity-center`,
    ]);
    expect(statement(policyB, 'ConfiguredAliases').Resource).toEqual([`arn:aws:kms:eu-west-1:${ACCOUNT_B}:alias/payments/data`]);
  });

  test('GIVEN a multi-Region key ring THEN its keys and alias are covered in every replica Region too', () => {
    const multi = { ...ic, multiRegion: { replicaRegions: ['ap-southeast-2'] } };
    const doc = policyOf(synthPipeline(config([multi, audit, payments], { state: { type: 'dynamodb', table: 'keyrotor-state', region: 'us-east-1' }, pipeline: PIPELINE })), ACCOUNT_A);
    expect(statement(doc, 'ManageManagedKeys').Resource).toEqual(expect.arrayContaining([`arn:aws:kms:ap-southeast-2:${ACCOUNT_A}:key/*`, `arn:aws:kms:us-east-1:${ACCOUNT_A}:key/*`]));
    expect(statement(doc, 'ConfiguredAliases').Resource).toEqual(expect.arrayContaining([`arn:aws:kms:ap-southeast-2:${ACCOUNT_A}:${ic.alias}`, `arn:aws:kms:us-east-1:${ACCOUNT_A}:${ic.alias}`]));
  });

  test('THEN Identity Center actions name the attached instance, Identity Store reads its store, and an account without an attachment gets neither', () => {
    expect(statement(policyA, 'IdentityCenterEncryption')).toMatchObject({ Action: ['sso:DescribeInstance', 'sso:ListRegions', 'sso:UpdateInstance'], Resource: [IDENTITY_CENTER.instanceArn] });
    expect(statement(policyA, 'IdentityStoreRead').Resource).toEqual([IDENTITY_CENTER.identityStoreArn, 'arn:aws:identitystore:::user/*']);
    expect([...allowedActions(policyB)].filter((a) => a.startsWith('sso') || a.startsWith('identitystore'))).toEqual([]);
  });

  test('GIVEN DynamoDB state in an account without key rings THEN that account gets a role with the table and Terraform state statements only', () => {
    const cfg = teamConfig({ keyrings: [payments], pipeline: { ...PIPELINE, account: ACCOUNT_A } });
    const only = policyOf(synthPipeline(cfg), ACCOUNT_A);
    expect(only.Statement.map((s) => s.Sid)).toEqual(['TerraformStateList', 'TerraformStateObjects', 'StateTableItems']);
  });

  test('THEN Terraform, which applies with the pipeline role, may update the policy, description and tags of managed keys only, list aliases, and manage the monitoring resources by name', () => {
    expect(statement(policyB, 'TerraformManagedKeys')).toEqual({
      Sid: 'TerraformManagedKeys',
      Effect: 'Allow',
      Action: ['kms:PutKeyPolicy', 'kms:TagResource', 'kms:UntagResource', 'kms:UpdateKeyDescription'],
      Resource: [`arn:aws:kms:eu-west-1:${ACCOUNT_B}:key/*`],
      Condition: { StringEquals: { 'aws:ResourceTag/keyrotor:managed-by': 'keyrotor' } },
    });
    expect(statement(policyB, 'TerraformMonitoringTopic').Resource).toEqual([`arn:aws:sns:eu-west-1:${ACCOUNT_B}:keyrotor-key-events`]);
    expect(statement(policyB, 'TerraformMonitoringRules').Resource).toEqual([`arn:aws:events:eu-west-1:${ACCOUNT_B}:rule/keyrotor-key-events-*`]);
  });

  test('THEN the Terraform state objects (the S3 backend assumes the team account\'s role) are granted in the team account only, under the key prefix', () => {
    expect(statement(policyA, 'TerraformStateObjects')).toEqual({ Sid: 'TerraformStateObjects', Effect: 'Allow', Action: ['s3:DeleteObject', 's3:GetObject', 's3:PutObject'], Resource: 'arn:aws:s3:::org-tfstate/keyrotor/*' });
    expect(statement(policyA, 'TerraformStateList').Condition).toEqual({ StringLike: { 's3:prefix': 'keyrotor/*' } });
    expect(policyB.Statement.find((st) => st.Sid.startsWith('TerraformState'))).toBeUndefined();
  });
});

describe('pipelineRole mismatch', () => {
  test('GIVEN a key ring whose pipelineRole is another role THEN synth fails with a ConfigError naming the key ring and both ARNs', () => {
    const legacy = keyring({ ...payments, pipelineRole: `arn:aws:iam::${ACCOUNT_B}:role/legacy-pipeline` });
    let caught: unknown;
    try {
      synthPipeline(teamConfig({ keyrings: [ic, legacy] }));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const message = (caught as ConfigError).message;
    expect(message).toContain('key ring payments-data');
    expect(message).toContain(`arn:aws:iam::${ACCOUNT_B}:role/legacy-pipeline`);
    expect(message).toContain(`arn:aws:iam::${ACCOUNT_B}:role/keyrotor-pipeline`);
  });

  test('GIVEN roleName changed to match the key rings THEN synth succeeds and the roles carry that name', () => {
    const renamed = [ic, payments].map((k) => keyring({ ...k, pipelineRole: `arn:aws:iam::${k.account}:role/ci-keyrotor` }));
    const stack = synthPipeline(teamConfig({ keyrings: renamed, pipeline: { ...PIPELINE, roleName: 'ci-keyrotor' } }));
    expect([roleOf(stack, ACCOUNT_A).name, roleOf(stack, ACCOUNT_B).name]).toEqual(['ci-keyrotor', 'ci-keyrotor']);
  });
});

describe('rotate synth in team mode', () => {
  it('GIVEN a pipeline section WHEN the stacks are synthesized THEN only the key stacks are written: the pipeline stack is the bootstrap\'s', async () => {
    const { synthesizeStacks } = await import('../../stacks/synthesize');
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'keyrotor-team-synth-'));
    const result = await synthesizeStacks(teamConfig(), { stateDirOverride: path.join(work, 'state'), outdir: path.join(work, 'out') });
    expect(result.stacks).not.toContain(STACK);
    expect(result.stacks.length).toBeGreaterThan(0);
    expect(fs.existsSync(path.join(work, 'out', 'stacks', STACK))).toBe(false);
    fs.rmSync(work, { recursive: true, force: true });
  });
});
