/**
 * A throw-away workspace for the demo (and the end-to-end tests): a key-ring config attached to
 * the emulator's default Identity Center instance, a file state store, and approvers with
 * ephemeral SSH keys listed in an allowed_signers file. Everything lives in one directory.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { execa } from 'execa';
import { DEFAULT_SEED } from '../../emulator/seed';
import { initiatorResolver } from '../../pipeline/approvals/initiator';
import type { Config } from '../../pipeline/config/types';

export interface DemoApprover {
  readonly identity: string;
  readonly privateKeyPath: string;
}

export interface DemoWorkspace {
  readonly dir: string;
  readonly configPath: string;
  readonly stateDir: string;
  /** Where `rotate approve` writes approval files and the gate reads them (approvals/ beside the config). */
  readonly approvalsDir: string;
  readonly keyringName: string;
  readonly operator: string;
  /** The operator's ephemeral key, listed in allowed_signers as `operator`: runs start signed with it. */
  readonly operatorKeyPath: string;
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
  /** Copy the operator's and approvers' keys (and allowed_signers) of this workspace instead of generating new ones. */
  readonly keysFrom?: DemoWorkspace;
  /** Make the key ring multi-Region with replicas in these Regions (`multiRegion.replicaRegions`). Default single-Region. */
  readonly replicaRegions?: readonly string[];
  /** Identity Center's additional Regions the config declares (`identityCenter.additionalRegions`). Default none. */
  readonly identityCenterRegions?: readonly string[];
}

const OPERATOR = 'operator@example.com';

/** An ephemeral key pair for `identity`; returns the private key path and the `type base64` public key. */
async function ephemeralKey(dir: string, name: string, identity: string, type: 'ed25519' | 'ecdsa' | 'rsa'): Promise<{ privateKeyPath: string; pub: string }> {
  const privateKeyPath = path.join(dir, 'approvers', name);
  await fs.rm(privateKeyPath, { force: true });
  await fs.rm(`${privateKeyPath}.pub`, { force: true });
  await execa('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-C', identity, '-f', privateKeyPath]);
  const pub = (await fs.readFile(`${privateKeyPath}.pub`, 'utf8')).trim().split(' ').slice(0, 2).join(' ');
  return { privateKeyPath, pub };
}

export async function createDemoWorkspace(dir: string, options: DemoWorkspaceOptions = {}): Promise<DemoWorkspace> {
  await fs.mkdir(path.join(dir, 'approvers'), { recursive: true });
  const { operatorKeyPath, approvers } = options.keysFrom ? await copyKeys(options.keysFrom, dir) : await makeKeys(dir, options.approverKeyTypes ?? ['ed25519', 'ed25519']);

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
          ...(options.identityCenterRegions ? { additionalRegions: [...options.identityCenterRegions] } : {}),
        },
        ...(options.replicaRegions ? { multiRegion: { replicaRegions: [...options.replicaRegions] } } : {}),
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
  return {
    dir,
    configPath,
    stateDir: path.join(dir, 'state'),
    approvalsDir: path.join(dir, 'approvals'),
    keyringName: 'identity-center',
    operator: OPERATOR,
    operatorKeyPath,
    approvers,
  };
}

/** Ephemeral keys for the operator and each approver, listed in approvers/allowed_signers. */
async function makeKeys(dir: string, types: readonly ('ed25519' | 'ecdsa' | 'rsa')[]): Promise<{ operatorKeyPath: string; approvers: DemoApprover[] }> {
  const approvers: DemoApprover[] = [];
  // The operator is listed too: a run started with their key is tied to them, so they can never approve it.
  const operatorKey = await ephemeralKey(dir, 'operator_ed25519', OPERATOR, 'ed25519');
  const lines: string[] = [`${OPERATOR} namespaces="keyrotor-approval@v1" ${operatorKey.pub}`];
  for (const [i, type] of types.entries()) {
    const identity = `approver${i + 1}@example.com`;
    const key = await ephemeralKey(dir, `approver${i + 1}_${type}`, identity, type);
    lines.push(`${identity} namespaces="keyrotor-approval@v1" ${key.pub}`);
    approvers.push({ identity, privateKeyPath: key.privateKeyPath });
  }
  await fs.writeFile(path.join(dir, 'approvers', 'allowed_signers'), `# ephemeral demo operator and approvers (keys made for this workspace)\n${lines.join('\n')}\n`);
  return { operatorKeyPath: operatorKey.privateKeyPath, approvers };
}

/** The keys of `from`, copied (key generation is the slow part of a workspace; tests make many). */
async function copyKeys(from: DemoWorkspace, dir: string): Promise<{ operatorKeyPath: string; approvers: DemoApprover[] }> {
  await fs.cp(path.join(from.dir, 'approvers'), path.join(dir, 'approvers'), { recursive: true });
  const moved = (file: string): string => path.join(dir, 'approvers', path.basename(file));
  return { operatorKeyPath: moved(from.operatorKeyPath), approvers: from.approvers.map((a) => ({ identity: a.identity, privateKeyPath: moved(a.privateKeyPath) })) };
}

/**
 * The workspace's operator acts as its key ring's pipeline role (the key policy lets no one else
 * create or retire its keys): the emulator maps their access key to a session of that role, as
 * STS would after AssumeRole.
 */
export function actAsPipelineRole(emulator: { addPrincipal(accessKeyId: string, arn: string): void }, accessKeyId: string, account: string = DEFAULT_SEED.instances[0]!.account): string {
  const arn = `arn:aws:sts::${account}:assumed-role/keyrotor-pipeline/operator`;
  emulator.addPrincipal(accessKeyId, arn);
  return arn;
}

/** The engine's `identifyInitiator` for the workspace: every start is signed with the operator's key, as `rotate start --signing-key` does. */
export function operatorSignsStarts(ws: DemoWorkspace, config: Config): ReturnType<typeof initiatorResolver> {
  return initiatorResolver({
    keyring: config.keyrings[0]!,
    people: config.people ?? [],
    label: ws.operator,
    awsCaller: async () => undefined,
    env: {},
    signer: { signingKeyPath: ws.operatorKeyPath },
    now: () => new Date(),
  });
}
