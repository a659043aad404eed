import { randomBytes, randomUUID } from 'node:crypto';
import { AwsServiceError } from '../service-error';

export type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion';

export interface LastUsage {
  readonly operation: string;
  readonly at: Date;
  readonly requestId: string;
}

export interface KmsKey {
  readonly keyId: string;
  readonly arn: string;
  readonly account: string;
  readonly region: string;
  readonly keySpec: string;
  readonly keyUsage: string;
  readonly multiRegion: boolean;
  readonly creationDate: Date;
  /** 256-bit AES key material; never leaves the emulator. */
  readonly material: Buffer;
  state: KeyState;
  description: string;
  policy: string;
  tags: Map<string, string>;
  deletionDate?: Date;
  pendingWindowInDays?: number;
  rotationPeriodInDays?: number;
  rotationEnabledAt?: Date;
  lastUsage?: LastUsage;
}

export interface KmsAlias {
  readonly aliasName: string;
  readonly account: string;
  readonly region: string;
  targetKeyId: string;
  readonly creationDate: Date;
  lastUpdatedDate: Date;
}

const KEY_ID = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;
const KEY_ARN = /^arn:aws:kms:([a-z0-9-]+):(\d{12}):key\/(.+)$/;
const ALIAS_ARN = /^arn:aws:kms:([a-z0-9-]+):(\d{12}):(alias\/.+)$/;

export interface Scope {
  readonly account: string;
  readonly region: string;
}

export function keyArn(scope: Scope, keyId: string): string {
  return `arn:aws:kms:${scope.region}:${scope.account}:key/${keyId}`;
}

export function aliasArn(scope: Scope, aliasName: string): string {
  return `arn:aws:kms:${scope.region}:${scope.account}:${aliasName}`;
}

/** Parses a key ARN into its scope and key id; undefined when it is not a key ARN. */
export function parseKeyArn(arn: string): (Scope & { keyId: string }) | undefined {
  const match = KEY_ARN.exec(arn);
  return match ? { region: match[1]!, account: match[2]!, keyId: match[3]! } : undefined;
}

/**
 * Every KMS key and alias of every account and Region. Keys past their deletion date are purged
 * lazily (on the next lookup), as KMS deletes them at the end of the waiting period
 * (ScheduleKeyDeletion API reference).
 */
export class KeyStore {
  private readonly keys = new Map<string, KmsKey>();
  private readonly aliases = new Map<string, KmsAlias>();

  constructor(private readonly now: () => Date) {}

  create(scope: Scope, props: Pick<KmsKey, 'keySpec' | 'keyUsage' | 'multiRegion' | 'description' | 'policy' | 'tags'>): KmsKey {
    const keyId = props.multiRegion ? `mrk-${randomBytes(16).toString('hex')}` : randomUUID();
    const key: KmsKey = {
      ...props,
      keyId,
      arn: keyArn(scope, keyId),
      account: scope.account,
      region: scope.region,
      creationDate: this.now(),
      material: randomBytes(32),
      state: 'Enabled',
    };
    this.keys.set(keyId, key);
    return key;
  }

  /** All keys, optionally of one account and Region, in creation order. */
  list(scope?: Partial<Scope>): KmsKey[] {
    this.purgeDeleted();
    return [...this.keys.values()].filter(
      (k) => (!scope?.account || k.account === scope.account) && (!scope?.region || k.region === scope.region),
    );
  }

  /** A key by id or ARN in any scope (the emulator's own read-only views). */
  peek(keyIdOrArn: string): KmsKey | undefined {
    this.purgeDeleted();
    return this.keys.get(parseKeyArn(keyIdOrArn)?.keyId ?? keyIdOrArn);
  }

  /**
   * Resolves a KeyId parameter as KMS does: a key id or key ARN, and — where the operation allows
   * it — an alias name or alias ARN (DescribeKey / Encrypt API references, "KeyId").
   * Unknown or foreign-scope identifiers are NotFoundException.
   */
  resolve(scope: Scope, keyId: string, options: { allowAlias: boolean }): KmsKey {
    this.purgeDeleted();
    const aliasName = this.aliasNameOf(scope, keyId);
    if (aliasName !== undefined) {
      if (!options.allowAlias) {
        throw new AwsServiceError('NotFoundException', `Invalid keyId '${keyId}': this operation takes a key ID or key ARN, not an alias`);
      }
      const alias = this.aliases.get(aliasKey(scope, aliasName));
      if (!alias) throw new AwsServiceError('NotFoundException', `Alias ${aliasArn(scope, aliasName)} is not found.`);
      return this.keys.get(alias.targetKeyId)!;
    }
    const arn = parseKeyArn(keyId);
    if (arn) {
      const key = this.keys.get(arn.keyId);
      // Cross-account use by ARN is allowed by KMS when the key policy permits it; the emulator
      // does not evaluate policies, so a key in another account of the same Region resolves.
      if (!key || key.region !== scope.region || key.account !== arn.account || arn.region !== scope.region) {
        throw new AwsServiceError('NotFoundException', `Key '${keyId}' does not exist`);
      }
      return key;
    }
    if (!KEY_ID.test(keyId)) throw new AwsServiceError('NotFoundException', `Invalid keyId ${keyId}`);
    const key = this.keys.get(keyId);
    if (!key || key.account !== scope.account || key.region !== scope.region) {
      throw new AwsServiceError('NotFoundException', `Key '${keyArn(scope, keyId)}' does not exist`);
    }
    return key;
  }

  private aliasNameOf(scope: Scope, keyId: string): string | undefined {
    if (keyId.startsWith('alias/')) return keyId;
    const match = ALIAS_ARN.exec(keyId);
    if (!match) return undefined;
    if (match[1] !== scope.region || match[2] !== scope.account) {
      throw new AwsServiceError('NotFoundException', `Alias ${keyId} is not found.`);
    }
    return match[3];
  }

  getAlias(scope: Scope, aliasName: string): KmsAlias | undefined {
    this.purgeDeleted();
    return this.aliases.get(aliasKey(scope, aliasName));
  }

  putAlias(alias: KmsAlias): void {
    this.aliases.set(aliasKey(alias, alias.aliasName), alias);
  }

  deleteAlias(scope: Scope, aliasName: string): boolean {
    return this.aliases.delete(aliasKey(scope, aliasName));
  }

  listAliases(scope: Scope): KmsAlias[] {
    this.purgeDeleted();
    return [...this.aliases.values()]
      .filter((a) => a.account === scope.account && a.region === scope.region)
      .sort((a, b) => a.aliasName.localeCompare(b.aliasName));
  }

  /** KMS deletes a key, and the aliases pointing at it, once its deletion date has passed. */
  private purgeDeleted(): void {
    const now = this.now().getTime();
    for (const key of this.keys.values()) {
      if (key.state === 'PendingDeletion' && key.deletionDate && key.deletionDate.getTime() <= now) {
        this.keys.delete(key.keyId);
        for (const [name, alias] of this.aliases) if (alias.targetKeyId === key.keyId) this.aliases.delete(name);
      }
    }
  }
}

function aliasKey(scope: Scope, aliasName: string): string {
  return `${scope.account}/${scope.region}/${aliasName}`;
}
