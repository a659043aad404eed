/**
 * A throw-away workspace for the demo (and the end-to-end tests): a key-ring config attached to
 * the emulator's default Identity Center instance, a file state store, and approvers with
 * ephemeral SSH keys listed in an allowed_signers file. Everything lives in one directory.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { execa } from 'execa';
import { DEFAULT_SEED } from '../../emulator/seed';

export interface DemoApprover {
  readonly identity: string;
  readonly privateKeyPath: string;
}

export interface DemoWorkspace {
  readonly dir: string;
  readonly configPath: string;
  readonly stateDir: string;
  readonly keyringName: string;
  readonly operator: string;
  readonly approvers: readonly DemoApprover[];
}

export interface DemoWorkspaceOptions {
  /** Key types of the approvers' ephemeral keys, one approver each. Default two ed25519. */
  readonly approverKeyTypes?: readonly ('ed25519' | 'ecdsa' | 'rsa')[];
  readonly quorum?: number;
  readonly minimumSoakHours?: number;
  readonly disableOldKeyDuringSoak?: boolean;
  /** Extra check commands (argv) for the key ring. */
  readonly checks?: readonly { name: string; command: string[] }[];
}

const OPERATOR = 'operator@example.com';

export async function createDemoWorkspace(dir: string, options: DemoWorkspaceOptions = {}): Promise<DemoWorkspace> {
  await fs.mkdir(path.join(dir, 'approvers'), { recursive: true });
  const types = options.approverKeyTypes ?? ['ed25519', 'ed25519'];
  const approvers: DemoApprover[] = [];
  const lines: string[] = [];
  for (const [i, type] of types.entries()) {
    const identity = `approver${i + 1}@example.com`;
    const privateKeyPath = path.join(dir, 'approvers', `approver${i + 1}_${type}`);
    await fs.rm(privateKeyPath, { force: true });
    await fs.rm(`${privateKeyPath}.pub`, { force: true });
    await execa('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-C', identity, '-f', privateKeyPath]);
    const pub = (await fs.readFile(`${privateKeyPath}.pub`, 'utf8')).trim().split(' ').slice(0, 2).join(' ');
    lines.push(`${identity} namespaces="keyrotor-approval@v1" ${pub}`);
    approvers.push({ identity, privateKeyPath });
  }
  await fs.writeFile(path.join(dir, 'approvers', 'allowed_signers'), `# ephemeral demo approvers\n${lines.join('\n')}\n`);

  const instance = DEFAULT_SEED.instances[0]!;
  const account = instance.account;
  const config = {
    version: 1,
    backend: { type: 'local', dir: 'terraform-state' },
    state: { type: 'file', dir: 'state' },
    keyrings: [
      {
        name: 'identity-center',
        alias: 'alias/identity-center',
        account,
        region: instance.region,
        description: 'IAM Identity Center encryption key (demo)',
        tags: { 'cost-center': 'security', environment: 'demo' },
        keyAdministrators: [`arn:aws:iam::${account}:role/KeyAdministrator`],
        keyUsers: [],
        pipelineRole: `arn:aws:iam::${account}:role/keyrotor-pipeline`,
        identityCenter: {
          instanceArn: instance.instanceArn,
          identityStoreArn: `arn:aws:identitystore::${account}:identitystore/${instance.identityStoreId}`,
          organizationId: DEFAULT_SEED.organizationId,
        },
        rotation: {
          deletionWindowDays: 30,
          minimumSoakHours: options.minimumSoakHours ?? 0,
          disableOldKeyDuringSoak: options.disableOldKeyDuringSoak ?? true,
          automaticRotationPeriodDays: 365,
        },
        approvals: { quorum: options.quorum ?? 2, allowedSignersFile: 'approvers/allowed_signers', lifetimeHours: 24 },
        checks: options.checks ?? [
          {
            name: 'key ARNs handed to checks',
            command: ['node', '-e', [
              "const { KEYROTOR_RUN_KIND: kind, KEYROTOR_NEW_KEY_ARN: key = '' } = process.env;",
              "if (kind !== 'migrate-to-aws-owned' && !/^arn:aws:kms:/.test(key)) { console.error('KEYROTOR_NEW_KEY_ARN missing'); process.exit(1); }",
              "console.log('checked', kind, key || 'AWS owned key');",
            ].join(' ')],
          },
        ],
      },
    ],
  };
  const configPath = path.join(dir, 'keyrings.json');
  await fs.writeFile(configPath, `${JSON.stringify(config, null, 2)}\n`);
  return { dir, configPath, stateDir: path.join(dir, 'state'), keyringName: 'identity-center', operator: OPERATOR, approvers };
}
