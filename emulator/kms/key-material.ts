import { randomBytes, randomUUID } from 'node:crypto';

const DAY_MS = 86_400_000;

/** On-demand rotations a KMS key may have in its lifetime (KMS developer guide, "Perform on-demand key rotation"). */
export const ON_DEMAND_ROTATION_LIMIT = 25;

export type RotationType = 'AUTOMATIC' | 'ON_DEMAND';

/** One key material of a KMS key: the first one, or one a rotation made. */
export interface MaterialVersion {
  /** KeyMaterialId (ListKeyRotations); also embedded in every ciphertext made with it. */
  readonly id: string;
  /** 256-bit AES key; never leaves the emulator. */
  readonly bytes: Buffer;
  readonly rotationType?: RotationType;
  readonly rotationDate?: Date;
}

/**
 * The key material of a KMS key and its rotation settings. A multi-Region primary and its replicas
 * share one instance: key material and automatic rotation are shared properties, synchronized by
 * KMS (ReplicateKey API reference), so a rotation of the primary rotates every replica and a
 * ciphertext from any Region of the set decrypts in every other.
 *
 * Rotation keeps every earlier material for decryption and encrypts with the newest
 * (KMS developer guide, "Rotate AWS KMS keys").
 */
export class KeyMaterial {
  private readonly versions: MaterialVersion[] = [{ id: newMaterialId(), bytes: randomBytes(32) }];
  /** Automatic rotation: its period and the date its schedule counts from (enable date or last automatic rotation). */
  automatic?: { periodInDays: number; anchor: Date };
  /** An on-demand rotation in progress: when it was asked for (emulator clock) and when it completes (real ms). */
  onDemand?: { readonly startedAt: Date; readonly dueAtMs: number };

  get current(): MaterialVersion {
    return this.versions[this.versions.length - 1]!;
  }

  find(id: string): MaterialVersion | undefined {
    return this.versions.find((v) => v.id === id);
  }

  /** Every material, first one included, oldest first. */
  all(): readonly MaterialVersion[] {
    return this.versions;
  }

  /** On-demand rotations used so far, the one in progress included (it cannot be taken back). */
  onDemandRotationsUsed(): number {
    return this.versions.filter((v) => v.rotationType === 'ON_DEMAND').length + (this.onDemand ? 1 : 0);
  }

  nextAutomaticRotation(): Date | undefined {
    return this.automatic ? new Date(this.nextAutomaticMs()) : undefined;
  }

  /** The next automatic rotation in emulator-clock ms; Infinity when automatic rotation is off. */
  nextAutomaticMs(): number {
    return this.automatic ? this.automatic.anchor.getTime() + this.automatic.periodInDays * DAY_MS : Infinity;
  }

  /** Whether `advance` has anything to do (checked on every KMS call, so it allocates nothing). */
  isDue(nowMs: number, realNowMs: number): boolean {
    return this.nextAutomaticMs() <= nowMs || (this.onDemand !== undefined && this.onDemand.dueAtMs <= realNowMs);
  }

  /** EnableKeyRotation: a new period keeps the schedule's anchor; a first enable starts it now. */
  enableAutomatic(periodInDays: number, now: Date): void {
    this.automatic = { periodInDays, anchor: this.automatic?.anchor ?? now };
  }

  disableAutomatic(): void {
    this.automatic = undefined;
  }

  startOnDemand(now: Date, dueAtMs: number): void {
    this.onDemand = { startedAt: now, dueAtMs };
  }

  /**
   * Completes what is due: automatic rotations whose date the emulator clock has passed (one per
   * period, dated on schedule), and an on-demand rotation whose delay has elapsed in real time.
   */
  advance(now: Date, realNowMs: number): void {
    for (let next = this.nextAutomaticRotation(); next && next.getTime() <= now.getTime(); next = this.nextAutomaticRotation()) {
      this.versions.push({ id: newMaterialId(), bytes: randomBytes(32), rotationType: 'AUTOMATIC', rotationDate: next });
      this.automatic!.anchor = next;
    }
    if (this.onDemand && this.onDemand.dueAtMs <= realNowMs) {
      this.versions.push({ id: newMaterialId(), bytes: randomBytes(32), rotationType: 'ON_DEMAND', rotationDate: now });
      this.onDemand = undefined;
    }
  }
}

/** KMS key material ids are 64 hex characters. */
function newMaterialId(): string {
  return (randomUUID() + randomUUID()).replace(/-/g, '');
}
