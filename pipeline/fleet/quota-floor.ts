/**
 * The floor a fleet cannot beat: the time its quota-bound calls need at the KMS request quotas.
 *
 * Calls of one quota bucket in one account+Region are spaced at 1/rate; different buckets, and
 * different accounts or Regions, proceed in parallel. A fleet command is a phase: stage by stage
 * (`fleet advance`, then people approve, then `fleet delete`) each command waits for its slowest
 * key ring; `fleet run` is one phase from start to scheduled deletion. So:
 *
 *   floor = Σ over phases p of  max over (account, Region, bucket b) of  (n(p, b) − burst) / rate(b)
 *
 * where n(p, b) is the number of calls of bucket b the phase makes in that account+Region, burst
 * the tokens a bucket starts with (1: the client spaces every call) and rate(b) the quota in
 * requests per second. Everything else a fleet does (reads, polling, state writes, process start)
 * can overlap these waits; the fleet bench reports how close to this floor a fleet comes.
 */
import type { KeyRingConfig } from '../config/types';
import { KMS_REQUEST_QUOTAS, quotaFor, type QuotaTable } from '../aws/quotas';

/** Quota-bound calls of one phase: `<account>|<region>` → KMS operation → count. */
export type PhaseCalls = ReadonlyMap<string, Readonly<Record<string, number>>>;

/** The quota-bound KMS calls a rotation makes per key ring, phase by phase (advance, then delete). */
export function rotationCallsPerKeyRing(keyring: Pick<KeyRingConfig, 'rotation'>): Array<Record<string, number>> {
  return [
    // GetKeyLastUsage (5/s): integration-checks reads the old key's last use, and schedule-deletion
    // reads it again before deleting.
    { CreateKey: 1, EnableKeyRotation: 1, UpdateAlias: 1, GetKeyLastUsage: 1, ...(keyring.rotation.disableOldKeyDuringSoak ? { DisableKey: 1 } : {}) },
    { GetKeyLastUsage: 1, ScheduleKeyDeletion: 1 },
  ];
}

/** Adds one key ring's calls to per-phase totals. */
export function addCalls(phases: Array<Map<string, Record<string, number>>>, keyring: Pick<KeyRingConfig, 'account' | 'region'>, perPhase: ReadonlyArray<Readonly<Record<string, number>>>): void {
  perPhase.forEach((calls, i) => {
    const phase = (phases[i] ??= new Map());
    const group = `${keyring.account}|${keyring.region}`;
    const totals = phase.get(group) ?? {};
    for (const [op, n] of Object.entries(calls)) totals[op] = (totals[op] ?? 0) + n;
    phase.set(group, totals);
  });
}

export interface PhaseFloor {
  readonly ms: number;
  /** The account+Region and bucket that sets the floor. */
  readonly boundBy?: { readonly group: string; readonly bucket: string; readonly calls: number; readonly perSecond: number };
}

/** The floor of one phase (see the module comment). */
export function phaseFloor(calls: PhaseCalls, quotas: QuotaTable = { kms: KMS_REQUEST_QUOTAS }, burst = 1): PhaseFloor {
  let best: PhaseFloor = { ms: 0 };
  for (const [group, ops] of calls) {
    const buckets = new Map<string, { calls: number; perSecond: number }>();
    for (const [op, n] of Object.entries(ops)) {
      const quota = quotaFor(quotas, 'kms', op);
      if (!quota) continue;
      const b = buckets.get(quota.bucket) ?? { calls: 0, perSecond: quota.perSecond };
      buckets.set(quota.bucket, { ...b, calls: b.calls + n });
    }
    for (const [bucket, b] of buckets) {
      const ms = (Math.max(0, b.calls - burst) / b.perSecond) * 1000;
      if (ms > best.ms) best = { ms, boundBy: { group, bucket, calls: b.calls, perSecond: b.perSecond } };
    }
  }
  return best;
}

/** The floor of a sequence of phases: the sum of theirs. */
export function quotaFloorMs(phases: readonly PhaseCalls[], quotas?: QuotaTable, burst?: number): number {
  return phases.reduce((sum, phase) => sum + phaseFloor(phase, quotas, burst).ms, 0);
}
