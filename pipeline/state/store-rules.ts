/**
 * The rules every StateStore enforces the same way, whatever it stores into: conditional-write
 * conflicts, lease ownership and expiry, which runs count as open, and which names may become
 * file names or keys. Keeping them here means both stores fail with the same words.
 */
import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import { FenceLostError, RunBusyError, StateError } from '../errors';
import { pidNamespace, probeableHolder } from './pid-namespace';
import type { AuditHead } from './audit-chain';
import type { Lease, LockHolder, Run, RunLock, RunRef, RunStatus } from './types';

/** Runs in these states still hold (or may still need) their key ring's lease. */
const OPEN_RUN_STATUSES: readonly RunStatus[] = ['open', 'waiting', 'failed'];

export function isOpenRun(run: Pick<Run, 'status'>): boolean {
  return OPEN_RUN_STATUSES.includes(run.status);
}

export function matchesRunFilter(run: Run, filter: { keyring?: string; open?: boolean } | undefined): boolean {
  if (filter?.keyring !== undefined && run.keyring !== filter.keyring) return false;
  if (filter?.open !== undefined && isOpenRun(run) !== filter.open) return false;
  return true;
}

export type VersionedKind = 'ledger' | 'run';

/** The version a conditional write must carry: a non-negative integer (0 = create). */
export function assertWritableVersion(kind: VersionedKind, id: string, version: unknown): number {
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0) {
    throw new StateError(`${kind} ${id}: version ${String(version)} is not a non-negative integer`, {
      fault: 'internal',
      nextStep: `pass the ${kind} as last read from the state store (version 0 to create it)`,
    });
  }
  return version;
}

/** Two writers started from the same version; the later one must re-read and redo its change. */
export function versionConflict(kind: VersionedKind, id: string, stored: number, given: number): StateError {
  const what =
    stored === 0
      ? `${kind} ${id} does not exist (you had version ${given})`
      : given === 0
        ? `${kind} ${id} already exists (version ${stored}, you tried to create it)`
        : `${kind} ${id} was changed by someone else (version ${stored}, you had ${given})`;
  return new StateError(`${what}: re-run the command`, {
    fault: 'operator',
    retryable: true,
    nextStep: 're-run the command; it reads the current state first',
  });
}

/** Runs that have ended: their lease may be taken over. */
export function isEndedRun(run: Pick<Run, 'status'>): boolean {
  return !isOpenRun(run);
}

/**
 * Whether `runId` may take the lease `existing` at `now`: free, its own, expired, or held by a run
 * that has ended. `holderRun` is the run the lease names, read under the same lock (undefined:
 * not found). A lease whose run is missing is never taken over: runs are stored before their
 * lease, so it means the state was edited or restored partially.
 */
export function leaseDecision(existing: Lease | undefined, runId: string, now: Date, holderRun: Run | undefined): 'take' | 'refuse-missing-run' | 'refuse-held' {
  if (!existing || existing.runId === runId) return 'take';
  if (Date.parse(existing.expiresAt) <= now.getTime()) return 'take';
  if (holderRun === undefined) return 'refuse-missing-run';
  return isEndedRun(holderRun) ? 'take' : 'refuse-held';
}

/**
 * A run re-taking its own lease rewrites it only when less than half its time is left: a routine
 * re-check (is the soak over?) must not change state that is committed to version control.
 */
export function ownLeaseStillFresh(existing: Lease, runId: string, ttlMs: number, now: Date): boolean {
  return existing.runId === runId && Date.parse(existing.expiresAt) - now.getTime() > ttlMs / 2;
}

/**
 * The whole lease decision both stores make, reading through `getRun`: the existing lease when it
 * is this run's and fresh (nothing to write), or the lease to write; a refusal throws, naming the
 * holder or the missing run.
 */
export async function judgeLease(
  request: { readonly keyring: string; readonly runId: string; readonly holder: string; readonly ttlMs: number; readonly now: Date; readonly where: string },
  existing: Lease | undefined,
  getRun: (id: string) => Promise<Run | undefined>,
): Promise<{ readonly keep: Lease } | { readonly write: Lease }> {
  const { keyring, runId, holder, ttlMs, now, where } = request;
  if (existing && ownLeaseStillFresh(existing, runId, ttlMs, now)) return { keep: existing };
  const holderRun = existing && existing.runId !== runId ? await getRun(existing.runId) : undefined;
  const decision = leaseDecision(existing, runId, now, holderRun);
  if (existing && decision === 'refuse-missing-run') throw leaseOfMissingRun(existing, where);
  if (existing && decision === 'refuse-held') throw leaseHeld(existing, runId);
  return { write: newLease(keyring, runId, holder, ttlMs, now) };
}

export function leaseOfMissingRun(existing: Lease, where: string): StateError {
  return new StateError(
    `key ring ${existing.keyring} is leased to run ${existing.runId}, which is not in the ${where}; the lease is kept until ${existing.expiresAt}`,
    {
      fault: 'operator',
      nextStep: `restore run ${existing.runId} from version control or a backup; if it never existed, remove the lease of ${existing.keyring} through a reviewed change`,
    },
  );
}

export function runMustExistBeforeLease(runId: string): StateError {
  return new StateError(`run ${runId} must be stored before it takes its key ring's lease`, { fault: 'internal' });
}

export function leaseHeld(existing: Lease, wantedBy: string): StateError {
  return new StateError(
    `key ring ${existing.keyring} is leased to run ${existing.runId} (holder ${existing.holder}) until ${existing.expiresAt}; run ${wantedBy} cannot take it`,
    {
      fault: 'operator',
      retryable: true,
      nextStep: `finish or undo run ${existing.runId} (\`rotate advance ${existing.runId}\` or \`rotate rollback ${existing.runId}\`), or wait until the lease expires`,
    },
  );
}

export function newLease(keyring: string, runId: string, holder: string, ttlMs: number, now: Date): Lease {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new StateError(`lease on key ring ${keyring}: ttlMs ${ttlMs} must be a positive number of milliseconds`, {
      fault: 'internal',
    });
  }
  return { keyring, runId, holder, expiresAt: new Date(now.getTime() + ttlMs).toISOString() };
}

// Key ring names and run ids become file names and DynamoDB keys; refuse anything that could
// escape the state directory or collide after case folding tricks.
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function assertSafeName(what: 'key ring' | 'run id', name: string): string {
  if (typeof name !== 'string' || !SAFE_NAME.test(name) || name.includes('..')) {
    throw new StateError(
      `${what} ${JSON.stringify(name)} cannot be stored: use 1–128 letters, digits, '.', '_' or '-', starting with a letter or digit`,
      { fault: 'operator', nextStep: `check the ${what} you passed on the command line or in the config` },
    );
  }
  return name;
}

/**
 * Appending after a removed tail would move the head back and hide the removal, so an append
 * refuses when the head records more entries than the log holds.
 */
export function assertHeadNotAhead(lastSeq: number, head: AuditHead | undefined, store: string): void {
  if (head && head.seq > lastSeq) {
    throw new StateError(
      `the audit log of the ${store} ends at entry ${lastSeq} but its head records entry ${head.seq}: entries were removed; nothing was appended`,
      {
        fault: 'operator',
        nextStep: 'run `rotate audit verify`, restore the audit log from version control or a backup, then re-run the command',
      },
    );
  }
}

// ---- execution locks ---------------------------------------------------------------------------

/** Who this process is, for execution locks. */
export function thisProcess(actor: string, command?: string): LockHolder {
  const namespace = pidNamespace();
  return { host: os.hostname(), pid: process.pid, ...(namespace === undefined ? {} : { pidNamespace: namespace }), actor, ...(command ? { command } : {}) };
}

/**
 * True when `existing` keeps anyone else from taking the run's execution lock at `now`: it is
 * unexpired and its process may still run. A holder on this host whose pid is gone crashed (or was
 * killed), so its lock is free at once; on another host only expiry tells.
 */
export function runLockBlocks(existing: RunLock, now: Date, isAlive: (pid: number) => boolean): boolean {
  if (Date.parse(existing.expiresAt) <= now.getTime()) return false;
  if (probeableHolder(existing.holder.host, existing.holder.pidNamespace, os.hostname()) && !isAlive(existing.holder.pid)) return false;
  return true;
}

export function newRunLock(run: RunRef, holder: LockHolder, ttlMs: number, now: Date): RunLock {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new StateError(`execution lock on run ${run.id}: ttlMs ${ttlMs} must be a positive number of milliseconds`, { fault: 'internal' });
  }
  return {
    runId: run.id,
    keyring: run.keyring,
    token: randomBytes(16).toString('hex'),
    holder,
    acquiredAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + ttlMs).toISOString(),
  };
}

export function runBusy(existing: RunLock): RunBusyError {
  return new RunBusyError(existing.runId, existing.holder, existing.acquiredAt, existing.expiresAt);
}

/** The fence check every fenced write makes: the lock stored for the run is still `fence`'s. */
export function assertFence(stored: RunLock | undefined, fence: RunLock): void {
  if (stored?.token === fence.token) return;
  throw new FenceLostError(
    fence.runId,
    stored ? `${stored.holder.actor} (pid ${stored.holder.pid} on ${stored.holder.host}) took it over at ${stored.acquiredAt}` : 'the lock was released or broken',
  );
}
