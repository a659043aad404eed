/**
 * The AWS calls of one `rotate` run on a multi-Region key ring, per Region, against the minimum a
 * correct rotation needs there: the calls that change something, and the reads the rules require
 * (preflight, the read-back after each alias move, one poll per asynchronous change, the replica
 * and policy checks before the switch, the checks and the evidence in every Region, the re-checks
 * right before DisableKey and ScheduleKeyDeletion, and the live replica list that the deletion of
 * a primary must follow to the end). The demo fails when a Region goes over MAX_RATIO.
 */
import type { CallLogEntry } from '../../emulator';

/** `bars`: the most calls a Region may take, as a multiple of its minimum. */
export const MAX_RATIO = 1.5;

type Minimum = Readonly<Record<string, number>>;

/** The key ring's own Region: the single-Region rotation's minimum plus what managing the replicas from the primary adds. */
function primaryMinimum(replicaRegions: number): Minimum {
  return {
    'sts:GetCallerIdentity': 1, // preflight: credentials of the key ring's account
    // preflight alias; verify-key; alias read-back; re-checks before DisableKey and ScheduleKeyDeletion;
    // the primary's live replica list before its deletion (multi-Region only)
    'kms:DescribeKey': 5 + (replicaRegions > 0 ? 1 : 0),
    // preflight; one poll of the switch; the check that the instance reports the new key; the re-checks before DisableKey and ScheduleKeyDeletion
    'sso-admin:DescribeInstance': 5,
    // the Regions Identity Center serves, live: before replicating, right before the switch, for the checks
    'sso-admin:ListRegions': replicaRegions > 0 ? 3 : 0,
    'kms:Encrypt': 2, // verify-key round trip, alias round trip
    'kms:Decrypt': 2,
    'kms:GetKeyPolicy': 1,
    'kms:GetKeyLastUsage': 2, // the evidence, and the fresh reading right before the deletion
    'identitystore:ListUsers': 1,
    'kms:CreateKey': 1,
    'kms:EnableKeyRotation': 1,
    'kms:ReplicateKey': replicaRegions, // sent in the primary's Region
    'kms:UpdateAlias': 1,
    'sso-admin:UpdateInstance': 1,
    'kms:DisableKey': 1,
    'kms:ScheduleKeyDeletion': 1,
  };
}

/** A replica Region: the replica's own checks, alias, evidence and deletion. */
const REPLICA_MINIMUM: Minimum = {
  // preflight alias; the new replica Enabled (one poll); verify-key; alias read-back; the switch's
  // readiness check; re-checks of the alias before DisableKey and ScheduleKeyDeletion
  'kms:DescribeKey': 7,
  'kms:GetKeyPolicy': 2, // verify-key; the switch's readiness check
  'kms:Encrypt': 2, // verify-key round trip, alias round trip
  'kms:Decrypt': 2,
  'kms:GetKeyLastUsage': 2, // the evidence, and the fresh reading right before the deletion
  'identitystore:ListUsers': 1,
  'kms:UpdateAlias': 1,
  'kms:DisableKey': 1,
  'kms:ScheduleKeyDeletion': 1,
};

export interface RegionCallBudget {
  readonly region: string;
  /** Calls per `service:operation`, with the minimum for each. */
  readonly operations: ReadonlyArray<{ readonly operation: string; readonly calls: number; readonly minimum: number }>;
  readonly total: number;
  readonly minimum: number;
  readonly ratio: number;
}

const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

export function callBudgetByRegion(log: readonly CallLogEntry[], regions: { readonly primary: string; readonly replicas: readonly string[] }): RegionCallBudget[] {
  return [regions.primary, ...regions.replicas].map((region) => {
    const minimum = region === regions.primary ? primaryMinimum(regions.replicas.length) : REPLICA_MINIMUM;
    const calls: Record<string, number> = {};
    for (const e of log.filter((entry) => entry.region === region)) calls[`${e.service}:${e.operation}`] = (calls[`${e.service}:${e.operation}`] ?? 0) + 1;
    const names = [...new Set([...Object.keys(minimum), ...Object.keys(calls)])].filter((n) => (calls[n] ?? 0) > 0 || (minimum[n] ?? 0) > 0).sort();
    const operations = names.map((operation) => ({ operation, calls: calls[operation] ?? 0, minimum: minimum[operation] ?? 0 }));
    const total = sum(operations.map((o) => o.calls));
    const min = sum(operations.map((o) => o.minimum));
    return { region, operations, total, minimum: min, ratio: min === 0 ? 0 : total / min };
  });
}

export function renderCallBudget(budgets: readonly RegionCallBudget[]): string[] {
  const lines: string[] = [];
  for (const b of budgets) {
    lines.push(`  ${b.region.padEnd(36)} calls  minimum`);
    for (const o of b.operations) lines.push(`    ${o.operation.padEnd(34)} ${String(o.calls).padStart(5)}  ${String(o.minimum).padStart(7)}${o.calls > o.minimum ? `  (+${o.calls - o.minimum})` : ''}`);
    lines.push(`    ${'total'.padEnd(34)} ${String(b.total).padStart(5)}  ${String(b.minimum).padStart(7)}  = ${b.ratio.toFixed(2)}× (at most ${MAX_RATIO}×)${b.ratio > MAX_RATIO ? '  OVER' : ''}`);
  }
  return lines;
}

/** Regions whose calls exceed MAX_RATIO × their minimum (the demo fails on any). */
export function regionsOverBudget(budgets: readonly RegionCallBudget[]): RegionCallBudget[] {
  return budgets.filter((b) => b.ratio > MAX_RATIO);
}
