import { cloneState } from '../snapshot';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Caller } from '../operation';
import { AwsServiceError } from '../service-error';
import { assertCrossAccountUse } from './cross-account';
import { KeyMaterial } from './key-material';
import { MultiRegionKeySet } from './multi-region';

/**
 * KMS key states (KMS developer guide, "Key states of AWS KMS keys"). Creating (a new replica) and
 * Updating (both keys of an UpdatePrimaryRegion) are transient; PendingReplicaDeletion is a
 * multi-Region primary scheduled for deletion while replicas remain.
 */
export type KeyState = 'Creating' | 'Enabled' | 'Disabled' | 'PendingDeletion' | 'PendingReplicaDeletion' | 'Updating';

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
  /** Key material and rotation settings; one object shared by a multi-Region set. */
  readonly material: KeyMaterial;
  /** The multi-Region set this key belongs to (multi-Region keys only). */
  readonly set?: MultiRegionKeySet;
  state: KeyState;
  /** A transient state's end (real ms) and the state that follows it. */
  transition?: { readonly untilMs: number; readonly then: KeyState };
  description: string;
  policy: string;
  tags: Map<string, string>;
  deletionDate?: Date;
  pendingWindowInDays?: number;
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

export type KeyProps = Pick<KmsKey, 'keySpec' | 'keyUsage' | 'multiRegion' | 'description' | 'policy' | 'tags'>;

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

const slot = (account: string, region: string, id: string): string => `${account}/${region}/${id}`;

/**
 * Every KMS key and alias of every account and Region, keyed by account, Region and key id (a
 * multi-Region key has one key per Region under the same id). Time-based changes are applied
 * lazily, before each lookup (`settle`): transient states end, due rotations happen, and keys past
 * their deletion date are deleted with their aliases (ScheduleKeyDeletion API reference).
 */
export class KeyStore {
  private readonly keys = new Map<string, KmsKey>();
  private readonly aliases = new Map<string, KmsAlias>();
  /** The earliest time-based change (emulator-clock ms, real ms) as of the last full pass. */
  private due = { clockMs: -Infinity, realMs: -Infinity };

  constructor(private readonly now: () => Date) {}

  /** A copy of every key and alias (tests restore it to start scenarios from one prepared state). */
  exportState(): { keys: Map<string, KmsKey>; aliases: Map<string, KmsAlias> } {
    return cloneState({ keys: this.keys, aliases: this.aliases });
  }

  importState(state: { keys: Map<string, KmsKey>; aliases: Map<string, KmsAlias> }): void {
    const copy = cloneState(state);
    this.keys.clear();
    this.aliases.clear();
    for (const [k, v] of copy.keys) this.keys.set(k, v);
    for (const [k, v] of copy.aliases) this.aliases.set(k, v);
    this.due = { clockMs: -Infinity, realMs: -Infinity };
  }

  /** CreateKey: a single-Region key, or the primary of a new multi-Region set. */
  create(scope: Scope, props: KeyProps): KmsKey {
    const keyId = props.multiRegion ? `mrk-${randomBytes(16).toString('hex')}` : randomUUID();
    const set = props.multiRegion ? new MultiRegionKeySet(keyId, scope.account, scope.region) : undefined;
    return this.insert({ ...props, keyId, scope, material: new KeyMaterial(), set, state: 'Enabled' });
  }

  /** ReplicateKey: a replica of `primary` in `region`, Creating until `readyAtMs` (real time). */
  replicate(primary: KmsKey, region: string, props: Pick<KmsKey, 'description' | 'policy' | 'tags'>, readyAtMs: number): KmsKey {
    return this.insert({
      ...props,
      keyId: primary.keyId,
      keySpec: primary.keySpec,
      keyUsage: primary.keyUsage,
      multiRegion: true,
      scope: { account: primary.account, region },
      material: primary.material,
      set: primary.set,
      state: 'Creating',
      transition: { untilMs: readyAtMs, then: 'Enabled' },
    });
  }

  private insert(init: KeyProps & Pick<KmsKey, 'keyId' | 'material' | 'set' | 'state' | 'transition'> & { scope: Scope }): KmsKey {
    const { scope, ...rest } = init;
    const key: KmsKey = { ...rest, arn: keyArn(scope, init.keyId), account: scope.account, region: scope.region, creationDate: this.now() };
    this.keys.set(slot(key.account, key.region, key.keyId), key);
    key.set?.add(key);
    return key;
  }

  /** All keys, optionally of one account and Region, in creation order. */
  list(scope?: Partial<Scope>): KmsKey[] {
    this.settle();
    return [...this.keys.values()].filter(
      (k) => (!scope?.account || k.account === scope.account) && (!scope?.region || k.region === scope.region),
    );
  }

  /** The key with this id in this account and Region, if any (no access checks). */
  get(scope: Scope, keyId: string): KmsKey | undefined {
    this.settle();
    return this.keys.get(slot(scope.account, scope.region, keyId));
  }

  /**
   * A key by ARN, or by bare key id in any account and Region (the primary when a multi-Region set
   * has several) — the emulator's own read-only views.
   */
  peek(keyIdOrArn: string): KmsKey | undefined {
    this.settle();
    const arn = parseKeyArn(keyIdOrArn);
    if (arn) return this.keys.get(slot(arn.account, arn.region, arn.keyId));
    const matches = [...this.keys.values()].filter((k) => k.keyId === keyIdOrArn);
    return matches.find((k) => !k.set || k.set.typeOf(k) === 'PRIMARY') ?? matches[0];
  }

  /**
   * Resolves a KeyId parameter as KMS does for `operation`: a key id or key ARN, and — where the
   * operation allows it — an alias name or alias ARN (DescribeKey / Encrypt API references,
   * "KeyId"). Ids and aliases name keys of the caller's account and Region; a key ARN of another
   * Region is NotFoundException, and one of another account is subject to cross-account rules.
   */
  resolve(caller: Caller, keyId: string, options: { allowAlias: boolean; operation: string }): KmsKey {
    this.settle();
    const aliasName = this.aliasNameOf(caller, keyId);
    if (aliasName !== undefined) {
      if (!options.allowAlias) {
        throw new AwsServiceError('NotFoundException', `Invalid keyId '${keyId}': this operation takes a key ID or key ARN, not an alias`);
      }
      const alias = this.aliases.get(slot(caller.account, caller.region, aliasName));
      if (!alias) throw new AwsServiceError('NotFoundException', `Alias ${aliasArn(caller, aliasName)} is not found.`);
      return this.keys.get(slot(caller.account, caller.region, alias.targetKeyId))!;
    }
    const arn = parseKeyArn(keyId);
    if (arn) {
      const key = arn.region === caller.region ? this.keys.get(slot(arn.account, arn.region, arn.keyId)) : undefined;
      if (arn.account !== caller.account && key) assertCrossAccountUse(key, caller, options.operation);
      if (!key) throw new AwsServiceError('NotFoundException', `Key '${keyId}' does not exist`);
      return key;
    }
    if (!KEY_ID.test(keyId)) throw new AwsServiceError('NotFoundException', `Invalid keyId ${keyId}`);
    const key = this.keys.get(slot(caller.account, caller.region, keyId));
    if (!key) throw new AwsServiceError('NotFoundException', `Key '${keyArn(caller, keyId)}' does not exist`);
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
    this.settle();
    return this.aliases.get(slot(scope.account, scope.region, aliasName));
  }

  putAlias(alias: KmsAlias): void {
    this.aliases.set(slot(alias.account, alias.region, alias.aliasName), alias);
  }

  deleteAlias(scope: Scope, aliasName: string): boolean {
    return this.aliases.delete(slot(scope.account, scope.region, aliasName));
  }

  listAliases(scope: Scope): KmsAlias[] {
    this.settle();
    return [...this.aliases.values()]
      .filter((a) => a.account === scope.account && a.region === scope.region)
      .sort((a, b) => a.aliasName.localeCompare(b.aliasName));
  }

  /**
   * Something may now be due sooner than the last pass found (a key scheduled for deletion, a
   * rotation enabled or started, a transient state begun): the next lookup makes a full pass.
   * Every mutating KMS operation calls it (kms/operations.ts).
   */
  invalidate(): void {
    this.due = { clockMs: -Infinity, realMs: -Infinity };
  }

  /**
   * Applies every time-based change that is due. It runs before every lookup, so it returns at once
   * while nothing is due, and otherwise makes one pass that also finds the next due time.
   */
  private settle(): void {
    const nowMs = this.now().getTime();
    const realNowMs = Date.now();
    if (nowMs < this.due.clockMs && realNowMs < this.due.realMs) return;
    let clockMs = Infinity;
    let realMs = Infinity;
    let expired = false;
    for (const key of this.keys.values()) {
      if (key.transition && key.transition.untilMs <= realNowMs) {
        key.state = key.transition.then;
        key.transition = undefined;
      }
      if (key.transition) realMs = Math.min(realMs, key.transition.untilMs);
      const { material } = key;
      if (material.isDue(nowMs, realNowMs)) material.advance(new Date(nowMs), realNowMs);
      clockMs = Math.min(clockMs, material.nextAutomaticMs());
      if (material.onDemand) realMs = Math.min(realMs, material.onDemand.dueAtMs);
      if (key.state === 'PendingDeletion' && key.deletionDate) {
        if (key.deletionDate.getTime() <= nowMs) expired = true;
        else clockMs = Math.min(clockMs, key.deletionDate.getTime());
      }
    }
    this.due = { clockMs, realMs };
    if (!expired) return;
    // Deleting a replica can start its primary's waiting period, which may itself be over already.
    for (let deleted = this.deleteExpired(new Date(nowMs)); deleted; deleted = this.deleteExpired(new Date(nowMs)));
    this.invalidate();
  }

  /** KMS deletes a key, and the aliases pointing at it, once its deletion date has passed. */
  private deleteExpired(now: Date): boolean {
    let deleted = false;
    for (const [id, key] of this.keys) {
      if (key.state !== 'PendingDeletion' || !key.deletionDate || key.deletionDate > now) continue;
      this.keys.delete(id);
      deleted = true;
      for (const [name, alias] of this.aliases) {
        if (alias.account === key.account && alias.region === key.region && alias.targetKeyId === key.keyId) this.aliases.delete(name);
      }
      if (key.set) {
        key.set.remove(key);
        this.afterReplicaDeleted(key.set, key.deletionDate);
      }
    }
    return deleted;
  }

  /**
   * ScheduleKeyDeletion API reference: a primary in PendingReplicaDeletion becomes PendingDeletion
   * when its last replica is deleted, and its waiting period begins then.
   */
  private afterReplicaDeleted(set: MultiRegionKeySet, at: Date): void {
    const primary = set.primary();
    if (!primary || primary.state !== 'PendingReplicaDeletion' || set.replicas().length > 0) return;
    primary.state = 'PendingDeletion';
    primary.deletionDate = new Date(at.getTime() + primary.pendingWindowInDays! * 86_400_000);
  }
}
