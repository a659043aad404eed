/**
 * The default, embedded StateStore: one directory, reviewable JSON files.
 *
 *   ledgers/<keyring>.json   read by main.ts at synth (committed in GitOps)
 *   runs/<run id>.json
 *   leases/<keyring>.json
 *   audit.jsonl              one hash-chained entry per line, append-only
 *   audit.head               last seq and hash, so removing the tail is detected
 *   .lock                    store-wide lock around every read-modify-write
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { StateError } from '../errors';
import type { Ledger } from '../ledger/types';
import { type AuditHead, chainAuditEntry, verifyAuditChain } from './audit-chain';
import { FileLock, type FileLockOptions } from './file-lock';
import { corruptFile, prettySortedJson, readJsonFile, removeFile, writeFileAtomic } from './json-files';
import {
  assertHeadNotAhead,
  assertSafeName,
  assertWritableVersion,
  leaseBlocks,
  leaseHeld,
  matchesRunFilter,
  newLease,
  versionConflict,
  type VersionedKind,
} from './store-rules';
import type { AuditEntry, AuditVerification, Lease, NewAuditEntry, Run, StateStore } from './types';

export interface FileStateStoreOptions {
  /** Lock tuning (stale threshold, wait bound, where notes go). */
  readonly lock?: Omit<FileLockOptions, 'now'>;
  /** Clock for lease expiry and audit times (tests move it); not used by the lock. Default: the system clock. */
  readonly now?: () => Date;
}

export const AUDIT_LOG_FILE = 'audit.jsonl';
export const AUDIT_HEAD_FILE = 'audit.head';
export const LOCK_FILE = '.lock';

/** An audit log that could not be read line by line; verification reports it instead of throwing. */
interface ParsedAuditLog {
  readonly entries: AuditEntry[];
  readonly unreadable?: { readonly line: number; readonly why: string };
}

export class FileStateStore implements StateStore {
  readonly description: string;
  private readonly lock: FileLock;
  private readonly now: () => Date;

  constructor(
    readonly dir: string,
    options: FileStateStoreOptions = {},
  ) {
    this.dir = path.resolve(dir);
    this.description = `file store at ${this.dir}`;
    this.now = options.now ?? (() => new Date());
    // The lock judges staleness by the real clock, never the test clock that moves leases.
    this.lock = new FileLock(path.join(this.dir, LOCK_FILE), { ...options.lock });
  }

  // ---- ledgers ---------------------------------------------------------------------------

  async getLedger(keyring: string): Promise<Ledger | undefined> {
    return readJsonFile<Ledger>(this.ledgerFile(keyring), `the ledger of key ring ${keyring}`);
  }

  async putLedger(ledger: Ledger): Promise<Ledger> {
    return this.conditionalPut('ledger', ledger.keyring, ledger, this.ledgerFile(ledger.keyring));
  }

  async listLedgers(): Promise<Ledger[]> {
    const names = await this.jsonNamesIn('ledgers');
    const ledgers = await Promise.all(names.map((name) => this.getLedger(name)));
    return ledgers.filter((l): l is Ledger => l !== undefined);
  }

  // ---- runs ------------------------------------------------------------------------------

  async getRun(id: string): Promise<Run | undefined> {
    return readJsonFile<Run>(this.runFile(id), `run ${id}`);
  }

  async putRun(run: Run): Promise<Run> {
    return this.conditionalPut('run', run.id, run, this.runFile(run.id));
  }

  async listRuns(filter?: { keyring?: string; open?: boolean }): Promise<Run[]> {
    const ids = await this.jsonNamesIn('runs');
    const runs = await Promise.all(ids.map((id) => this.getRun(id)));
    return runs
      .filter((r): r is Run => r !== undefined && matchesRunFilter(r, filter))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  // ---- leases ----------------------------------------------------------------------------

  async acquireLease(keyring: string, runId: string, holder: string, ttlMs: number): Promise<Lease> {
    assertSafeName('run id', runId);
    const file = this.leaseFile(keyring);
    return this.lock.withLock(async () => {
      const now = this.now();
      const existing = await this.readLease(file, keyring);
      if (leaseBlocks(existing, runId, now)) throw leaseHeld(existing, runId);
      const lease = newLease(keyring, runId, holder, ttlMs, now);
      await writeFileAtomic(file, prettySortedJson(lease));
      return lease;
    });
  }

  async releaseLease(keyring: string, runId: string): Promise<void> {
    const file = this.leaseFile(keyring);
    await this.lock.withLock(async () => {
      const existing = await this.readLease(file, keyring);
      // Idempotent: releasing a lease that is gone, or that another run has since taken, is a no-op.
      if (existing?.runId === runId) await removeFile(file);
    });
  }

  async getLease(keyring: string): Promise<Lease | undefined> {
    return this.readLease(this.leaseFile(keyring), keyring);
  }

  // ---- audit -----------------------------------------------------------------------------

  async appendAudit(entry: NewAuditEntry): Promise<AuditEntry> {
    return this.lock.withLock(async () => {
      const log = await this.readAuditLog();
      if (log.unreadable) throw this.unreadableAudit(log.unreadable);
      const last = log.entries[log.entries.length - 1];
      const head = await this.readAuditHead();
      assertHeadNotAhead(last?.seq ?? 0, head, this.description);
      const chained = chainAuditEntry(last, entry, this.now());
      await this.appendLine(path.join(this.dir, AUDIT_LOG_FILE), `${JSON.stringify(chained)}\n`);
      const newHead: AuditHead = { seq: chained.seq, hash: chained.hash };
      await writeFileAtomic(path.join(this.dir, AUDIT_HEAD_FILE), prettySortedJson(newHead));
      return chained;
    });
  }

  async readAudit(): Promise<AuditEntry[]> {
    const log = await this.readAuditLog();
    if (log.unreadable) throw this.unreadableAudit(log.unreadable);
    return log.entries;
  }

  async verifyAudit(): Promise<AuditVerification> {
    // Under the lock, so the log and its head are read as one consistent pair.
    return this.lock.withLock(async () => {
      const log = await this.readAuditLog();
      const head = await this.readAuditHead();
      if (log.unreadable) {
        return {
          ok: false,
          entries: log.entries.length,
          problem: { seq: log.unreadable.line, reason: `line ${log.unreadable.line} of ${AUDIT_LOG_FILE} is not an audit entry (${log.unreadable.why})` },
        };
      }
      return verifyAuditChain(log.entries, head);
    });
  }

  async close(): Promise<void> {
    // Nothing is held open between calls.
  }

  // ---- internals -------------------------------------------------------------------------

  private ledgerFile(keyring: string): string {
    return path.join(this.dir, 'ledgers', `${assertSafeName('key ring', keyring)}.json`);
  }

  private runFile(id: string): string {
    return path.join(this.dir, 'runs', `${assertSafeName('run id', id)}.json`);
  }

  private leaseFile(keyring: string): string {
    return path.join(this.dir, 'leases', `${assertSafeName('key ring', keyring)}.json`);
  }

  private async readLease(file: string, keyring: string): Promise<Lease | undefined> {
    return readJsonFile<Lease>(file, `the lease of key ring ${keyring}`);
  }

  private async conditionalPut<T extends { readonly version: number }>(kind: VersionedKind, id: string, doc: T, file: string): Promise<T> {
    const given = assertWritableVersion(kind, id, doc.version);
    return this.lock.withLock(async () => {
      const stored = await readJsonFile<T>(file, `${kind} ${id}`);
      const storedVersion = stored?.version ?? 0;
      if (storedVersion !== given) throw versionConflict(kind, id, storedVersion, given);
      const written = { ...doc, version: given + 1 };
      await writeFileAtomic(file, prettySortedJson(written));
      return written;
    });
  }

  private async jsonNamesIn(subdir: string): Promise<string[]> {
    let names: string[];
    try {
      names = await fs.readdir(path.join(this.dir, subdir));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return names
      .filter((n) => n.endsWith('.json') && !n.startsWith('.'))
      .map((n) => n.slice(0, -'.json'.length))
      .sort();
  }

  private async readAuditLog(): Promise<ParsedAuditLog> {
    let text: string;
    try {
      text = await fs.readFile(path.join(this.dir, AUDIT_LOG_FILE), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [] };
      throw error;
    }
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const entries: AuditEntry[] = [];
    for (let i = 0; i < lines.length; i++) {
      try {
        const parsed = JSON.parse(lines[i]!) as AuditEntry;
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
        entries.push(parsed);
      } catch (error) {
        return { entries, unreadable: { line: i + 1, why: (error as Error).message } };
      }
    }
    return { entries };
  }

  private async readAuditHead(): Promise<AuditHead | undefined> {
    return readJsonFile<AuditHead>(path.join(this.dir, AUDIT_HEAD_FILE), 'the audit head');
  }

  private unreadableAudit(where: { line: number; why: string }): StateError {
    const file = path.join(this.dir, AUDIT_LOG_FILE);
    return corruptFile(file, 'the audit log', `line ${where.line}: ${where.why}`);
  }

  private async appendLine(file: string, line: string): Promise<void> {
    await fs.mkdir(path.dirname(file), { recursive: true });
    const handle = await fs.open(file, 'a');
    try {
      await handle.writeFile(line, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}
