/**
 * What the stacks declare for the replicas of a multi-Region key ring, decided from the config,
 * the ledger and the generations' own declarations (generation-plan.ts). Pure (no cdktf).
 *
 * A generation is multi-Region when its key id says so (`mrk-…`), or — for the greenfield
 * generation Terraform creates — when the key ring is multi-Region in the config. `multi_region`
 * forces a replacement in Terraform, so a single-Region generation stays single-Region whatever the
 * config says: a key ring becomes multi-Region through a rotation to a new key.
 *
 * | generation declared as | replica recorded in the ledger as | declared as                                  |
 * |------------------------|-----------------------------------|----------------------------------------------|
 * | key (live)             | live                              | `aws_kms_replica_key` (imported unless the generation is Terraform's own), enabled with the generation |
 * | key (live)             | pending-deletion                  | `removed { destroy = false }` (a key pending deletion reads as gone) |
 * | key (live)             | deleted                           | nothing                                      |
 * | removed                | live or pending-deletion          | `removed { destroy = false }`                |
 * | greenfield (no ledger) | —                                 | one per configured Region, Terraform creates them with generation 1 |
 *
 * Replicas of recorded generations come from the ledger only, never from the config: the pipeline
 * owns which keys exist, and a Region added to the config gets its replica with the next new key
 * (`rotate`), which replicates to every configured Region and records each replica.
 */
import type { KeyRingConfig } from '../pipeline/config/types';
import type { Generation, Ledger } from '../pipeline/ledger/types';
import type { GenerationDeclaration } from './generation-plan';

export interface DeclaredReplica {
  readonly kind: 'replica';
  readonly generation: number;
  readonly region: string;
  readonly enabled: boolean;
  /** The replica of the alias target: gets `prevent_destroy` and the Region's alias. */
  readonly active: boolean;
  /** Key id to import from (in the replica's Region); absent for replicas Terraform creates. */
  readonly importKeyId?: string;
  /** Known ARN; absent for a replica Terraform has yet to create. */
  readonly keyArn?: string;
}

export interface RemovedReplica {
  readonly kind: 'removed-replica';
  readonly generation: number;
  readonly region: string;
  readonly keyArn: string;
}

export type ReplicaDeclaration = DeclaredReplica | RemovedReplica;

const MULTI_REGION_KEY_ARN = /:key\/mrk-[0-9a-f]{32}$/;

/** Whether a declared generation is a multi-Region key (see the module comment). */
export function isMultiRegionGeneration(declaration: { readonly keyArn?: string }, keyring: Pick<KeyRingConfig, 'multiRegion'>): boolean {
  return declaration.keyArn === undefined ? keyring.multiRegion !== undefined : MULTI_REGION_KEY_ARN.test(declaration.keyArn);
}

export function planReplicas(keyring: Pick<KeyRingConfig, 'multiRegion'>, ledger: Ledger | undefined, declarations: readonly GenerationDeclaration[]): ReplicaDeclaration[] {
  const byNumber = new Map<number, Generation>((ledger?.generations ?? []).map((g) => [g.generation, g]));
  const out: ReplicaDeclaration[] = [];
  for (const declaration of declarations) {
    const generation = byNumber.get(declaration.generation);
    const recorded = generation?.replicas ?? [];
    if (declaration.kind === 'removed') {
      for (const r of recorded) if (r.state !== 'deleted') out.push({ kind: 'removed-replica', generation: declaration.generation, region: r.region, keyArn: r.keyArn });
      continue;
    }
    if (!isMultiRegionGeneration(declaration, keyring)) continue;
    const importKeyId = generation && generation.origin !== 'terraform' ? generation.keyId : undefined;
    for (const r of recorded) {
      if (r.state === 'pending-deletion') out.push({ kind: 'removed-replica', generation: declaration.generation, region: r.region, keyArn: r.keyArn });
      if (r.state !== 'live') continue;
      out.push({ kind: 'replica', generation: declaration.generation, region: r.region, enabled: declaration.enabled, active: declaration.active, keyArn: r.keyArn, ...(importKeyId ? { importKeyId } : {}) });
    }
    // Greenfield: Terraform creates generation 1 and its replicas in every configured Region.
    if (generation !== undefined) continue;
    for (const region of keyring.multiRegion?.replicaRegions ?? []) {
      out.push({ kind: 'replica', generation: declaration.generation, region, enabled: declaration.enabled, active: declaration.active });
    }
  }
  return out;
}
