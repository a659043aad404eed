import * as path from 'node:path';
import type { BackendConfig, KeyRingConfig, MonitoringConfig } from '../pipeline/config/types';
import type { Ledger } from '../pipeline/ledger/types';
import { Aspects, AwsProvider, LocalBackend, S3Backend, TerraformStack, type Construct } from './cdktf';
import { IdentityCenterEncryption, type IdentityCenterEncryptionTarget } from './identity-center-encryption';
import { KEYROTOR_PROVIDER_DEFAULT_TAGS } from '../pipeline/key-tags';
import { ManagedKey } from './managed-key';
import { KeyEventMonitoring } from './monitoring';
import { identityCenterLogicalId, stackNameFor } from './naming';
import { PolicyLintAspect } from './policy-lint-aspect';
import { REQUIRED_TERRAFORM_VERSION } from './terraform-version';
import { RegionalProviders } from './regional-providers';
import { ReplicaKeys } from './replica-keys';
import { ReplicaMonitoring } from './replica-monitoring';

export interface KeyStackProps {
  readonly account: string;
  readonly region: string;
  /** Key rings of this account+Region (at least one). */
  readonly keyrings: readonly KeyRingConfig[];
  /** Ledgers by key ring name; a missing entry means greenfield. */
  readonly ledgers: ReadonlyMap<string, Ledger>;
  readonly backend: BackendConfig;
  readonly monitoring: MonitoringConfig;
  /** argv prefix of the Identity Center helper. Default: see IdentityCenterEncryptionProps. */
  readonly identityCenterHelperCommand?: readonly string[];
  /**
   * Other Regions of this account that have a key stack of their own: its monitoring already
   * watches every key there, so this stack's replicas in them need none of their own. Default none.
   */
  readonly regionsWithOwnStack?: readonly string[];
  /** Role the provider assumes (access.accounts[account].terraformRole). Default: none, the apply's own credentials. */
  readonly terraformRole?: string;
  /** Role the S3 backend assumes (access.backendRole). Default: none. */
  readonly backendRole?: string;
}

/** Session name of Terraform's assumed roles, as CloudTrail shows them. */
export const TERRAFORM_SESSION_NAME = 'keyrotor-terraform';

/** One Terraform stack per account+Region: provider, backend, key rings, monitoring, policy lint. */
export class KeyStack extends TerraformStack {
  readonly account: string;
  readonly region: string;
  readonly managedKeys: readonly ManagedKey[];
  readonly identityCenter: readonly IdentityCenterEncryption[];
  readonly monitoring?: KeyEventMonitoring;
  /** Replicas of the multi-Region key rings (one entry per key ring, empty for single-Region ones). */
  readonly replicaKeys: readonly ReplicaKeys[];

  constructor(scope: Construct, props: KeyStackProps) {
    const name = stackNameFor(props.account, props.region);
    super(scope, name);
    this.account = props.account;
    this.region = props.region;

    const providerConfig = {
      region: props.region,
      // A stack applied with the wrong credentials fails instead of creating keys in another account.
      allowedAccountIds: [props.account],
      defaultTags: [{ tags: { ...KEYROTOR_PROVIDER_DEFAULT_TAGS } }],
      // From CI's one identity into this account's role (the key policy's pipelineRole).
      ...(props.terraformRole ? { assumeRole: [{ roleArn: props.terraformRole, sessionName: TERRAFORM_SESSION_NAME }] } : {}),
    };
    new AwsProvider(this, 'aws', providerConfig);
    // Replica Regions get aliased copies of the same provider configuration (regional-providers.ts).
    const regionalProviders = new RegionalProviders(this, providerConfig);
    declareBackend(this, name, props.backend, props.backendRole);
    this.addOverride('terraform.required_version', REQUIRED_TERRAFORM_VERSION);

    const identityCenter: IdentityCenterEncryption[] = [];
    const replicaKeys: ReplicaKeys[] = [];
    this.managedKeys = props.keyrings.map((keyring) => {
      const ledger = props.ledgers.get(keyring.name);
      const managedKey = new ManagedKey(this, keyring.name, { keyring, ledger });
      const replicas = new ReplicaKeys(this, `${keyring.name}_replicas`, { managedKey, ledger, providers: regionalProviders });
      replicaKeys.push(replicas);
      const target = identityCenterTarget(managedKey, ledger);
      if (keyring.identityCenter && target) {
        const ic = new IdentityCenterEncryption(this, `${keyring.name}-identity-center`, {
          keyring: keyring.name,
          instanceArn: keyring.identityCenter.instanceArn,
          region: keyring.region,
          target,
          helperCommand: props.identityCenterHelperCommand,
        });
        ic.resource.overrideLogicalId(identityCenterLogicalId(keyring.name));
        // A multi-Region Identity Center refuses a key without a ready replica in each of its Regions.
        if (replicas.switchPrerequisites.length > 0) ic.resource.dependsOn = replicas.switchPrerequisites.map((r) => `${r.terraformResourceType}.${r.friendlyUniqueId}`);
        identityCenter.push(ic);
      }
      return managedKey;
    });
    this.identityCenter = identityCenter;

    if (props.monitoring.enabled) {
      this.monitoring = new KeyEventMonitoring(this, 'monitoring', { config: props.monitoring, account: props.account, region: props.region });
      // Replica Regions without a key stack of their own get the same monitoring, through their provider.
      const replicaRegions = [...new Set(replicaKeys.flatMap((r) => r.regions))].filter((r) => !(props.regionsWithOwnStack ?? []).includes(r));
      new ReplicaMonitoring(this, 'replica-monitoring', { config: props.monitoring, account: props.account, stackRegion: props.region, regions: replicaRegions, providers: regionalProviders });
    }
    this.replicaKeys = replicaKeys;

    Aspects.of(this).add(new PolicyLintAspect());
  }
}

export function declareBackend(stack: TerraformStack, name: string, backend: BackendConfig, assumeRoleArn?: string): void {
  if (backend.type === 'local') {
    new LocalBackend(stack, { path: path.join(backend.dir, `${name}.tfstate`) });
    return;
  }
  const s3 = new S3Backend(stack, {
    bucket: backend.bucket,
    key: `${backend.keyPrefix}/${name}.tfstate`,
    region: backend.region,
    encrypt: true,
    ...(assumeRoleArn ? { assumeRole: { roleArn: assumeRoleArn, sessionName: TERRAFORM_SESSION_NAME } } : {}),
  });
  // S3 native locking (Terraform >= 1.10); cdktf 0.21's S3BackendConfig predates the option.
  if (backend.useLockfile) s3.addOverride('use_lockfile', true);
}

/**
 * What Identity Center should use: only ever what the ledger records, i.e. what the pipeline set
 * (its switch stage, after verify-key and before the integration checks) or found in place
 * (`adopt`). Without a recorded target nothing is declared: Terraform never points Identity Center
 * at a key on its own, not even the active generation (that would skip the pipeline's checks on
 * an organization's first deploy). A key ARN that belongs to a declared generation is given as a
 * reference, so Terraform orders the key before the helper runs.
 */
function identityCenterTarget(managedKey: ManagedKey, ledger: Ledger | undefined): IdentityCenterEncryptionTarget | undefined {
  const recorded = ledger?.identityCenter;
  if (recorded?.keyType === 'AWS_OWNED_KMS_KEY') return recorded;
  if (recorded?.keyType === 'CUSTOMER_MANAGED_KEY') {
    const declared = managedKey.declarations.find((d) => d.kind === 'key' && d.keyArn === recorded.kmsKeyArn);
    const key = declared ? managedKey.keys.get(declared.generation) : undefined;
    return { keyType: 'CUSTOMER_MANAGED_KEY', kmsKeyArn: key ? key.arn : recorded.kmsKeyArn };
  }
  return undefined;
}

