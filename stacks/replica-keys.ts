/**
 * The replicas of a multi-Region key ring: per generation and Region an `aws_kms_replica_key`
 * (through that Region's aliased provider) carrying exactly the primary's policy — the one the
 * policy builder renders for the key ring, because KMS does not synchronize policies between a
 * primary and its replicas — its description and tags; import blocks for replicas the pipeline
 * created; `removed` blocks for replicas pending deletion; and the alias in every replica Region on
 * the active generation's replica there. See replica-plan.ts for the rules per ledger state.
 */
import type { Ledger } from '../pipeline/ledger/types';
import { generationTags } from '../pipeline/key-tags';
import { Construct, KmsAlias, KmsReplicaKey, type TerraformResource } from './cdktf';
import { IGNORED_KEY_ATTRIBUTES, type ManagedKey } from './managed-key';
import { aliasLogicalId, generationConstructId, generationLogicalId } from './naming';
import type { RegionalProviders } from './regional-providers';
import { RemovedBlock } from './removed-block';
import { planReplicas, type DeclaredReplica, type ReplicaDeclaration } from './replica-plan';

/** `eu-west-1` → `eu_west_1` (Region codes are `[a-z0-9-]`, so the mapping is one-to-one). */
function regionId(region: string): string {
  return region.replace(/-/g, '_');
}

/** Logical id of a generation's replica in `region`: `<keyring>_key_gen<N>_<region>`. Never derived from order. */
export function replicaLogicalId(keyring: string, generation: number, region: string): string {
  return `${generationLogicalId(keyring, generation)}_${regionId(region)}`;
}

/** Logical id of the key ring's alias in a replica Region: `<keyring>_alias_<region>`. */
export function regionalAliasLogicalId(keyring: string, region: string): string {
  return `${aliasLogicalId(keyring)}_${regionId(region)}`;
}

/** Full Terraform address of a replica, as `removed { from = … }` uses it. */
export function replicaAddress(keyring: string, generation: number, region: string): string {
  return `aws_kms_replica_key.${replicaLogicalId(keyring, generation, region)}`;
}

export interface ReplicaKeysProps {
  /** The key ring's primary keys; replicas reference their `arn` and copy their policy. */
  readonly managedKey: ManagedKey;
  readonly ledger?: Ledger;
  readonly providers: RegionalProviders;
}

export interface DeclaredReplicaKey {
  readonly generation: number;
  readonly region: string;
  readonly key: KmsReplicaKey;
}

export class ReplicaKeys extends Construct {
  readonly managedKey: ManagedKey;
  readonly declarations: readonly ReplicaDeclaration[];
  readonly replicas: readonly DeclaredReplicaKey[];
  /** The alias in each replica Region, on the active generation's replica there. */
  readonly aliases: ReadonlyMap<string, KmsAlias>;

  constructor(scope: Construct, id: string, props: ReplicaKeysProps) {
    super(scope, id);
    const { managedKey, providers } = props;
    this.managedKey = managedKey;
    const keyring = managedKey.keyring;
    this.declarations = planReplicas(keyring, props.ledger, managedKey.declarations);

    const replicas: DeclaredReplicaKey[] = [];
    const aliases = new Map<string, KmsAlias>();
    for (const declaration of this.declarations) {
      const construct = `${generationConstructId(declaration.generation)}_${regionId(declaration.region)}`;
      if (declaration.kind === 'removed-replica') {
        new RemovedBlock(this, `removed_${construct}`, replicaAddress(keyring.name, declaration.generation, declaration.region));
        continue;
      }
      const key = this.declareReplica(construct, declaration, providers);
      replicas.push({ generation: declaration.generation, region: declaration.region, key });
      if (declaration.active) aliases.set(declaration.region, this.declareAlias(declaration, key, providers));
    }
    this.replicas = replicas;
    this.aliases = aliases;
  }

  /** The Regions this key ring has replicas in (declared, or dropped with a removed block). */
  get regions(): readonly string[] {
    return [...new Set(this.declarations.map((d) => d.region))];
  }

  /** Resources that must exist before Identity Center may be switched (every replica of the key ring). */
  get switchPrerequisites(): readonly TerraformResource[] {
    return this.replicas.map((r) => r.key);
  }

  private declareReplica(construct: string, declaration: DeclaredReplica, providers: RegionalProviders): KmsReplicaKey {
    const { managedKey } = this;
    const keyring = managedKey.keyring;
    const primary = managedKey.keys.get(declaration.generation);
    if (!primary) throw new Error(`replica of generation ${declaration.generation} of ${keyring.name} has no declared primary`);
    const provider = providers.for(declaration.region);
    const key = new KmsReplicaKey(this, construct, {
      primaryKeyArn: primary.arn,
      description: keyring.description,
      policy: managedKey.policy,
      deletionWindowInDays: keyring.rotation.deletionWindowDays,
      enabled: declaration.enabled,
      tags: generationTags(keyring, declaration.generation),
      ...(provider ? { provider } : {}),
      // As for the primary: only the replica of the key in use is protected from destroy, and the
      // attributes an import leaves unset (or the pipeline owns) never show as a diff.
      lifecycle: {
        ignoreChanges: [...IGNORED_KEY_ATTRIBUTES],
        ...(declaration.active ? { preventDestroy: true } : {}),
      },
    });
    key.overrideLogicalId(replicaLogicalId(keyring.name, declaration.generation, declaration.region));
    if (declaration.importKeyId !== undefined) key.importFrom(declaration.importKeyId, provider);
    return key;
  }

  private declareAlias(declaration: DeclaredReplica, key: KmsReplicaKey, providers: RegionalProviders): KmsAlias {
    const keyring = this.managedKey.keyring;
    const provider = providers.for(declaration.region);
    const alias = new KmsAlias(this, `alias_${regionId(declaration.region)}`, { name: keyring.alias, targetKeyId: key.keyId, ...(provider ? { provider } : {}) });
    alias.overrideLogicalId(regionalAliasLogicalId(keyring.name, declaration.region));
    // A pipeline-created replica came with its Region's alias already in AWS (promote-alias moves it).
    if (declaration.importKeyId !== undefined) alias.importFrom(keyring.alias, provider);
    return alias;
  }

}
