/**
 * The rules every StateStore enforces the same way, whatever it stores into: conditional-write
 * conflicts, lease ownership and expiry, which runs count as open, and which names may become
 * file names or keys. Keeping them here means both stores fail with the same words.
 */
import { StateError } from '../errors';
import type { AuditHead } from './audit-chain';
import type { Lease, Run, RunStatus } from './types';

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

/** True when `existing` keeps `runId` from taking the lease at `now`. */
export function leaseBlocks(existing: Lease | undefined, runId: string, now: Date): existing is Lease {
  if (!existing) return false;
  if (existing.runId === runId) return false;
  return Date.parse(existing.expiresAt) > now.getTime();
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
