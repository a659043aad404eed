/**
 * The default, embedded StateStore: one directory, reviewable JSON files.
 *
 *   ledgers/<keyring>.json   read by main.ts at synth (committed in GitOps)
 *   runs/<run id>.json
 *   leases/<keyring>.json
 *   run-locks/<run id>.json  execution locks of runs being acted on (not committed)
 *   audit.jsonl, audit.head, audit/   the hash-chained audit log (see audit-segments.ts)
 *   .locks/                  short-held mutexes (not committed)
 *
 * Locking is per key ring: a key ring's ledger, runs, lease and execution locks are written under
 * that key ring's mutex, so different key rings never wait on each other. The audit chain is the
 * one thing ordered across key rings; its mutex is held for one constant-time append. Every
 * record is validated against its schema when read.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { z } from 'zod';
import { StateError } from '../errors';
import type { Ledger } from '../ledger/types';
import { verifyAuditChain } from './audit-chain';
import { AuditSegments, DEFAULT_SEGMENT_ENTRIES, seqOfLine } from './audit-segments';
import { FileLock, processIsAlive, type FileLockOptions } from './file-lock';
import { fileSource, prettySortedJson, readRecordFile, removeFile, syncDirectory, syncFile, writeFileAtomic } from './json-files';
import { assertStoredUnder, auditEntrySchema, leaseSchema, ledgerSchema, parseStored, parseStoredJson, runLockSchema, runSchema } from './schemas';
import {
  assertFence,
  assertSafeName,
  assertWritableVersion,
  judgeLease,
  matchesRunFilter,
  newRunLock,
  runBusy,
  runLockBlocks,
  runMustExistBeforeLease,
  versionConflict,
  type VersionedKind,
} from './store-rules';
import type {
  AuditEntry,
  AuditHead,
  AuditRange,
  AuditVerification,
  Lease,
  LockHolder,
  NewAuditEntry,
  Run,
  RunLock,
  RunRef,
  StateStore,
} from './types';

export { AUDIT_HEAD_FILE, AUDIT_LOG_FILE } from './audit-segments';

export interface FileStateStoreOptions {
  /** Mutex tuning (stale threshold, cross-process wait bound, where notes go). */
  readonly lock?: FileLockOptions;
  /** Clock for leases, execution locks and audit times (tests move it). Default: the system clock. */
  readonly now?: () => Date;
  /** Audit entries per segment file. Default 10,000. */
  readonly auditSegmentEntries?: number;
}

export const LOCK_DIR = '.locks';

/**
 * Refuses a state directory that is a file, or lies under one, naming the setting it came from
 * (`--state-dir`, `KEYROTOR_STATE_DIR`, `state.dir`): the store would otherwise fail at its first
 * read with a bare ENOTDIR, reported as a keyrotor bug. A directory that does not exist yet is
 * fine: the first write creates it.
 */
export function assertStateDirectory(dir: string, setting: string): void {
  const file = fileInTheWay(dir);
  if (file === undefined) return;
  const why = file === path.resolve(dir) ? 'it is a file' : `${file} is a file`;
  throw new StateError(`${setting} ${dir} is not a directory (${why}): the file store keeps its records in a directory`, {
    fault: 'operator',
    nextStep: `set ${setting} to the state directory (one that does not exist yet is created), or move ${file} out of the way`,
  });
}

/** A read under the state directory met a file where a directory belongs: a path set wrong, not a bug. */
function notADirectory(dir: string, cause: unknown): StateError {
  const file = fileInTheWay(dir) ?? dir;
  return new StateError(`the file store cannot read ${dir}: ${file} is a file, not a directory`, {
    fault: 'operator',
    nextStep: `point the file store at its state directory (--state-dir, KEYROTOR_STATE_DIR or state.dir in the config), or move ${file} out of the way`,
    cause,
  });
}

/** The path, or the nearest ancestor of it, that exists as something other than a directory; undefined when there is none. */
function fileInTheWay(target: string): string | undefined {
  for (let at = path.resolve(target); ; at = path.dirname(at)) {
    let stat: fs.Stats | undefined;
    try {
      stat = fs.statSync(at);
    } catch {
      // Missing, or under a file (ENOTDIR): look one level up.
    }
    if (stat) return stat.isDirectory() ? undefined : at;
    if (path.dirname(at) === at) return undefined;
  }
}
/** Audit entries written by one group commit at most (a batch holds the audit lock while it writes). */
const MAX_AUDIT_BATCH = 500;

export class FileStateStore implements StateStore {
  readonly description: string;
  private readonly now: () => Date;
  private readonly lockOptions: FileLockOptions;
  private readonly isAlive: (pid: number) => boolean;
  private readonly audit: AuditSegments;
  private readonly auditLock: FileLock;
  /** Documents written, and directories changed by a removal, since the last sync. */
  private readonly dirty = new Set<string>();
  private readonly dirtyDirs = new Set<string>();
  /** Writes recorded as dirty so far, the last of them known to be on disk, and the sync under way. */
  private writeSeq = 0;
  private durableSeq = 0;
  private syncing: Promise<void> | undefined;
  /** Audit appends waiting for the next group commit, and whether one is being written. */
  private readonly pendingAudit: Array<{ entry: NewAuditEntry; resolve: (entry: AuditEntry) => void; reject: (error: unknown) => void }> = [];
  private auditFlushing = false;

  constructor(
    readonly dir: string,
    options: FileStateStoreOptions = {},
  ) {
    this.dir = path.resolve(dir);
    this.description = `file store at ${this.dir}`;
    this.now = options.now ?? (() => new Date());
    this.lockOptions = options.lock ?? {};
    this.isAlive = options.lock?.isAlive ?? processIsAlive;
    this.audit = new AuditSegments(this.dir, options.auditSegmentEntries ?? DEFAULT_SEGMENT_ENTRIES, options.lock?.onNote);
    this.auditLock = new FileLock(path.join(this.dir, LOCK_DIR), 'audit', this.lockOptions);
  }

  // ---- ledgers ---------------------------------------------------------------------------

  async getLedger(keyring: string): Promise<Ledger | undefined> {
    const file = this.ledgerFile(keyring);
    const what = `the ledger of key ring ${keyring}`;
    const ledger = await readRecordFile(file, ledgerSchema, what);
    return ledger && assertStoredUnder(ledger, 'keyring', keyring, `the file name ${path.basename(file)}`, fileSource(file, what));
  }

  async putLedger(ledger: Ledger, fence?: RunLock): Promise<Ledger> {
    return this.keyringLock(ledger.keyring).withLock(async () => {
      if (fence) assertFence(await this.readRunLock(fence), fence);
      const stored = await this.getLedger(ledger.keyring);
      return this.conditionalWrite('ledger', ledger.keyring, ledger, stored?.version ?? 0, this.ledgerFile(ledger.keyring), ledgerSchema);
    });
  }

  async listLedgers(): Promise<Ledger[]> {
    const names = await this.jsonNamesIn('ledgers');
    const ledgers = await Promise.all(names.map((name) => this.getLedger(name)));
    return ledgers.filter((l): l is Ledger => l !== undefined);
  }

  // ---- runs ------------------------------------------------------------------------------

  async getRun(id: string): Promise<Run | undefined> {
    const file = this.runFile(id);
    const run = await readRecordFile(file, runSchema, `run ${id}`);
    // A run file copied under another name would otherwise act as a second run with the first's id.
    return run && assertStoredUnder(run, 'id', id, `the file name ${path.basename(file)}`, fileSource(file, `run ${id}`));
  }

  async putRun(run: Run, fence?: RunLock): Promise<Run> {
    return this.keyringLock(run.keyring).withLock(async () => {
      if (fence) assertFence(await this.readRunLock(fence), fence);
      const stored = await this.getRun(run.id);
      return this.conditionalWrite('run', run.id, run, stored?.version ?? 0, this.runFile(run.id), runSchema);
    });
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
    return this.keyringLock(keyring).withLock(async () => {
      const now = this.now();
      if ((await this.getRun(runId)) === undefined) throw runMustExistBeforeLease(runId);
      const judged = await judgeLease({ keyring, runId, holder, ttlMs, now, where: this.description }, await this.getLease(keyring), (id) => this.getRun(id));
      if ('keep' in judged) return judged.keep;
      await this.writeDocument(this.leaseFile(keyring), judged.write);
      return judged.write;
    });
  }

  async releaseLease(keyring: string, runId: string): Promise<void> {
    await this.keyringLock(keyring).withLock(async () => {
      const existing = await this.getLease(keyring);
      // Idempotent: releasing a lease that is gone, or that another run has since taken, is a no-op.
      if (existing?.runId === runId) {
        await removeFile(this.leaseFile(keyring), { durable: false });
        this.dirtyDirs.add(path.dirname(this.leaseFile(keyring)));
        this.writeSeq += 1;
      }
    });
  }

  async getLease(keyring: string): Promise<Lease | undefined> {
    return readRecordFile(this.leaseFile(keyring), leaseSchema, `the lease of key ring ${keyring}`);
  }

  // ---- execution locks -------------------------------------------------------------------

  async acquireRunLock(run: RunRef, holder: LockHolder, ttlMs: number): Promise<RunLock> {
    return this.keyringLock(run.keyring).withLock(async () => {
      const now = this.now();
      const existing = await this.readRunLock(run);
      if (existing && runLockBlocks(existing, now, this.isAlive)) throw runBusy(existing);
      const lock = newRunLock(run, holder, ttlMs, now);
      // Not forced to disk: after a power cut every holder is gone and the lock is stale anyway.
      await writeFileAtomic(this.runLockFile(run.id), prettySortedJson(lock), { durable: false, record: lock });
      return lock;
    });
  }

  async renewRunLock(lock: RunLock, ttlMs: number): Promise<RunLock> {
    return this.keyringLock(lock.keyring).withLock(async () => {
      assertFence(await this.readRunLock(lock), lock);
      const renewed = { ...lock, expiresAt: new Date(this.now().getTime() + ttlMs).toISOString() };
      await writeFileAtomic(this.runLockFile(lock.runId), prettySortedJson(renewed), { durable: false, record: renewed });
      return renewed;
    });
  }

  async releaseRunLock(lock: RunLock): Promise<void> {
    await this.keyringLock(lock.keyring).withLock(async () => {
      const stored = await this.readRunLock(lock);
      if (stored?.token === lock.token) await removeFile(this.runLockFile(lock.runId), { durable: false });
    });
  }

  async getRunLock(run: RunRef): Promise<RunLock | undefined> {
    return this.readRunLock(run);
  }

  // ---- audit -----------------------------------------------------------------------------

  /**
   * Group commit: appends made while a batch is being written wait for the next batch, which takes
   * the audit lock once and writes them all with one write and one fsync. Each caller still gets
   * its entry back only once it is on disk, so an intent is durable before its AWS call; a crash
   * mid-batch leaves a prefix of it (a torn last line is cut by the next append), none of which any
   * caller was told had been written.
   */
  async appendAudit(entry: NewAuditEntry): Promise<AuditEntry> {
    return new Promise<AuditEntry>((resolve, reject) => {
      this.pendingAudit.push({ entry, resolve, reject });
      if (!this.auditFlushing) void this.flushAudit();
    });
  }

  private async flushAudit(): Promise<void> {
    this.auditFlushing = true;
    try {
      while (this.pendingAudit.length > 0) {
        const batch = this.pendingAudit.splice(0, MAX_AUDIT_BATCH);
        try {
          const written = await this.auditLock.withLock(() => this.audit.appendMany(batch.map((b) => b.entry), this.now(), this.description));
          batch.forEach((b, i) => {
            const result = written[i]!;
            if (result instanceof Error) b.reject(result);
            else b.resolve(result);
          });
        } catch (error) {
          for (const b of batch) b.reject(error);
        }
      }
    } finally {
      this.auditFlushing = false;
    }
  }

  async auditHead(): Promise<AuditHead | undefined> {
    const head = await this.audit.head();
    return head ? { seq: head.seq, hash: head.hash } : undefined;
  }

  async readAudit(range: AuditRange = {}): Promise<AuditEntry[]> {
    const parsed = await this.parseAuditLines(range);
    if (parsed.unreadable) {
      throw new StateError(`line ${parsed.unreadable.line} of ${parsed.unreadable.file} is not an audit entry: ${parsed.unreadable.why}`, {
        fault: 'operator',
        nextStep: 'run `rotate audit verify`, then restore the audit log from version control or a backup',
      });
    }
    return parsed.entries;
  }

  async verifyAudit(range: AuditRange = {}): Promise<AuditVerification> {
    // Head first: entries appended after this read only lengthen the log, never fail the check.
    const head = await this.audit.head();
    const whole = range.fromSeq === undefined && range.toSeq === undefined;
    const fromSeq = range.fromSeq ?? 1;
    // A range is read with the entry before it, the anchor its first entry must link to.
    const parsed = await this.parseAuditLines(whole ? {} : { fromSeq: Math.max(1, fromSeq - 1), ...(range.toSeq !== undefined ? { toSeq: range.toSeq } : {}) });
    if (parsed.unreadable) {
      return {
        ok: false,
        entries: parsed.entries.length,
        problem: { seq: parsed.unreadable.seq, reason: `line ${parsed.unreadable.line} of ${parsed.unreadable.file} is not an audit entry (${parsed.unreadable.why})` },
      };
    }
    if (whole) return verifyAuditChain(parsed.entries, head);
    const anchor = fromSeq > 1 ? parsed.entries.find((e) => e.seq === fromSeq - 1) : undefined;
    if (fromSeq > 1 && anchor === undefined) {
      return { ok: false, entries: 0, problem: { seq: fromSeq - 1, reason: `entry ${fromSeq - 1}, which entry ${fromSeq} links to, is missing` } };
    }
    const entries = parsed.entries.filter((e) => e.seq >= fromSeq);
    const reachesEnd = range.toSeq === undefined || (head !== undefined && range.toSeq >= head.seq);
    return verifyAuditChain(entries, reachesEnd ? head : undefined, anchor);
  }

  /**
   * Forces every document written since the last sync to disk (the file, then its directory for the
   * rename). Writes are atomic at once (temp file + rename) but durable only from here: the engine
   * syncs before every AWS mutation, so an intent always survives a power cut, and at the end of
   * every command; closing the store syncs too. The audit log is synced on every append.
   */
  async sync(): Promise<void> {
    // Every write made before this call must be on disk when it returns. A sync already under way
    // may hold some of them (it took the dirty set when it began), so wait for it rather than
    // return early; then one sync covers everything still dirty, for every caller waiting.
    const target = this.writeSeq;
    while (this.durableSeq < target) {
      if (!this.syncing) this.syncing = this.syncDirty().finally(() => (this.syncing = undefined));
      await this.syncing;
    }
  }

  /** Forces the dirty documents and directories to disk, all at once (the disk merges the flushes). */
  private async syncDirty(): Promise<void> {
    const upTo = this.writeSeq;
    const files = [...this.dirty];
    const dirs = new Set([...this.dirtyDirs, ...files.map((f) => path.dirname(f))]);
    this.dirty.clear();
    this.dirtyDirs.clear();
    try {
      await Promise.all(files.map((file) => syncFile(file)));
      await Promise.all([...dirs].map((dir) => syncDirectory(dir)));
    } catch (error) {
      // Not durable: the next sync tries these again.
      files.forEach((f) => this.dirty.add(f));
      dirs.forEach((d) => this.dirtyDirs.add(d));
      throw error;
    }
    this.durableSeq = Math.max(this.durableSeq, upTo);
  }

  async close(): Promise<void> {
    await this.sync();
  }

  // ---- internals -------------------------------------------------------------------------

  /** The mutex of one key ring's records. */
  private keyringLock(keyring: string): FileLock {
    return new FileLock(path.join(this.dir, LOCK_DIR), `keyring-${assertSafeName('key ring', keyring)}`, this.lockOptions);
  }

  private ledgerFile(keyring: string): string {
    return path.join(this.dir, 'ledgers', `${assertSafeName('key ring', keyring)}.json`);
  }

  private runFile(id: string): string {
    return path.join(this.dir, 'runs', `${assertSafeName('run id', id)}.json`);
  }

  private leaseFile(keyring: string): string {
    return path.join(this.dir, 'leases', `${assertSafeName('key ring', keyring)}.json`);
  }

  private runLockFile(runId: string): string {
    return path.join(this.dir, 'run-locks', `${assertSafeName('run id', runId)}.json`);
  }

  private async readRunLock(run: { readonly runId: string } | RunRef): Promise<RunLock | undefined> {
    const id = 'runId' in run ? run.runId : run.id;
    return readRecordFile(this.runLockFile(id), runLockSchema, `the execution lock of run ${id}`);
  }

  /** An atomic, not yet durable document write, remembered for the next sync (and the next read). */
  private async writeDocument(file: string, doc: object): Promise<void> {
    await writeFileAtomic(file, prettySortedJson(doc), { durable: false, record: doc });
    this.dirty.add(file);
    this.writeSeq += 1;
  }

  private async conditionalWrite<T extends { readonly version: number }>(kind: VersionedKind, id: string, doc: T, storedVersion: number, file: string, schema: z.ZodType<unknown>): Promise<T> {
    const given = assertWritableVersion(kind, id, doc.version);
    if (storedVersion !== given) throw versionConflict(kind, id, storedVersion, given);
    const written = { ...doc, version: given + 1 };
    // Written records are validated like read ones: a bug never persists a record no one can read.
    parseStored(schema, written, fileSource(file, `the ${kind} about to be written`));
    await this.writeDocument(file, written);
    return written;
  }

  private async jsonNamesIn(subdir: string): Promise<string[]> {
    let names: string[];
    try {
      names = fs.readdirSync(path.join(this.dir, subdir));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return [];
      // The store's directory (or this subdirectory) is a file: the operator's path, not a bug.
      if (code === 'ENOTDIR') throw notADirectory(path.join(this.dir, subdir), error);
      throw error;
    }
    return names
      .filter((n) => n.endsWith('.json') && !n.startsWith('.'))
      .map((n) => n.slice(0, -'.json'.length))
      .sort();
  }

  private async parseAuditLines(range: AuditRange): Promise<{
    entries: AuditEntry[];
    unreadable?: { file: string; line: number; seq: number; why: string };
  }> {
    const lines = await this.audit.readLines(range.fromSeq, range.toSeq);
    const entries: AuditEntry[] = [];
    for (const { file, line, text } of lines) {
      // Lines before the range are skipped unparsed (incremental chain reads stay O(new entries)).
      if (range.fromSeq !== undefined && (seqOfLine(text) ?? range.fromSeq) < range.fromSeq) continue;
      let entry: AuditEntry;
      try {
        entry = parseStoredJson(auditEntrySchema, text, fileSource(file, `audit entry on line ${line}`));
      } catch (error) {
        const seq = (entries[entries.length - 1]?.seq ?? (range.fromSeq ?? 1) - 1) + 1;
        return { entries, unreadable: { file, line, seq, why: (error as Error).message } };
      }
      if (range.fromSeq !== undefined && entry.seq < range.fromSeq) continue;
      if (range.toSeq !== undefined && entry.seq > range.toSeq) continue;
      entries.push(entry);
    }
    return { entries };
  }
}

