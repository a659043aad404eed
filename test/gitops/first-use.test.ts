/**
 * The README's first-use path on an organization that already runs Identity Center, end to end
 * against the emulator as far as it goes without Terraform: what the stacks declare at each step
 * (the synthesized JSON), the plan guard and drift on the way, and the Identity Center helper run
 * exactly as the synthesized local-exec runs it. Terraform never points Identity Center at a key:
 * the pipeline does (migrate-to-cmk, after verify-key and before the integration checks) or finds
 * it in place (adopt); the helper then finds the instance already there and makes no call.
 */
import { actAsPipelineRole } from '../../scripts/demo/workspace';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateAliasCommand, CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { SSOAdminClient, UpdateInstanceCommand } from '@aws-sdk/client-sso-admin';
import { startEmulator, type Emulator } from '../../emulator';
import { loadConfig } from '../../pipeline/config/load';
import { runDrift } from '../../pipeline/drift/run-drift';
import { checkPlan } from '../../pipeline/gitops/plan-guard';
import { readSynthManifest } from '../../pipeline/gitops/synth-manifest';
import { createAwsClients } from '../../pipeline/aws';
import { FileStateStore } from '../../pipeline/state/file-store';
import { synthesizeStacks } from '../../stacks/synthesize';
import { createDemoWorkspace, type DemoWorkspace } from '../../scripts/demo/workspace';
import { identityCenterPolicy } from '../emulator/harness';
import { cli, runIdIn } from './workflow-runner/repo-fixture';
import { REPO_ROOT } from './helpers';

const STACK = 'keys-111111111111-us-east-1';
const INSTANCE = 'arn:aws:sso:::instance/ssoins-7223f2cd9d6a6b51';
const credentials = { accessKeyId: 'AKIAWORKFLOWTEST', secretAccessKey: 'x' };

let emulator: Emulator;
let ws: DemoWorkspace;
let outdir: string;

beforeEach(async () => {
  emulator = await startEmulator({ port: 0, updateDelayMs: 20, quotas: false });
  actAsPipelineRole(emulator, 'AKIAWORKFLOWTEST'); // CI acts as the key ring's pipeline role
  ws = await createDemoWorkspace(fs.mkdtempSync(path.join(os.tmpdir(), 'keyrotor-first-use-')));
  fs.mkdirSync(path.join(REPO_ROOT, 'cdktf.out'), { recursive: true });
  // Inside the project: the helper's path in the local-exec is relative to it.
  outdir = fs.mkdtempSync(path.join(REPO_ROOT, 'cdktf.out', 'test-first-use-'));
});
afterEach(async () => {
  await emulator.stop();
  fs.rmSync(outdir, { recursive: true, force: true });
  fs.rmSync(ws.dir, { recursive: true, force: true });
});

async function synth(): Promise<any> {
  await synthesizeStacks(loadConfig(ws.configPath), { outdir, stateDirOverride: ws.stateDir });
  return JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', STACK, 'cdk.tf.json'), 'utf8'));
}

async function drift() {
  const config = loadConfig(ws.configPath);
  const store = new FileStateStore(ws.stateDir);
  try {
    const clients = createAwsClients({ region: 'us-east-1', endpoint: emulator.endpoint, env: { AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey } });
    return await runDrift({ config, store, clientsFor: () => clients, actor: async () => 'test' }, { deployGate: true, readOnly: true });
  } finally {
    await store.close();
  }
}

/**
 * Runs the synthesized local-exec command the way Terraform does: `/bin/sh -c`, in the root
 * module's directory, ${path.module} = ".". Asynchronously: the emulator answers from this process.
 */
function runHelperAsTerraformWould(stack: any): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const command: string = stack.resource.terraform_data.identity_center_identity_center_encryption.provisioner[0]['local-exec'].command;
  const interpolated = command.replace(/\$\{path\.module\}/g, '.').replace(/\$\{aws_kms_key\.[a-z0-9_]+\.arn\}/g, (ref) => resolveKeyRef(ref));
  const child = spawn('/bin/sh', ['-c', interpolated], {
    cwd: path.join(outdir, 'stacks', STACK),
    env: { PATH: '/usr/bin:/bin', AWS_ENDPOINT_URL: emulator.endpoint, AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

/** The ledger's key ARN for a `${aws_kms_key.<keyring>_key_gen<N>.arn}` reference (what Terraform would interpolate). */
function resolveKeyRef(ref: string): string {
  const n = Number(/_key_gen(\d+)\.arn/.exec(ref)![1]);
  const ledger = JSON.parse(fs.readFileSync(path.join(ws.stateDir, 'ledgers', 'identity-center.json'), 'utf8'));
  return ledger.generations.find((g: { generation: number }) => g.generation === n).keyArn;
}

const updateInstanceCalls = () => emulator.callLog().filter((c) => c.operation === 'UpdateInstance').length;

describe('first use on an organization whose Identity Center runs on an AWS owned key', () => {
  test('GIVEN no ledger WHEN synthesized THEN the attached key ring declares nothing, so a first deploy cannot switch the sign-in key', async () => {
    const stack = await synth();
    expect(stack.resource?.aws_kms_key).toBeUndefined();
    expect(stack.resource?.aws_kms_alias).toBeUndefined();
    expect(stack.resource?.terraform_data).toBeUndefined();
    expect(readSynthManifest(path.join(outdir, 'stacks', STACK, 'keyrotor-synth.json')).keyrings[0]).toMatchObject({ awaitingPipeline: true });
    const report = await drift();
    expect(report.exitCode).toBe(0);
    expect(report.keyrings[0]!.notes.join(' ')).toContain('rotate start identity-center --kind migrate-to-cmk');
  });

  test('WHEN migrate-to-cmk runs (create, verify-key, promote-alias, switch, integration checks) and the stacks are synthesized THEN they import the pipeline\'s key and alias and record Identity Center on it; the helper, run as Terraform would, finds it in place and makes no call', async () => {
    const started = await cli(ws.dir, emulator, 'start', 'identity-center', '--kind', 'migrate-to-cmk');
    const advanced = await cli(ws.dir, emulator, 'advance', runIdIn(started.out));
    expect(advanced.code).toBe(0);
    const switches = updateInstanceCalls();
    expect(switches).toBe(1); // the pipeline's switch stage, after verify-key

    const stack = await synth();
    const ledger = JSON.parse(fs.readFileSync(path.join(ws.stateDir, 'ledgers', 'identity-center.json'), 'utf8'));
    const key = ledger.generations[0];
    expect(stack.import).toEqual(expect.arrayContaining([{ id: key.keyId, to: 'aws_kms_key.identity_center_key_gen1' }, { id: 'alias/identity-center', to: 'aws_kms_alias.identity_center_alias' }]));
    expect(stack.resource.terraform_data.identity_center_identity_center_encryption.input).toEqual({
      instance_arn: INSTANCE,
      region: 'us-east-1',
      key_type: 'CUSTOMER_MANAGED_KEY',
      kms_key_arn: '${aws_kms_key.identity_center_key_gen1.arn}',
    });
    expect((await drift()).exitCode).toBe(0);

    const helper = await runHelperAsTerraformWould(stack);
    expect(helper.stderr).toContain(`already ENABLED on ${key.keyArn}; nothing to do`);
    expect(helper.status).toBe(0);
    expect(updateInstanceCalls()).toBe(switches);
  });

  test('GIVEN the plan the first deploy makes after the migration (imports, terraform_data created on the ledger\'s key) THEN the plan guard passes it', async () => {
    const started = await cli(ws.dir, emulator, 'start', 'identity-center', '--kind', 'migrate-to-cmk');
    await cli(ws.dir, emulator, 'advance', runIdIn(started.out));
    await synth();
    const key = JSON.parse(fs.readFileSync(path.join(ws.stateDir, 'ledgers', 'identity-center.json'), 'utf8')).generations[0];
    const input = { instance_arn: INSTANCE, key_type: 'CUSTOMER_MANAGED_KEY', kms_key_arn: key.keyArn, region: 'us-east-1' };
    const plan = {
      format_version: '1.2',
      resource_changes: [
        { address: 'aws_kms_key.identity_center_key_gen1', mode: 'managed', type: 'aws_kms_key', name: 'identity_center_key_gen1', change: { actions: ['no-op'], before: { is_enabled: true }, after: { is_enabled: true }, importing: { id: key.keyId } } },
        { address: 'aws_kms_alias.identity_center_alias', mode: 'managed', type: 'aws_kms_alias', name: 'identity_center_alias', change: { actions: ['no-op'], before: { target_key_id: key.keyId }, after: { target_key_id: key.keyId }, importing: { id: 'alias/identity-center' } } },
        { address: 'terraform_data.identity_center_identity_center_encryption', mode: 'managed', type: 'terraform_data', name: 'identity_center_identity_center_encryption', change: { actions: ['create'], before: null, after: { input, triggers_replace: input }, after_unknown: { id: true, output: true, input: {}, triggers_replace: {} } } },
      ],
    };
    expect(checkPlan(plan, readSynthManifest(path.join(outdir, 'stacks', STACK, 'keyrotor-synth.json'))).findings).toEqual([]);
  });
});

describe('first use on an organization whose Identity Center already runs on its own customer managed key', () => {
  async function existingKey(): Promise<string> {
    const kms = new KMSClient({ endpoint: emulator.endpoint, region: 'us-east-1', credentials });
    const keyArn = (await kms.send(new CreateKeyCommand({ Description: 'made by hand, years ago', Policy: identityCenterPolicy() }))).KeyMetadata!.Arn!;
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/identity-center', TargetKeyId: keyArn }));
    kms.destroy();
    const sso = new SSOAdminClient({ endpoint: emulator.endpoint, region: 'us-east-1', credentials });
    await sso.send(new UpdateInstanceCommand({ InstanceArn: INSTANCE, EncryptionConfiguration: { KeyType: 'CUSTOMER_MANAGED_KEY', KmsKeyArn: keyArn } }));
    sso.destroy();
    await new Promise((r) => setTimeout(r, 80)); // UPDATING → ENABLED
    return keyArn;
  }

  test('WHEN adopt records the key and the setting THEN the stacks import both and record the setting as found; the helper makes no call; drift blocks nothing a deploy must not run over', async () => {
    const keyArn = await existingKey();
    const switches = updateInstanceCalls();
    const started = await cli(ws.dir, emulator, 'start', 'identity-center', '--kind', 'adopt');
    expect((await cli(ws.dir, emulator, 'advance', runIdIn(started.out))).code).toBe(0);

    const stack = await synth();
    expect(stack.import).toEqual(expect.arrayContaining([{ id: keyArn.split('/').pop(), to: 'aws_kms_key.identity_center_key_gen1' }, { id: 'alias/identity-center', to: 'aws_kms_alias.identity_center_alias' }]));
    expect(stack.resource.terraform_data.identity_center_identity_center_encryption.input.kms_key_arn).toBe('${aws_kms_key.identity_center_key_gen1.arn}');

    const report = await drift();
    // The hand-made key differs from the config (description, a policy without the organization
    // statements, no automatic rotation): all Terraform-owned, what the first apply converges.
    expect(report.keyrings[0]!.findings.map((f) => [f.kind, f.owner, f.blocksDeploy])).toEqual([
      ['key-spec', 'terraform', false],
      ['identity-center-policy', 'terraform', false],
      ['rotation', 'terraform', false],
    ]);
    expect(report.exitCode).toBe(0);

    const helper = await runHelperAsTerraformWould(stack);
    expect(helper.stderr).toContain('nothing to do');
    expect(helper.status).toBe(0);
    expect(updateInstanceCalls()).toBe(switches);
  });
});
