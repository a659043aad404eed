import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Config, KeyRingConfig } from '../../pipeline/config/types';
import type { Ledger } from '../../pipeline/ledger/types';
import { buildApp, keyStacksOf } from '../../stacks/app';
import { Testing } from '../../stacks/cdktf';

export const ACCOUNT_A = '111111111111';
export const ACCOUNT_B = '222222222222';

export function keyring(overrides: Partial<KeyRingConfig> & Pick<KeyRingConfig, 'name'>): KeyRingConfig {
  const account = overrides.account ?? ACCOUNT_A;
  return {
    alias: `alias/${overrides.name}`,
    account,
    region: 'us-east-1',
    description: `key ring ${overrides.name}`,
    tags: { owner: 'platform-security' },
    keyAdministrators: [`arn:aws:iam::${account}:role/KmsKeyAdministrator`],
    keyUsers: [`arn:aws:iam::${account}:role/app`],
    pipelineRole: `arn:aws:iam::${account}:role/keyrotor-pipeline`,
    rotation: { deletionWindowDays: 30, minimumSoakHours: 24, disableOldKeyDuringSoak: false, automaticRotationPeriodDays: 365 },
    approvals: { quorum: 2, allowedSignersFile: '/repo/approvers/allowed_signers', lifetimeHours: 72 },
    checks: [],
    ...overrides,
  };
}

export const IDENTITY_CENTER = {
  instanceArn: 'arn:aws:sso:::instance/ssoins-7223f2cd9d6a6b51',
  identityStoreArn: `arn:aws:identitystore::${ACCOUNT_A}:identitystore/d-9067c0a1b2`,
  organizationId: 'o-a1b2c3d4e5',
  delegatedAdminAccounts: [],
  scopeToInstance: true,
} as const;

export function config(keyrings: readonly KeyRingConfig[], overrides: Partial<Config> = {}): Config {
  return {
    file: '/repo/keyrings.json',
    baseDir: '/repo',
    version: 1,
    backend: { type: 's3', bucket: 'org-tfstate', keyPrefix: 'keyrotor', region: 'us-east-1', useLockfile: true },
    state: { type: 'file', dir: '/repo/state' },
    monitoring: { enabled: true, snsTopicName: 'keyrotor-key-events', emailSubscriptions: [], configRules: true },
    keyrings,
    ...overrides,
  };
}

export function ledgerFixture(name: string): Ledger {
  return JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'ledgers', `${name}.json`), 'utf8')) as Ledger;
}

/** Shape of one synthesized stack (cdk.tf.json) as far as the tests read it. */
export interface StackJson {
  provider: { aws: Array<Record<string, unknown>> };
  terraform: { backend: Record<string, Record<string, unknown>>; required_providers?: unknown; required_version?: string };
  /** Absent when a stack declares no resource at all. */
  resource: Record<string, Record<string, Record<string, any>>>;
  import?: Array<{ id: string; to: string }>;
  removed?: Array<{ from: string; lifecycle: { destroy: boolean } }>;
}

export const HELPER = ['node', '/opt/keyrotor/dist/scripts/identity-center-helper.js'];

/** Builds the app and synthesizes every stack in-process; returns the parsed JSON by stack name. */
export function synthAll(cfg: Config, ledgers: Record<string, Ledger> = {}): Record<string, StackJson> {
  const app = buildApp(cfg, new Map(Object.entries(ledgers)), { outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'keyrotor-stacks-')), identityCenterHelperCommand: HELPER });
  const out: Record<string, StackJson> = {};
  for (const stack of keyStacksOf(app)) out[stack.node.id] = JSON.parse(Testing.synth(stack)) as StackJson;
  return out;
}

export function resourcesOf(stack: StackJson, type: string): Record<string, Record<string, any>> {
  return (stack.resource as StackJson["resource"] | undefined)?.[type] ?? {};
}
