/**
 * A key's on-demand rotation budget, from ListKeyRotations. Pure: `rotate status`, `rotate drift`
 * and the rotate-material stage all read it the same way.
 *
 * KMS allows at most 25 on-demand rotations (RotateKeyOnDemand) per key for the key's lifetime,
 * and the quota cannot be raised (KMS developer guide, "Perform on-demand key rotation"). A
 * multi-Region key set rotates as one: the primary's list is every replica's.
 */

/** RotateKeyOnDemand calls a key may ever have. */
export const ON_DEMAND_ROTATION_LIMIT = 25;

/** One ListKeyRotations entry, as the SDK returns it (only the fields read here). */
export interface KeyRotationEntry {
  readonly KeyMaterialId?: string;
  readonly KeyMaterialState?: string;
  readonly RotationDate?: Date | string;
  readonly RotationType?: string;
}

/** One ListKeyRotations page (the SDK's ListKeyRotationsResponse fits). */
export interface KeyRotationsPage {
  readonly Rotations?: readonly KeyRotationEntry[];
}

export interface RotationRecord {
  /** ISO date of the rotation. */
  readonly date: string | undefined;
  /** `AUTOMATIC` or `ON_DEMAND` (absent for the key's first material, listed with ALL_KEY_MATERIAL). */
  readonly type: string | undefined;
  readonly keyMaterialId: string | undefined;
  /** The material now used to encrypt. */
  readonly current: boolean;
}

export interface RotationBudget {
  readonly limit: number;
  readonly onDemandUsed: number;
  /** On-demand rotations the key has left (never below 0). */
  readonly remaining: number;
  readonly automatic: number;
  /** Every rotation listed, oldest first. */
  readonly history: readonly RotationRecord[];
}

function iso(date: Date | string | undefined): string | undefined {
  if (date === undefined) return undefined;
  const d = date instanceof Date ? date : new Date(date);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** The budget of a key from one ListKeyRotations output, or from all its pages in order. */
export function rotationBudget(pages: KeyRotationsPage | readonly KeyRotationsPage[]): RotationBudget {
  const list = Array.isArray(pages) ? (pages as readonly KeyRotationsPage[]) : [pages as KeyRotationsPage];
  const history: RotationRecord[] = list
    .flatMap((p) => p.Rotations ?? [])
    .map((r) => ({ date: iso(r.RotationDate), type: r.RotationType, keyMaterialId: r.KeyMaterialId, current: r.KeyMaterialState === 'CURRENT' }))
    .sort((a, b) => (a.date ?? '').localeCompare(b.date ?? ''));
  const onDemandUsed = history.filter((r) => r.type === 'ON_DEMAND').length;
  return {
    limit: ON_DEMAND_ROTATION_LIMIT,
    onDemandUsed,
    remaining: Math.max(0, ON_DEMAND_ROTATION_LIMIT - onDemandUsed),
    automatic: history.filter((r) => r.type === 'AUTOMATIC').length,
    history,
  };
}

/** Why one more on-demand rotation must not happen, or undefined when it may (`reserve`: rotations to keep unused). */
export function onDemandRefusal(budget: RotationBudget, reserve: number): string | undefined {
  const after = budget.remaining - 1;
  if (budget.remaining === 0) return `the key has used all ${budget.limit} on-demand rotations KMS allows for its lifetime`;
  if (after < reserve) {
    return `the key has ${budget.remaining} of ${budget.limit} on-demand rotations left; one more would leave ${after}, below the reserve of ${reserve} (rotation.onDemandRotationReserve)`;
  }
  return undefined;
}

/** One line for people: "12 of 25 on-demand rotations left (13 used; 4 automatic); last ON_DEMAND on 2026-…". */
export function describeBudget(budget: RotationBudget): string {
  const last = budget.history[budget.history.length - 1];
  const lastText = last ? `; last rotation ${last.type ?? 'initial material'} on ${last.date?.slice(0, 10) ?? 'unknown date'}` : '; never rotated';
  return `${budget.remaining} of ${budget.limit} on-demand rotations left (${budget.onDemandUsed} used, ${budget.automatic} automatic)${lastText}`;
}
