/**
 * Ledger edits for the replicas of a multi-Region generation, as pure functions that return the
 * same object when nothing changes (so a re-run stage writes nothing twice).
 */
import type { Generation, Ledger, ReplicaKey, ReplicaState } from '../../ledger/types';

function withGeneration(ledger: Ledger, keyArn: string, change: (g: Generation) => Generation): Ledger {
  const current = ledger.generations.find((g) => g.keyArn === keyArn);
  if (!current) return ledger;
  const next = change(current);
  if (next === current) return ledger;
  return { ...ledger, generations: ledger.generations.map((g) => (g === current ? next : g)) };
}

/** Records replicas the generation gained (a Region already recorded keeps its record). */
export function addReplicas(ledger: Ledger, keyArn: string, replicas: readonly ReplicaKey[]): Ledger {
  return withGeneration(ledger, keyArn, (g) => {
    const known = new Set((g.replicas ?? []).map((r) => r.region));
    const added = replicas.filter((r) => !known.has(r.region));
    return added.length === 0 ? g : { ...g, replicas: [...(g.replicas ?? []), ...added] };
  });
}

export interface ReplicaChange {
  readonly region: string;
  readonly keyArn: string;
  readonly state: ReplicaState;
  readonly deletionDate?: string;
}

/** Sets replicas' states (adding a Region the ledger did not know, e.g. one found live before deletion). */
export function setReplicaStates(ledger: Ledger, keyArn: string, changes: readonly ReplicaChange[]): Ledger {
  return withGeneration(ledger, keyArn, (g) => {
    let replicas = [...(g.replicas ?? [])];
    let changed = false;
    for (const change of changes) {
      const next: ReplicaKey = { region: change.region, keyArn: change.keyArn, state: change.state, ...(change.state === 'pending-deletion' && change.deletionDate ? { deletionDate: change.deletionDate } : {}) };
      const index = replicas.findIndex((r) => r.region === change.region);
      const current = index < 0 ? undefined : replicas[index];
      if (current && current.state === next.state && current.deletionDate === next.deletionDate) continue;
      replicas = index < 0 ? [...replicas, next] : replicas.map((r, i) => (i === index ? next : r));
      changed = true;
    }
    return changed ? { ...g, replicas } : g;
  });
}

/**
 * When KMS can delete a multi-Region primary scheduled while replicas remain (PendingReplicaDeletion):
 * its window starts only once its last replica is deleted, so the latest replica deletion date
 * plus the window. Undefined when no replica date is known.
 */
export function projectedPrimaryDeletionDate(replicaDeletionDates: readonly (string | undefined)[], windowDays: number): string | undefined {
  const times = replicaDeletionDates.flatMap((d) => (d === undefined || Number.isNaN(Date.parse(d)) ? [] : [Date.parse(d)]));
  if (times.length === 0) return undefined;
  return new Date(Math.max(...times) + windowDays * 24 * 3600_000).toISOString();
}
