import { randomUUID } from 'node:crypto';
import { cloneState } from '../snapshot';
import type { KeyStore } from '../kms/key-store';
import { keyArn, parseKeyArn } from '../kms/key-store';
import type { OrganizationSeed } from '../seed';
import { identityCenterPolicyGaps } from './identity-center-policy';
import { InstanceRegions } from './instance-regions';

export type KeyType = 'AWS_OWNED_KMS_KEY' | 'CUSTOMER_MANAGED_KEY';

export interface EncryptionSetting {
  readonly keyType: KeyType;
  readonly kmsKeyArn?: string;
}

export interface IdentityStoreEntry {
  readonly id: string;
  readonly name: string;
  readonly displayName?: string;
}

export interface Instance {
  readonly instanceArn: string;
  readonly identityStoreId: string;
  readonly account: string;
  /** The primary Region: where the instance was enabled and where it is managed. */
  readonly region: string;
  readonly createdDate: Date;
  /** Accounts registered as delegated administrators: they may read the instance, not change it. */
  readonly delegatedAdministrators: readonly string[];
  /** Additional Regions (AddRegion / RemoveRegion). */
  readonly regions: InstanceRegions;
  name?: string;
  /** The key the instance's data is encrypted with now (kept through UPDATING and UPDATE_FAILED). */
  encryption: EncryptionSetting;
  encryptionStatus: 'ENABLED' | 'UPDATING' | 'UPDATE_FAILED';
  encryptionStatusReason?: string;
  /** The switch in flight while UPDATING, and when (real time, ms) it settles. */
  pending?: { readonly setting: EncryptionSetting; readonly dueAt: number; readonly timer: NodeJS.Timeout };
  readonly users: IdentityStoreEntry[];
  readonly groups: IdentityStoreEntry[];
}

/**
 * Identity Center instances and the asynchronous encryption switch (UpdateInstance API reference,
 * EncryptionConfigurationDetails: UPDATING → ENABLED, or UPDATE_FAILED with EncryptionStatusReason
 * while the previous key stays in use), and their additional Regions.
 */
export class InstanceRegistry {
  private readonly instances = new Map<string, Instance>();

  constructor(
    seed: OrganizationSeed,
    private readonly keys: KeyStore,
    now: () => Date,
    private readonly updateDelayMs: number,
    regionDelayMs: number,
  ) {
    for (const s of seed.instances) {
      this.instances.set(s.instanceArn, {
        instanceArn: s.instanceArn,
        identityStoreId: s.identityStoreId,
        account: s.account,
        region: s.region,
        name: s.name,
        createdDate: now(),
        delegatedAdministrators: s.delegatedAdministrators ?? [],
        regions: new InstanceRegions(regionDelayMs),
        encryption: { keyType: 'AWS_OWNED_KMS_KEY' },
        encryptionStatus: 'ENABLED',
        users: (s.users ?? []).map((u) => ({ id: randomUUID(), name: u.userName, displayName: u.displayName })),
        groups: (s.groups ?? []).map((g) => ({ id: randomUUID(), name: g.displayName, displayName: g.displayName })),
      });
    }
  }

  /** A copy of every instance; refused while a switch is in flight (its timer cannot be copied). */
  exportState(): Map<string, Instance> {
    for (const instance of this.instances.values()) {
      if (instance.pending) throw new Error(`instance ${instance.instanceArn} is switching keys; snapshot the emulator once it is ENABLED`);
    }
    return cloneState(this.instances);
  }

  importState(state: Map<string, Instance>): void {
    for (const instance of this.instances.values()) if (instance.pending) clearTimeout(instance.pending.timer);
    this.instances.clear();
    for (const [arn, instance] of cloneState(state)) this.instances.set(arn, instance);
  }

  /** An instance by ARN, with any due workflow settled first (so a poll never sees a stale UPDATING or ADDING). */
  get(instanceArn: string): Instance | undefined {
    const instance = this.instances.get(instanceArn);
    if (instance?.pending && Date.now() >= instance.pending.dueAt) this.settle(instance);
    instance?.regions.settle(Date.now());
    return instance;
  }

  /** Whether the instance serves `region`: its primary Region, or an additional Region once ACTIVE. */
  servesRegion(instance: Instance, region: string): boolean {
    return region === instance.region || instance.regions.get(region)?.status === 'ACTIVE';
  }

  list(): Instance[] {
    return [...this.instances.keys()].map((arn) => this.get(arn)!);
  }

  byIdentityStore(identityStoreId: string): Instance | undefined {
    return this.list().find((i) => i.identityStoreId === identityStoreId);
  }

  /** Starts the switch; the caller has validated the request and checked the instance is not UPDATING. */
  beginSwitch(instance: Instance, setting: EncryptionSetting): void {
    const timer = setTimeout(() => this.settle(instance), this.updateDelayMs);
    timer.unref();
    instance.pending = { setting, dueAt: Date.now() + this.updateDelayMs, timer };
    instance.encryptionStatus = 'UPDATING';
    instance.encryptionStatusReason = undefined;
  }

  /** The switch's outcome is decided when it settles, so a key disabled mid-switch fails it. */
  private settle(instance: Instance): void {
    const pending = instance.pending;
    if (!pending) return;
    clearTimeout(pending.timer);
    instance.pending = undefined;
    const problem = pending.setting.keyType === 'CUSTOMER_MANAGED_KEY' ? this.switchProblem(instance, pending.setting.kmsKeyArn!) : undefined;
    if (problem) {
      instance.encryptionStatus = 'UPDATE_FAILED';
      instance.encryptionStatusReason = problem;
    } else {
      instance.encryption = pending.setting;
      instance.encryptionStatus = 'ENABLED';
      instance.encryptionStatusReason = undefined;
    }
  }

  /**
   * Why Identity Center cannot use `kmsKeyArn` for `instance` in `region` (default: the primary
   * Region), or undefined when it can. The same rules decide a switch, an AddRegion and whether
   * Identity Store reads still work (Identity Center user guide: the key must be an enabled
   * SYMMETRIC_DEFAULT ENCRYPT_DECRYPT key in the instance's account and Region whose policy lets
   * the services use it; in an additional Region, the multi-Region key's replica there).
   */
  keyProblem(instance: Instance, kmsKeyArn: string, region = instance.region): string | undefined {
    const arn = parseKeyArn(kmsKeyArn);
    if (!arn) return `${kmsKeyArn} is not a KMS key ARN.`;
    if (arn.account !== instance.account) return `KMS key ${kmsKeyArn} is in account ${arn.account}; it must be in the instance's account ${instance.account}.`;
    if (arn.region !== region) return `KMS key ${kmsKeyArn} is in Region ${arn.region}; it must be in the instance's Region ${region}.`;
    const key = this.keys.peek(kmsKeyArn);
    if (!key) {
      return region === instance.region
        ? `KMS key ${kmsKeyArn} was not found.`
        : `KMS key ${kmsKeyArn} was not found: the multi-Region key has no replica in ${region}.`;
    }
    if (key.state === 'Disabled') return `KMS key ${kmsKeyArn} is disabled.`;
    if (key.state === 'PendingDeletion' || key.state === 'PendingReplicaDeletion') return `KMS key ${kmsKeyArn} is pending deletion.`;
    if (key.state === 'Creating') return `KMS key ${kmsKeyArn} is still being created (KeyState Creating).`;
    if (key.keySpec !== 'SYMMETRIC_DEFAULT' || key.keyUsage !== 'ENCRYPT_DECRYPT') {
      return `KMS key ${kmsKeyArn} is ${key.keySpec} / ${key.keyUsage}; IAM Identity Center needs a SYMMETRIC_DEFAULT ENCRYPT_DECRYPT key.`;
    }
    const gaps = identityCenterPolicyGaps(key.policy);
    if (gaps.length > 0) return `The key policy of ${kmsKeyArn} does not let IAM Identity Center use the key: ${gaps.join('; ')}.`;
    return undefined;
  }

  /**
   * Why a switch to `kmsKeyArn` fails, or undefined: the key must work in the primary Region and,
   * in every additional Region, be multi-Region with a working replica there (Identity Center user
   * guide, "Replicate IAM Identity Center to an additional Region", step 1).
   */
  switchProblem(instance: Instance, kmsKeyArn: string): string | undefined {
    const primary = this.keyProblem(instance, kmsKeyArn);
    if (primary) return primary;
    for (const { name } of instance.regions.list().filter((r) => r.status !== 'REMOVING')) {
      const problem = this.keyProblem(instance, regionalKeyArn(kmsKeyArn, name), name);
      if (problem) return `In additional Region ${name}: ${problem}`;
    }
    return undefined;
  }

  /** Undefined while the instance's current key works in `region`; otherwise why its data cannot be read there. */
  currentKeyProblem(instance: Instance, region = instance.region): string | undefined {
    if (instance.encryption.keyType !== 'CUSTOMER_MANAGED_KEY') return undefined;
    return this.keyProblem(instance, regionalKeyArn(instance.encryption.kmsKeyArn!, region), region);
  }

  /** Stops pending timers (emulator shutdown). */
  dispose(): void {
    for (const instance of this.instances.values()) if (instance.pending) clearTimeout(instance.pending.timer);
  }
}

/** The ARN a multi-Region key has in `region` (same account and key id; KMS developer guide, "Multi-Region keys"). */
export function regionalKeyArn(kmsKeyArn: string, region: string): string {
  const arn = parseKeyArn(kmsKeyArn);
  return arn ? keyArn({ account: arn.account, region }, arn.keyId) : kmsKeyArn;
}
