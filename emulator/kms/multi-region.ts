import type { KmsKey } from './key-store';

export type MultiRegionKeyType = 'PRIMARY' | 'REPLICA';

/**
 * A set of related multi-Region keys: one primary and its replicas, same key id and account, one
 * per Region (KMS developer guide, "Multi-Region keys in AWS KMS"). Key material and automatic
 * rotation are shared (KmsKey.material is one object); policy, description, tags, aliases and key
 * state are each key's own.
 */
export class MultiRegionKeySet {
  private readonly members = new Map<string, KmsKey>();

  constructor(
    readonly keyId: string,
    readonly account: string,
    public primaryRegion: string,
  ) {}

  add(key: KmsKey): void {
    this.members.set(key.region, key);
  }

  remove(key: KmsKey): void {
    if (this.members.get(key.region) === key) this.members.delete(key.region);
  }

  inRegion(region: string): KmsKey | undefined {
    return this.members.get(region);
  }

  primary(): KmsKey | undefined {
    return this.members.get(this.primaryRegion);
  }

  replicas(): KmsKey[] {
    return [...this.members.values()].filter((k) => k.region !== this.primaryRegion);
  }

  typeOf(key: KmsKey): MultiRegionKeyType {
    return key.region === this.primaryRegion ? 'PRIMARY' : 'REPLICA';
  }

  /** KeyMetadata.MultiRegionConfiguration as DescribeKey reports it for `key`. */
  configuration(key: KmsKey): Record<string, unknown> {
    const primary = this.primary();
    return {
      MultiRegionKeyType: this.typeOf(key),
      PrimaryKey: primary ? { Arn: primary.arn, Region: primary.region } : undefined,
      ReplicaKeys: this.replicas().map((r) => ({ Arn: r.arn, Region: r.region })),
    };
  }
}
