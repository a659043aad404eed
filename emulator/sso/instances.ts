import { randomUUID } from 'node:crypto';
import type { KeyStore } from '../kms/key-store';
import { parseKeyArn } from '../kms/key-store';
import type { OrganizationSeed } from '../seed';
import { identityCenterPolicyGaps } from './identity-center-policy';

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
  readonly region: string;
  readonly createdDate: Date;
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
 * while the previous key stays in use).
 */
export class InstanceRegistry {
  private readonly instances = new Map<string, Instance>();

  constructor(
    seed: OrganizationSeed,
    private readonly keys: KeyStore,
    now: () => Date,
    private readonly updateDelayMs: number,
  ) {
    for (const s of seed.instances) {
      this.instances.set(s.instanceArn, {
        instanceArn: s.instanceArn,
        identityStoreId: s.identityStoreId,
        account: s.account,
        region: s.region,
        name: s.name,
        createdDate: now(),
        encryption: { keyType: 'AWS_OWNED_KMS_KEY' },
        encryptionStatus: 'ENABLED',
        users: (s.users ?? []).map((u) => ({ id: randomUUID(), name: u.userName, displayName: u.displayName })),
        groups: (s.groups ?? []).map((g) => ({ id: randomUUID(), name: g.displayName, displayName: g.displayName })),
      });
    }
  }

  /** An instance by ARN, with any due switch settled first (so a poll never sees a stale UPDATING). */
  get(instanceArn: string): Instance | undefined {
    const instance = this.instances.get(instanceArn);
    if (instance?.pending && Date.now() >= instance.pending.dueAt) this.settle(instance);
    return instance;
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
    const problem = pending.setting.keyType === 'CUSTOMER_MANAGED_KEY' ? this.keyProblem(instance, pending.setting.kmsKeyArn!) : undefined;
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
   * Why Identity Center cannot use `kmsKeyArn` for `instance`, or undefined when it can. The same
   * rules decide a switch and whether Identity Store reads still work (Identity Center user guide:
   * the key must be an enabled SYMMETRIC_DEFAULT ENCRYPT_DECRYPT key in the instance's account and
   * Region whose policy lets the services use it).
   */
  keyProblem(instance: Instance, kmsKeyArn: string): string | undefined {
    const arn = parseKeyArn(kmsKeyArn);
    if (!arn) return `${kmsKeyArn} is not a KMS key ARN.`;
    if (arn.account !== instance.account) return `KMS key ${kmsKeyArn} is in account ${arn.account}; it must be in the instance's account ${instance.account}.`;
    if (arn.region !== instance.region) return `KMS key ${kmsKeyArn} is in Region ${arn.region}; it must be in the instance's Region ${instance.region}.`;
    const key = this.keys.peek(kmsKeyArn);
    if (!key || key.arn !== kmsKeyArn) return `KMS key ${kmsKeyArn} was not found.`;
    if (key.state === 'Disabled') return `KMS key ${kmsKeyArn} is disabled.`;
    if (key.state === 'PendingDeletion') return `KMS key ${kmsKeyArn} is pending deletion.`;
    if (key.keySpec !== 'SYMMETRIC_DEFAULT' || key.keyUsage !== 'ENCRYPT_DECRYPT') {
      return `KMS key ${kmsKeyArn} is ${key.keySpec} / ${key.keyUsage}; IAM Identity Center needs a SYMMETRIC_DEFAULT ENCRYPT_DECRYPT key.`;
    }
    const gaps = identityCenterPolicyGaps(key.policy);
    if (gaps.length > 0) return `The key policy of ${kmsKeyArn} does not let IAM Identity Center use the key: ${gaps.join('; ')}.`;
    return undefined;
  }

  /** Undefined while the instance's current key works; otherwise why its data cannot be read. */
  currentKeyProblem(instance: Instance): string | undefined {
    return instance.encryption.keyType === 'CUSTOMER_MANAGED_KEY' ? this.keyProblem(instance, instance.encryption.kmsKeyArn!) : undefined;
  }

  /** Stops pending timers (emulator shutdown). */
  dispose(): void {
    for (const instance of this.instances.values()) if (instance.pending) clearTimeout(instance.pending.timer);
  }

}
