/**
 * The file store's store-wide lock: a `.lock` file created with O_EXCL holding who took it (pid,
 * hostname, time), held around every read-modify-write. Critical sections last milliseconds, so a
 * lock older than `staleMs`, or one whose pid is dead on this host, belongs to a crashed process
 * and is broken (with a note). A live, fresh lock is waited for with bounded, jittered retries;
 * then the caller gets a StateError naming the holder and the file to remove.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import { StateError } from '../errors';
import { removeFile, syncDirectory } from './json-files';
import * as path from 'node:path';

export interface LockHolder {
  readonly pid: number;
  readonly hostname: string;
  readonly acquiredAt: string;
  /** Random per acquisition, so breaking a stale lock can tell it did not remove a fresh one. */
  readonly token: string;
}

export interface FileLockOptions {
  /** A lock older than this is stale whatever its pid. Default 30 s. */
  readonly staleMs?: number;
  /** How long to wait for a live lock before failing. Default 10 s. */
  readonly timeoutMs?: number;
  /** Receives the note written when a stale lock is broken. Default: stderr. */
  readonly onNote?: (note: string) => void;
  readonly now?: () => Date;
}

const DEFAULT_STALE_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 10_000;

export class FileLock {
  private readonly staleMs: number;
  private readonly timeoutMs: number;
  private readonly onNote: (note: string) => void;
  private readonly now: () => Date;

  constructor(
    readonly file: string,
    options: FileLockOptions = {},
  ) {
    this.staleMs = options.staleMs ?? DEFAULT_STALE_MS;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.onNote = options.onNote ?? ((note) => process.stderr.write(`${note}\n`));
    this.now = options.now ?? (() => new Date());
  }

  /** Runs `work` while holding the lock; always releases it. */
  async withLock<T>(work: () => Promise<T>): Promise<T> {
    const token = await this.acquire();
    try {
      return await work();
    } finally {
      await this.release(token);
    }
  }

  private async acquire(): Promise<string> {
    const started = Date.now();
    let delayMs = 5;
    let lastHolder: LockHolder | undefined;
    for (;;) {
      const token = await this.tryCreate();
      if (token) return token;
      const holder = await this.readHolder();
      if (holder === undefined) continue; // released between our create and read: try again at once
      const staleReason = this.staleReason(holder);
      if (staleReason) {
        await this.breakStale(holder, staleReason);
        continue;
      }
      lastHolder = holder;
      // Elapsed wall time bounds the wait; it is not an assertion about timing.
      if (Date.now() - started >= this.timeoutMs) throw this.timedOut(lastHolder);
      await sleep(delayMs + Math.random() * delayMs);
      delayMs = Math.min(delayMs * 2, 50);
    }
  }

  private async tryCreate(): Promise<string | undefined> {
    const token = randomBytes(8).toString('hex');
    const holder: LockHolder = { pid: process.pid, hostname: os.hostname(), acquiredAt: this.now().toISOString(), token };
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(this.file, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
      throw new StateError(`could not create the state lock ${this.file}: ${(error as Error).message}`, {
        fault: 'operator',
        nextStep: `check that ${path.dirname(this.file)} is writable`,
        cause: error,
      });
    }
    try {
      await handle.writeFile(JSON.stringify(holder), 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    return token;
  }

  /**
   * The current holder, or undefined when the lock vanished. A lock file that is empty or garbled
   * was caught between create and write (or by a crash there); it is judged by its file age.
   */
  private async readHolder(): Promise<LockHolder | undefined> {
    let text: string;
    let mtime: Date;
    try {
      [text, mtime] = await Promise.all([fs.readFile(this.file, 'utf8'), fs.stat(this.file).then((s) => s.mtime)]);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      const parsed = JSON.parse(text) as Partial<LockHolder>;
      if (typeof parsed.pid === 'number' && typeof parsed.hostname === 'string' && typeof parsed.acquiredAt === 'string') {
        return { pid: parsed.pid, hostname: parsed.hostname, acquiredAt: parsed.acquiredAt, token: String(parsed.token ?? '') };
      }
    } catch {
      // fall through: unreadable content
    }
    return { pid: 0, hostname: 'unknown', acquiredAt: mtime.toISOString(), token: '' };
  }

  private staleReason(holder: LockHolder): string | undefined {
    const ageMs = this.now().getTime() - Date.parse(holder.acquiredAt);
    if (!(ageMs <= this.staleMs)) return `it is ${Math.round(ageMs / 1000)} s old (stale after ${this.staleMs / 1000} s)`;
    if (holder.hostname === os.hostname() && holder.pid > 0 && !processIsAlive(holder.pid)) {
      return `its process ${holder.pid} is no longer running`;
    }
    return undefined;
  }

  /**
   * Moves the stale lock aside (rename is atomic), then checks that what moved is the lock that
   * was judged stale; if a racing process had replaced it with a fresh one meanwhile, that one is
   * put back (link fails if yet another lock appeared, in which case the newest stands).
   */
  private async breakStale(holder: LockHolder, reason: string): Promise<void> {
    const aside = `${this.file}.broken-${randomBytes(4).toString('hex')}`;
    try {
      await fs.rename(this.file, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    let moved: string;
    try {
      moved = await fs.readFile(aside, 'utf8');
    } catch {
      moved = '';
    }
    const movedToken = safeToken(moved);
    if (holder.token !== '' && movedToken !== holder.token) {
      await fs.link(aside, this.file).catch(() => undefined);
      await removeFile(aside);
      return;
    }
    await removeFile(aside);
    await syncDirectory(path.dirname(this.file));
    this.onNote(
      `note: broke a stale state lock ${this.file} held by pid ${holder.pid} on ${holder.hostname} since ${holder.acquiredAt}: ${reason}`,
    );
  }

  private async release(token: string): Promise<void> {
    const holder = await this.readHolder();
    // Only remove our own lock: if it was broken as stale and retaken, the new holder keeps it.
    if (holder?.token === token) await removeFile(this.file);
  }

  private timedOut(holder: LockHolder): StateError {
    return new StateError(
      `the state lock ${this.file} is held by pid ${holder.pid} on ${holder.hostname} since ${holder.acquiredAt}; gave up after ${this.timeoutMs / 1000} s`,
      {
        fault: 'operator',
        retryable: true,
        nextStep: `wait for that process to finish and re-run the command; if it is gone (another host, a crashed container), remove ${this.file}`,
      },
    );
  }
}

function safeToken(text: string): string {
  try {
    return String((JSON.parse(text) as Partial<LockHolder>).token ?? '');
  } catch {
    return '';
  }
}

export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
