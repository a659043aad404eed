/**
 * What only the file store has to prove: its files are reviewable and never half-written, its lock
 * survives crashed holders and names a live one, corrupt files are reported not replaced, and its
 * audit log detects tampering done with a text editor — and concurrent processes never fork it.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, promises as fs, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { StateError } from '../../pipeline/errors';
import { assertStateDirectory, AUDIT_HEAD_FILE, AUDIT_LOG_FILE, FileStateStore, LOCK_DIR } from '../../pipeline/state/file-store';
import { FileLock, LOCK_ENTRY_TARGET } from '../../pipeline/state/file-lock';
import { pidNamespace } from '../../pipeline/state/pid-namespace';
import { hashAuditEntry } from '../../pipeline/state/audit-chain';
import type { AuditEntry } from '../../pipeline/state/types';
import { sampleLedger, sampleRun } from './harness';
import { fsyncCount } from '../../pipeline/state/json-files';
import { openStateStore } from '../../pipeline/state/open';

const run = promisify(execFile);


/** The lock entries in a lock directory: every name but the file entries are linked to. */
function lockEntriesIn(lockDir: string): string[] {
  return readdirSync(lockDir).filter((name) => name !== LOCK_ENTRY_TARGET);
}

describe('FileStateStore', () => {
  let dir: string;
  let notes: string[];
  let store: FileStateStore;

  const open = (lock: { staleMs?: number; timeoutMs?: number } = {}): FileStateStore =>
    new FileStateStore(dir, { lock: { ...lock, onNote: (n) => notes.push(n) } });

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'keyrotor-file-store-'));
    notes = [];
    store = open();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('files on disk', () => {
    it('GIVEN a ledger WHEN stored THEN ledgers/<keyring>.json is pretty-printed JSON with keys sorted at every depth', async () => {
      await store.putLedger(sampleLedger());
      const text = readFileSync(path.join(dir, 'ledgers', 'identity-center.json'), 'utf8');
      expect(text.endsWith('}\n')).toBe(true);
      expect(text).toContain('\n  "generations": [\n');
      const topKeys = [...text.matchAll(/^ {2}"([^"]+)":/gm)].map((m) => m[1]);
      expect(topKeys).toEqual(['generations', 'identityCenter', 'keyring', 'updatedAt', 'version']);
      const generationKeys = [...text.matchAll(/^ {6}"([^"]+)":/gm)].map((m) => m[1]);
      expect(generationKeys).toEqual([...generationKeys].sort());
    });

    it('GIVEN many writes WHEN done THEN only the store files remain: no temp files, no lock entries', async () => {
      let ledger = await store.putLedger(sampleLedger());
      for (let i = 0; i < 5; i++) ledger = await store.putLedger({ ...ledger, updatedAt: `2026-01-0${i + 2}T00:00:00.000Z` });
      await store.putRun(sampleRun());
      await store.acquireLease('identity-center', 'run-1', 'alice', 1000);
      await store.appendAudit({ actor: 'alice', action: 'run.start' });
      expect(readdirSync(dir).sort()).toEqual(['.locks', AUDIT_HEAD_FILE, AUDIT_LOG_FILE, 'leases', 'ledgers', 'runs']);
      expect(lockEntriesIn(path.join(dir, '.locks'))).toEqual([]);
      expect(readdirSync(path.join(dir, 'ledgers'))).toEqual(['identity-center.json']);
      expect(readdirSync(path.join(dir, 'runs'))).toEqual(['run-1.json']);
    });

    it('GIVEN a run file that is not JSON WHEN read THEN a StateError names the file and it is left untouched', async () => {
      await store.putRun(sampleRun());
      const file = path.join(dir, 'runs', 'run-1.json');
      writeFileSync(file, '{"id": "run-1", ');
      const error = await store.getRun('run-1').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StateError);
      expect((error as StateError).message).toContain(file);
      expect((error as StateError).message).toMatch(/is not valid: it is not JSON/);
      await expect(store.putRun({ ...sampleRun(), version: 1 })).rejects.toThrow(file);
      expect(readFileSync(file, 'utf8')).toBe('{"id": "run-1", ');
    });

    it('GIVEN a corrupt ledger file WHEN ledgers are listed THEN the error names the file and says how to restore it', async () => {
      await fs.mkdir(path.join(dir, 'ledgers'));
      const file = path.join(dir, 'ledgers', 'identity-center.json');
      writeFileSync(file, 'not json');
      const error = (await store.listLedgers().catch((e: unknown) => e)) as StateError;
      expect(error.message).toMatch(new RegExp(`the ledger of key ring identity-center in ${file} is not valid: it is not JSON`));
      expect(error.nextStep).toMatch(/restore .* from version control/);
    });
  });

  describe('a path that is a file where a directory belongs', () => {
    it('GIVEN the store directory is a file WHEN runs or ledgers are listed THEN an operator StateError names the file and says where to point the store, not a raw ENOTDIR', async () => {
      const file = path.join(dir, 'state.json');
      writeFileSync(file, '{}');
      const onFile = new FileStateStore(file);
      for (const [list, subdir] of [[() => onFile.listRuns(), 'runs'], [() => onFile.listLedgers(), 'ledgers']] as const) {
        const error = (await list().catch((e: unknown) => e)) as StateError;
        expect(error).toBeInstanceOf(StateError);
        expect(error.fault).toBe('operator');
        expect(error.message).toBe(`the file store cannot read ${path.join(file, subdir)}: ${file} is a file, not a directory`);
        expect(error.nextStep).toBe(`point the file store at its state directory (--state-dir, KEYROTOR_STATE_DIR or state.dir in the config), or move ${file} out of the way`);
      }
    });

    it('GIVEN a file where runs/ belongs WHEN runs are listed THEN that file is named', async () => {
      writeFileSync(path.join(dir, 'runs'), '');
      await expect(store.listRuns()).rejects.toThrow(`the file store cannot read ${path.join(dir, 'runs')}: ${path.join(dir, 'runs')} is a file, not a directory`);
    });

    it('GIVEN a config whose state.dir is a file WHEN the store is opened THEN it is refused naming state.dir', async () => {
      const file = path.join(dir, 'state.json');
      writeFileSync(file, '{}');
      await expect(openStateStore({ type: 'file', dir: file })).rejects.toThrow(`state.dir ${file} is not a directory (it is a file)`);
    });

    it('GIVEN the setting a state directory came from THEN a file, or a path under one, is refused naming the setting, the path and the file; a missing directory is fine', () => {
      const file = path.join(dir, 'not-a-dir');
      writeFileSync(file, 'x');
      expect(() => assertStateDirectory(file, '--state-dir')).toThrow(`--state-dir ${file} is not a directory (it is a file): the file store keeps its records in a directory`);
      const under = path.join(file, 'state');
      let error: StateError | undefined;
      try {
        assertStateDirectory(under, 'KEYROTOR_STATE_DIR');
      } catch (e) {
        error = e as StateError;
      }
      expect(error).toBeInstanceOf(StateError);
      expect(error).toMatchObject({ fault: 'operator', message: `KEYROTOR_STATE_DIR ${under} is not a directory (${file} is a file): the file store keeps its records in a directory` });
      expect(error!.nextStep).toBe(`set KEYROTOR_STATE_DIR to the state directory (one that does not exist yet is created), or move ${file} out of the way`);
      expect(() => assertStateDirectory(dir, '--state-dir')).not.toThrow();
      expect(() => assertStateDirectory(path.join(dir, 'not', 'yet'), '--state-dir')).not.toThrow();
    });
  });

  describe('store locks', () => {
    const lockDir = (): string => path.join(dir, LOCK_DIR);
    /**
     * A lock entry whose name says who holds it and since when: an empty file (what a holder makes
     * where hard links are not supported), or a directory (what versions before 0.1 made).
     */
    const writeEntry = (name: string, holder: { pid: number; hostname: string; acquiredAt: string }, form: 'file' | 'directory' = 'file'): string => {
      mkdirSync(lockDir(), { recursive: true });
      const entry = path.join(lockDir(), [name, encodeURIComponent(holder.hostname), holder.pid, Date.parse(holder.acquiredAt), Math.random().toString(16).slice(2)].join('~'));
      if (form === 'directory') mkdirSync(entry);
      else writeFileSync(entry, '');
      return entry;
    };

    it('GIVEN a write in progress THEN its lock entry is a hard link to the lock directory\'s one entry file: taking a lock allocates no inode', async () => {
      await store.putLedger(sampleLedger()); // makes the entry file
      const target = statSync(path.join(lockDir(), LOCK_ENTRY_TARGET));
      let seen: { ino: number; nlink: number } | undefined;
      const lock = new FileLock(lockDir(), 'keyring-identity-center');
      await lock.withLock(async () => {
        const [entry] = lockEntriesIn(lockDir());
        const stat = statSync(path.join(lockDir(), entry!));
        seen = { ino: stat.ino, nlink: stat.nlink };
      });
      expect(seen).toEqual({ ino: target.ino, nlink: 2 });
      expect(statSync(path.join(lockDir(), LOCK_ENTRY_TARGET)).nlink).toBe(1);
    });

    it('GIVEN the lock directory was removed between two writes (a cleanup) WHEN the store writes again THEN the lock is taken as before', async () => {
      await store.putLedger(sampleLedger());
      rmSync(lockDir(), { recursive: true });
      mkdirSync(lockDir());
      await store.putRun(sampleRun());
      expect((await store.getRun('run-1'))?.id).toBe('run-1');
      expect(lockEntriesIn(lockDir())).toEqual([]);
    });

    it('GIVEN a stale lock entry left as a directory by an older version WHEN the store writes THEN it is broken like any other', async () => {
      const child = await run(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
      const entry = writeEntry('keyring-identity-center', { pid: Number(child.stdout), hostname: os.hostname(), acquiredAt: new Date().toISOString() }, 'directory');
      await store.putLedger(sampleLedger());
      expect(notes[0]).toMatch(new RegExp(`broke a stale state lock ${entry} held by pid ${Number(child.stdout)} .*no longer running`));
      expect(lockEntriesIn(lockDir())).toEqual([]);
    });

    it('GIVEN a lock entry left by a dead process on this host WHEN the store writes THEN that entry is broken with a note and the write succeeds', async () => {
      const child = await run(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
      const deadPid = Number(child.stdout); // the child has exited, so its pid is dead (pid reuse within a test is negligible)
      const entry = writeEntry('keyring-identity-center', { pid: deadPid, hostname: os.hostname(), acquiredAt: new Date().toISOString() });
      await store.putLedger(sampleLedger());
      expect(notes).toHaveLength(1);
      expect(notes[0]).toMatch(new RegExp(`broke a stale state lock ${entry} held by pid ${deadPid} .*no longer running`));
      expect(lockEntriesIn(lockDir())).toEqual([]);
    });

    it('GIVEN another host\'s lock entry older than the stale threshold WHEN the store writes THEN the old entry is broken (age is all there is to judge it by)', async () => {
      writeEntry('keyring-identity-center', { pid: 4242, hostname: 'other-host', acquiredAt: new Date(Date.now() - 60_000).toISOString() });
      await store.putLedger(sampleLedger());
      expect(notes[0]).toMatch(/held by pid 4242 on other-host .*s old \(stale after 30 s\)/);
    });

    it('GIVEN another host\'s entry dated ahead of this host\'s clock WHEN the store writes THEN the failure says the clocks differ', async () => {
      writeEntry('keyring-identity-center', { pid: 4242, hostname: 'other-host', acquiredAt: new Date(Date.now() + 600_000).toISOString() });
      const error = (await open({ timeoutMs: 100 }).putLedger(sampleLedger()).catch((e: unknown) => e)) as StateError;
      expect(error.message).toContain("(ahead of this host's clock: the two hosts' clocks differ, so its age cannot be judged)");
    });

    it('GIVEN an entry from a process with this host\'s name in another PID namespace (a container) WHEN its pid looks dead here THEN it is not broken as dead: only its age can make it stale', async () => {
      if (pidNamespace() === undefined) return; // no PID namespaces on this platform
      mkdirSync(lockDir(), { recursive: true });
      const entry = path.join(lockDir(), ['keyring-identity-center', `${encodeURIComponent(os.hostname())}@1`, 4_000_099, Date.now(), 'cafe'].join('~'));
      writeFileSync(entry, '');
      const error = (await open({ timeoutMs: 100 }).putLedger(sampleLedger()).catch((e: unknown) => e)) as StateError;
      expect(error).toBeInstanceOf(StateError);
      expect(error.message).toContain(`is held by pid 4000099 on ${os.hostname()}`);
      expect(notes).toEqual([]);
      expect(existsSync(entry)).toBe(true);
    });

    it('GIVEN an entry of a process on this host that is still running, older than the stale threshold (a paused holder) WHEN the store writes THEN it is never broken: the write waits, then fails naming the process to wait for or stop', async () => {
      const paused = spawn(process.execPath, ['-e', 'setTimeout(() => undefined, 60_000)'], { stdio: 'ignore' });
      try {
        const entry = writeEntry('keyring-identity-center', { pid: paused.pid!, hostname: os.hostname(), acquiredAt: new Date(Date.now() - 120_000).toISOString() });
        const error = (await open({ timeoutMs: 200 }).putLedger(sampleLedger()).catch((e: unknown) => e)) as StateError;
        expect(error).toBeInstanceOf(StateError);
        expect(error.message).toContain(`is held by pid ${paused.pid} on ${os.hostname()}`);
        expect(error.nextStep).toContain(`that process (pid ${paused.pid}) is still running on this host: wait for it to finish, or stop it if it is stuck`);
        expect(notes).toEqual([]);
        expect(existsSync(entry)).toBe(true);
      } finally {
        paused.kill();
      }
    });

    it('GIVEN a fresh lock held by a process on another host WHEN the store writes THEN it waits, then fails naming the holder and what to remove', async () => {
      writeEntry('keyring-identity-center', { pid: 4242, hostname: 'other-host', acquiredAt: new Date().toISOString() });
      const impatient = open({ timeoutMs: 100 });
      const error = (await impatient.putLedger(sampleLedger()).catch((e: unknown) => e)) as StateError;
      expect(error).toBeInstanceOf(StateError);
      expect(error.message).toMatch(new RegExp(`state lock keyring-identity-center in ${lockDir()} is held by pid 4242 on other-host`));
      expect(error.nextStep).toContain(`remove ${path.join(lockDir(), 'keyring-identity-center~*')}`);
      expect(error.retryable).toBe(true);
      expect(await store.getLedger('identity-center')).toBeUndefined();
      expect(notes).toEqual([]);
    });

    it('GIVEN a fresh lock on another host WHEN the store writes THEN the pid is not judged on this host and the store waits', async () => {
      writeEntry('keyring-identity-center', { pid: 999_999_999, hostname: 'some-other-host', acquiredAt: new Date().toISOString() });
      await expect(open({ timeoutMs: 50 }).putLedger(sampleLedger())).rejects.toThrow(/held by pid 999999999 on some-other-host/);
    });

    it('GIVEN one key ring locked by another process WHEN another key ring and the audit log are written THEN neither waits for it', async () => {
      writeEntry('keyring-identity-center', { pid: process.pid, hostname: os.hostname(), acquiredAt: new Date().toISOString() });
      const impatient = open({ timeoutMs: 100 });
      await expect(impatient.putLedger(sampleLedger('payments'))).resolves.toEqual(expect.objectContaining({ version: 1 }));
      await expect(impatient.appendAudit({ actor: 'alice', action: 'run.start' })).resolves.toEqual(expect.objectContaining({ seq: 1 }));
    });

    it('GIVEN fifty writers in one process on one key ring WHEN they all write at once THEN they queue: none fails or times out', async () => {
      const impatient = open({ timeoutMs: 1 });
      await impatient.putRun(sampleRun());
      const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => impatient.appendAudit({ actor: `w${i}`, action: 'queue' })));
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      expect(await store.verifyAudit()).toEqual({ ok: true, entries: 50 });
    });
  });

  describe('audit tampering', () => {
    const logFile = (): string => path.join(dir, AUDIT_LOG_FILE);
    const lines = (): string[] => readFileSync(logFile(), 'utf8').trimEnd().split('\n');
    const writeLines = (ls: string[]): void => writeFileSync(logFile(), `${ls.join('\n')}\n`);

    beforeEach(async () => {
      for (const action of ['run.start', 'kms:CreateKey', 'kms:UpdateAlias', 'sso:UpdateInstance', 'run.done']) {
        await store.appendAudit({ actor: 'alice', action, runId: 'run-1', detail: { note: action } });
      }
      expect(await store.verifyAudit()).toEqual({ ok: true, entries: 5 });
    });

    it("GIVEN an entry's detail edited in place WHEN verified THEN that entry is reported as edited", async () => {
      writeLines(lines().map((l, i) => (i === 2 ? l.replace('kms:UpdateAlias"}', 'nothing to see"}') : l)));
      expect(lines()[2]).toContain('nothing to see');
      expect(await store.verifyAudit()).toEqual({ ok: false, entries: 5, problem: { seq: 3, reason: 'entry 3 was edited: its content does not match its hash' } });
    });

    it('GIVEN an entry edited and its own hash recomputed WHEN verified THEN the broken link to the next entry exposes it', async () => {
      const ls = lines();
      const edited = { ...(JSON.parse(ls[1]!) as AuditEntry), actor: 'mallory' };
      ls[1] = JSON.stringify({ ...edited, hash: hashAuditEntry(edited) });
      writeLines(ls);
      const result = await store.verifyAudit();
      expect(result.problem?.seq).toBe(2);
      expect(result.problem?.reason).toMatch(/entry 3 does not link to entry 2/);
    });

    it('GIVEN two lines swapped WHEN verified THEN the reorder is reported at the first misplaced seq', async () => {
      const ls = lines();
      [ls[1], ls[2]] = [ls[2]!, ls[1]!];
      writeLines(ls);
      const result = await store.verifyAudit();
      expect(result.problem).toEqual({ seq: 2, reason: expect.stringMatching(/entries were reordered/) as unknown });
    });

    it('GIVEN a middle line deleted WHEN verified THEN the missing seq is reported as removed', async () => {
      writeLines(lines().filter((_, i) => i !== 2));
      expect((await store.verifyAudit()).problem).toEqual({ seq: 3, reason: expect.stringMatching(/entry 3 is missing .*removed/) as unknown });
    });

    it('GIVEN the last line deleted WHEN verified THEN the head exposes the removed tail, and appends are refused', async () => {
      writeLines(lines().slice(0, 4));
      expect(await store.verifyAudit()).toEqual({
        ok: false,
        entries: 4,
        problem: { seq: 5, reason: 'the log ends at entry 4 but the head records entry 5: the tail was removed' },
      });
      await expect(store.appendAudit({ actor: 'mallory', action: 'cover.up' })).rejects.toThrow(/head records entry 5: entries were removed; nothing was appended/);
      expect(lines()).toHaveLength(4);
    });

    it('GIVEN a forged line inserted with a correct hash and link WHEN verified THEN the duplicate seq exposes the insertion', async () => {
      const ls = lines();
      const before = JSON.parse(ls[1]!) as AuditEntry;
      const forged = { seq: 3, at: before.at, actor: 'mallory', action: 'approval.recorded', prevHash: before.hash };
      ls.splice(2, 0, JSON.stringify({ ...forged, hash: hashAuditEntry(forged) }));
      writeLines(ls);
      expect((await store.verifyAudit()).problem).toEqual({ seq: 3, reason: 'two entries carry seq 3: one of them was inserted' });
    });

    it('GIVEN a forged line with a made-up hash inserted WHEN verified THEN it is reported as inserted', async () => {
      const ls = lines();
      ls.splice(2, 0, JSON.stringify({ ...(JSON.parse(ls[2]!) as AuditEntry), actor: 'mallory' }));
      writeLines(ls);
      expect((await store.verifyAudit()).problem?.reason).toMatch(/entry 3 does not match its hash and another entry carries the same seq: it was inserted/);
    });

    it('GIVEN a line that is not JSON WHEN verified THEN the line is named; reading the log throws naming the file', async () => {
      const ls = lines();
      ls[3] = '{"seq": 4, oops';
      writeLines(ls);
      const result = await store.verifyAudit();
      expect(result.ok).toBe(false);
      expect(result.problem?.seq).toBe(4);
      expect(result.problem?.reason).toMatch(/line 4 of .*audit.jsonl is not an audit entry/);
      await expect(store.readAudit()).rejects.toThrow(logFile());
    });
  });

  describe('audit segments', () => {
    const small = (): FileStateStore => new FileStateStore(dir, { auditSegmentEntries: 4, lock: { onNote: (n) => notes.push(n) } });

    it('GIVEN a segment size of 4 WHEN 10 entries are appended THEN two closed segments and an active one hold them, and the chain verifies across them', async () => {
      const s4 = small();
      for (let i = 1; i <= 10; i++) await s4.appendAudit({ actor: 'alice', action: `a${i}` });
      expect(readdirSync(path.join(dir, 'audit')).sort()).toEqual(['000000000001-000000000004.jsonl', '000000000005-000000000008.jsonl']);
      expect(readFileSync(path.join(dir, AUDIT_LOG_FILE), 'utf8').trimEnd().split('\n')).toHaveLength(2);
      expect((await s4.readAudit()).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(await s4.verifyAudit()).toEqual({ ok: true, entries: 10 });
      expect(await s4.auditHead()).toEqual({ seq: 10, hash: (await s4.readAudit())[9]!.hash });
    });

    it('GIVEN closed segments WHEN one segment is verified on its own THEN only its entries are read and checked against the entry before it', async () => {
      const s4 = small();
      for (let i = 1; i <= 10; i++) await s4.appendAudit({ actor: 'alice', action: `a${i}` });
      expect(await s4.verifyAudit({ fromSeq: 5, toSeq: 8 })).toEqual({ ok: true, entries: 4 });
      const segment = path.join(dir, 'audit', '000000000005-000000000008.jsonl');
      writeFileSync(segment, readFileSync(segment, 'utf8').replace('"a6"', '"a6-edited"'));
      expect((await s4.verifyAudit({ fromSeq: 5, toSeq: 8 })).problem).toEqual({ seq: 6, reason: 'entry 6 was edited: its content does not match its hash' });
      expect((await s4.verifyAudit({ fromSeq: 9 })).ok).toBe(true);
      expect((await s4.verifyAudit()).problem?.seq).toBe(6);
    });

    it('GIVEN a crash after a segment was closed but before the head moved WHEN appending again THEN the chain continues from the closed segment without a duplicate seq', async () => {
      const s4 = small();
      for (let i = 1; i <= 3; i++) await s4.appendAudit({ actor: 'alice', action: `a${i}` });
      const headBefore = readFileSync(path.join(dir, AUDIT_HEAD_FILE), 'utf8');
      await s4.appendAudit({ actor: 'alice', action: 'a4' }); // closes the segment
      writeFileSync(path.join(dir, AUDIT_HEAD_FILE), headBefore); // as if the head write never happened
      await s4.appendAudit({ actor: 'alice', action: 'a5' });
      expect((await s4.readAudit()).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(await s4.verifyAudit()).toEqual({ ok: true, entries: 5 });
    });

    it('GIVEN an append torn by a crash (no trailing newline) WHEN appending again THEN the torn line is cut with a note and the chain stays intact', async () => {
      await store.appendAudit({ actor: 'alice', action: 'a1' });
      await fs.appendFile(path.join(dir, AUDIT_LOG_FILE), '{"seq":2,"at":"2026-');
      await store.appendAudit({ actor: 'alice', action: 'a2' });
      expect(notes.some((n) => /removed an incomplete last line/.test(n))).toBe(true);
      expect(await store.verifyAudit()).toEqual({ ok: true, entries: 2 });
    });

    it('GIVEN a head several entries behind the log (a crash after a batch reached the disk, before its head did) WHEN appending THEN the entries after the head are verified to chain from it, and the append goes on', async () => {
      for (let i = 1; i <= 3; i++) await store.appendAudit({ actor: 'alice', action: `a${i}` });
      const headFile = path.join(dir, AUDIT_HEAD_FILE);
      const headAfterThird = readFileSync(headFile, 'utf8');
      await Promise.all(['b1', 'b2', 'b3'].map((action) => store.appendAudit({ actor: 'alice', action }))); // one batch
      // The crash: the lines are on disk, the head still says entry 3.
      writeFileSync(headFile, headAfterThird);
      const fresh = open();
      await fresh.appendAudit({ actor: 'alice', action: 'after-crash' });
      expect(await fresh.verifyAudit()).toEqual({ ok: true, entries: 7 });
    });

    it('GIVEN a head several entries behind and an entry after it edited WHEN appending THEN it is refused as an edit', async () => {
      for (let i = 1; i <= 3; i++) await store.appendAudit({ actor: 'alice', action: `a${i}` });
      const headFile = path.join(dir, AUDIT_HEAD_FILE);
      const headAfterThird = readFileSync(headFile, 'utf8');
      for (let i = 4; i <= 6; i++) await store.appendAudit({ actor: 'alice', action: `a${i}` });
      writeFileSync(headFile, headAfterThird);
      const ls = readFileSync(path.join(dir, AUDIT_LOG_FILE), 'utf8').trimEnd().split('\n');
      const edited = { ...(JSON.parse(ls[4]!) as AuditEntry), actor: 'mallory' };
      ls[4] = JSON.stringify(edited); // its hash no longer matches
      writeFileSync(path.join(dir, AUDIT_LOG_FILE), `${ls.join('\n')}\n`);
      await expect(open().appendAudit({ actor: 'mallory', action: 'more' })).rejects.toThrow(/ends at entry 6 .* but its head records entry 3 .*: the log was edited; nothing was appended/);
    });

    it('GIVEN a log whose last entry was replaced with a consistent forgery WHEN appending THEN the head disagreement refuses the append', async () => {
      for (let i = 1; i <= 3; i++) await store.appendAudit({ actor: 'alice', action: `a${i}` });
      const ls = readFileSync(path.join(dir, AUDIT_LOG_FILE), 'utf8').trimEnd().split('\n');
      const last = { ...(JSON.parse(ls[2]!) as AuditEntry), actor: 'mallory' };
      ls[2] = JSON.stringify({ ...last, hash: hashAuditEntry(last) });
      writeFileSync(path.join(dir, AUDIT_LOG_FILE), `${ls.join('\n')}\n`);
      await expect(store.appendAudit({ actor: 'mallory', action: 'more' })).rejects.toThrow(/ends at entry 3 .* but its head records entry 3 .*: the log was edited; nothing was appended/);
    });
  });

  describe('concurrency across processes', () => {
    const worker = path.join(__dirname, 'fixtures', 'store-worker.js');

    it('GIVEN four processes appending at once WHEN all are done THEN the chain holds every entry once, in one unforked line', async () => {
      await Promise.all(['p1', 'p2', 'p3', 'p4'].map((actor) => run(process.execPath, [worker, 'append', dir, actor, '10'])));
      const entries = await store.readAudit();
      expect(entries).toHaveLength(40);
      expect(new Set(entries.map((e) => `${e.actor}:${String(e.detail?.i)}`)).size).toBe(40);
      expect(await store.verifyAudit()).toEqual({ ok: true, entries: 40 });
      expect(readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
      expect(lockEntriesIn(path.join(dir, LOCK_DIR))).toEqual([]);
    });

    it('GIVEN a stale lock entry and eight processes breaking it at once WHEN each does a read-sleep-write in the lock THEN none was lost: one holder at a time', async () => {
      const child = await run(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
      mkdirSync(path.join(dir, LOCK_DIR), { recursive: true });
      // An entry of a dead holder on this host, and an old-style entry file that says nothing but its age.
      mkdirSync(path.join(dir, LOCK_DIR, ['counter', encodeURIComponent(os.hostname()), Number(child.stdout), Date.now(), 'cafe'].join('~')));
      writeFileSync(path.join(dir, LOCK_DIR, 'counter~deadbeef'), '');
      await fs.utimes(path.join(dir, LOCK_DIR, 'counter~deadbeef'), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
      await Promise.all(Array.from({ length: 8 }, (_, i) => run(process.execPath, [worker, 'count', dir, `p${i}`, '5'])));
      expect(readFileSync(path.join(dir, 'counter'), 'utf8')).toBe('40');
      expect(lockEntriesIn(path.join(dir, LOCK_DIR))).toEqual([]);
    });
  });
});

describe('FileStateStore durability', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'keyrotor-sync-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('GIVEN document writes WHEN synced THEN each written file and its directory are forced to disk once, and a second sync has nothing to do', async () => {
    const store = new FileStateStore(dir, { lock: { onNote: () => undefined } });
    await store.putRun(sampleRun());
    const run = (await store.getRun('run-1'))!;
    await store.putRun({ ...run, status: 'waiting' });
    await store.putLedger(sampleLedger());
    const before = fsyncCount();
    await store.sync();
    // runs/run-1.json, ledgers/identity-center.json, and their two directories: written twice, synced once.
    expect(fsyncCount() - before).toBe(4);
    const again = fsyncCount();
    await store.sync();
    expect(fsyncCount() - again).toBe(0);
  });

  it('GIVEN a sync under way WHEN another caller syncs THEN it returns only after that sync has put the earlier writes on disk', async () => {
    const store = new FileStateStore(dir, { lock: { onNote: () => undefined } });
    await store.putRun(sampleRun());
    let firstDone = false;
    const first = store.sync().then(() => (firstDone = true));
    // The first sync took run-1.json as its own; this caller's write is the same file, so it may
    // not return until that flush has finished.
    await store.sync();
    expect(firstDone).toBe(true);
    await first;
  });

  it('GIVEN writes made while a sync is under way WHEN their writer syncs THEN one more sync covers them', async () => {
    const store = new FileStateStore(dir, { lock: { onNote: () => undefined } });
    await store.putRun(sampleRun());
    const first = store.sync();
    await store.putLedger(sampleLedger());
    const before = fsyncCount();
    await store.sync();
    await first;
    // ledgers/identity-center.json and its directory (run-1.json was the first sync's).
    expect(fsyncCount() - before).toBeGreaterThanOrEqual(2);
    const after = fsyncCount();
    await store.sync();
    expect(fsyncCount() - after).toBe(0);
  });

  it('GIVEN an audit append THEN it is forced to disk by itself (one fsync), the head is not', async () => {
    const store = new FileStateStore(dir, { lock: { onNote: () => undefined } });
    await store.appendAudit({ actor: 'a', action: 'first' });
    const before = fsyncCount();
    await store.appendAudit({ actor: 'a', action: 'second' });
    expect(fsyncCount() - before).toBe(1);
  });

  it('GIVEN many appends at once WHEN they are written THEN they share group commits (fewer fsyncs than entries), each caller gets its own entry, and the chain verifies', async () => {
    const store = new FileStateStore(dir, { lock: { onNote: () => undefined } });
    await store.appendAudit({ actor: 'a', action: 'first' });
    const before = fsyncCount();
    const written = await Promise.all(Array.from({ length: 40 }, (_, i) => store.appendAudit({ actor: 'a', action: `concurrent-${i}` })));
    expect(fsyncCount() - before).toBeLessThan(40);
    expect(written.map((e) => e.action)).toEqual(Array.from({ length: 40 }, (_, i) => `concurrent-${i}`));
    expect(written.map((e) => e.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 2));
    expect(await store.verifyAudit()).toMatchObject({ ok: true, entries: 41 });
    expect(await store.auditHead()).toEqual({ seq: 41, hash: written[39]!.hash });
  });

  it('GIVEN a batch in which one entry cannot be encoded WHEN it is written THEN that append fails alone and the others are chained without a gap', async () => {
    const store = new FileStateStore(dir, { lock: { onNote: () => undefined } });
    await store.appendAudit({ actor: 'a', action: 'first' });
    const appends = [
      store.appendAudit({ actor: 'a', action: 'good-1' }),
      store.appendAudit({ actor: 'a', action: 'bad', detail: { ratio: Number.NaN } }),
      store.appendAudit({ actor: 'a', action: 'good-2' }),
    ];
    const settled = await Promise.allSettled(appends);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((settled[1] as PromiseRejectedResult).reason)).toMatch(/cannot encode NaN/);
    expect((await store.readAudit()).map((e) => `${e.seq}:${e.action}`)).toEqual(['1:first', '2:good-1', '3:good-2']);
    expect((await store.verifyAudit()).ok).toBe(true);
  });

  it('GIVEN a batch that crosses a segment boundary WHEN it is written THEN the segment closes at its size and the chain runs on unbroken', async () => {
    const store = new FileStateStore(dir, { lock: { onNote: () => undefined }, auditSegmentEntries: 4 });
    await store.appendAudit({ actor: 'a', action: 'first' });
    await Promise.all(Array.from({ length: 9 }, (_, i) => store.appendAudit({ actor: 'a', action: `batch-${i}` })));
    expect(readdirSync(path.join(dir, 'audit')).sort()).toEqual(['000000000001-000000000004.jsonl', '000000000005-000000000008.jsonl']);
    expect(await store.verifyAudit()).toMatchObject({ ok: true, entries: 10 });
    await store.appendAudit({ actor: 'a', action: 'after' });
    expect((await store.readAudit()).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });
});
