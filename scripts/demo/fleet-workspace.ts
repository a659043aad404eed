/**
 * A throw-away organization for fleet tests and the fleet bench: N key rings in each of some
 * accounts × Regions, per-account pipeline roles declared once in `access`, and one CI identity
 * (an access key the emulator maps to a `keyrotor-ci` session) from which every account's role is
 * assumed — the shape team mode gives a real organization. Keys and allowed_signers come from a
 * demo workspace (its operator signs starts, its approvers sign approvals).
 */
import { promises as fs } from 'node:fs';
import { CreateAliasCommand, CreateKeyCommand } from '@aws-sdk/client-kms';
import { DEFAULT_SEED } from '../../emulator/seed';
import { createAwsClients, type AwsClients, type RateLimiter } from '../../pipeline/aws';
import { credentialChainFor } from '../../pipeline/aws/role-credentials';
import { loadConfig } from '../../pipeline/config/load';
import type { KeyRingConfig } from '../../pipeline/config/types';
import { KEYROTOR_PROVIDER_DEFAULT_TAGS, generationTags } from '../../pipeline/key-tags';
import { buildKeyPolicy, renderKeyPolicy } from '../../pipeline/policy/builder';
import { createDemoWorkspace, type DemoWorkspace } from './workspace';

export interface FleetWorkspaceOptions {
  readonly accounts: readonly string[];
  readonly regions: readonly string[];
  /** Key rings per account and Region. */
  readonly perGroup: number;
  /** Attach the first key ring of the emulator's default instance (111111111111/us-east-1) to Identity Center. */
  readonly identityCenter?: boolean;
  /** Reuse this workspace's keys (generating keys is the slow part). */
  readonly keysFrom?: DemoWorkspace;
  /** Extra top-level config fields (e.g. `state`, `pipeline`). */
  readonly extra?: Record<string, unknown>;
}

export interface FleetWorkspace extends DemoWorkspace {
  readonly keyringNames: readonly string[];
  /** The CI identity: its access key, and the session the emulator maps it to. */
  readonly ci: { readonly accessKeyId: string; readonly sessionArn: string; readonly roleArn: string };
  /** The pipeline role of each account. */
  readonly pipelineRoles: Readonly<Record<string, string>>;
}

export const FLEET_TEAM_ACCOUNT = DEFAULT_SEED.managementAccount;

export function fleetKeyringName(account: string, region: string, index: number): string {
  return `kr-${account.slice(-4)}-${region}-${String(index + 1).padStart(3, '0')}`;
}

export async function createFleetWorkspace(dir: string, options: FleetWorkspaceOptions): Promise<FleetWorkspace> {
  const base = await createDemoWorkspace(dir, { quorum: 2, minimumSoakHours: 0, ...(options.keysFrom ? { keysFrom: options.keysFrom } : {}) });
  const demo = JSON.parse(await fs.readFile(base.configPath, 'utf8')) as { keyrings: Array<Record<string, unknown>> };
  const icTemplate = demo.keyrings[0]!;
  const instance = DEFAULT_SEED.instances[0]!;
  const keyrings: Array<Record<string, unknown>> = [];
  for (const account of options.accounts) {
    for (const region of options.regions) {
      for (let i = 0; i < options.perGroup; i += 1) {
        const name = fleetKeyringName(account, region, i);
        const attach = options.identityCenter && i === 0 && account === instance.account && region === instance.region;
        keyrings.push({
          name,
          alias: `alias/fleet/${name}`,
          account,
          region,
          description: `fleet key ring ${name}`,
          tags: { fleet: 'bench', team: i % 2 === 0 ? 'even' : 'odd', 'identity-center': attach ? 'attached' : 'none' },
          keyAdministrators: [`arn:aws:iam::${account}:role/KeyAdministrator`],
          ...(attach ? { identityCenter: icTemplate.identityCenter } : {}),
          rotation: { deletionWindowDays: 7, minimumSoakHours: 0, disableOldKeyDuringSoak: true, automaticRotationPeriodDays: 365 },
          approvals: { quorum: 2, allowedSignersFile: 'approvers/allowed_signers', lifetimeHours: 24 },
          checks: [],
        });
      }
    }
  }
  const pipelineRoles = Object.fromEntries(options.accounts.map((a) => [a, `arn:aws:iam::${a}:role/keyrotor-pipeline`]));
  const config = {
    version: 1,
    backend: { type: 'local', dir: 'terraform-state' },
    state: { type: 'file', dir: 'state' },
    monitoring: { enabled: false },
    keyrings,
    access: { accounts: Object.fromEntries(options.accounts.map((a) => [a, { pipelineRole: pipelineRoles[a] }])) },
    ...options.extra,
  };
  await fs.writeFile(base.configPath, `${JSON.stringify(config, null, 2)}\n`);
  const ciRole = `arn:aws:iam::${FLEET_TEAM_ACCOUNT}:role/keyrotor-ci`;
  return {
    ...base,
    keyringName: keyrings[0]!.name as string,
    keyringNames: keyrings.map((k) => k.name as string),
    ci: { accessKeyId: 'AKIAFLEETCIIDENTITY', sessionArn: `arn:aws:sts::${FLEET_TEAM_ACCOUNT}:assumed-role/keyrotor-ci/gh-operator-1`, roleArn: ciRole },
    pipelineRoles,
  };
}

/** The emulator's side of the organization: the CI identity's key, and each account's role trusting it. */
export function seedFleetIdentities(emulator: { addPrincipal(id: string, arn: string): void; addRole(role: { arn: string; trustedPrincipals: string[] }): void }, ws: FleetWorkspace): void {
  emulator.addPrincipal(ws.ci.accessKeyId, ws.ci.sessionArn);
  for (const role of Object.values(ws.pipelineRoles)) emulator.addRole({ arn: role, trustedPrincipals: [ws.ci.roleArn] });
}

/** Environment of a CLI invocation as the CI identity. */
export function ciEnv(ws: FleetWorkspace): Record<string, string> {
  return { AWS_ACCESS_KEY_ID: ws.ci.accessKeyId, AWS_SECRET_ACCESS_KEY: 'ci', KEYROTOR_OPERATOR: ws.operator };
}

/**
 * Generation 1 of every key ring not attached to Identity Center, as the stacks' first apply creates it (the key with its policy
 * and tags, the alias on it), made as the CI identity through each account's role — so a fleet can
 * `adopt` them and rotate. `limiter` keeps the creation within the quotas (its own, not the CLI's).
 */
export async function createFirstGenerations(ws: FleetWorkspace, endpoint: string, limiter: RateLimiter): Promise<void> {
  const loaded = loadConfig(ws.configPath);
  // An Identity Center key ring gets its first key from the pipeline (migrate-to-cmk), never here.
  const config = { ...loaded, keyrings: loaded.keyrings.filter((k) => !k.identityCenter) };
  const chain = credentialChainFor(config, { env: ciEnv(ws), endpoint });
  const clients = new Map<string, AwsClients>();
  const clientsFor = (k: KeyRingConfig): AwsClients => {
    const id = `${k.account}/${k.region}`;
    let found = clients.get(id);
    if (!found) {
      const credentials = chain.credentialsFor(k.account, k.region);
      found = createAwsClients({ region: k.region, account: k.account, endpoint, env: {}, rateLimiter: limiter, ...(credentials ? { credentials } : {}) });
      clients.set(id, found);
    }
    return found;
  };
  try {
    await Promise.all(
      config.keyrings.map(async (k) => {
        const { kms } = clientsFor(k);
        const created = await kms.send(
          new CreateKeyCommand({
            Policy: renderKeyPolicy(buildKeyPolicy(k)),
            Description: k.description,
            Tags: Object.entries({ ...KEYROTOR_PROVIDER_DEFAULT_TAGS, ...generationTags(k, 1) }).map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
          }),
        );
        await kms.send(new CreateAliasCommand({ AliasName: k.alias, TargetKeyId: created.KeyMetadata!.KeyId! }));
      }),
    );
  } finally {
    for (const c of clients.values()) c.destroy();
  }
}
