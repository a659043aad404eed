/**
 * A short-held mutual-exclusion lock between processes that share a state directory, with a queue
 * inside each process.
 *
 * Protocol (every step is an atomic file-system operation):
 *  - a contender writes its own entry `<dir>/<name>~<token>` (written under a temporary name and
 *    renamed in, so an entry is never seen empty), then lists the entries of `<name>`;
 *  - alone → it holds the lock; not alone → it removes its own entry, waits a jittered moment and
 *    tries again (two contenders can both back off, never both hold: each lists after creating its
 *    entry, so whichever lists second sees the other);
 *  - an entry whose process is gone (same host, pid not running) or that is older than `staleMs`
 *    belongs to a crashed holder: it is removed *by its own unique name*, so breaking a stale lock
 *    can never remove a fresh one, however many processes break it at once;
 *  - release removes the holder's own entry (one unlink, nothing to read first).
 *
 * Inside one process, callers queue on a promise chain per lock, so concurrent work in one process
 * never spins or times out on itself; only other processes are waited for, with a bounded wait
 * that names the holder. Entries need no fsync: after a crash they are stale anyway.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { StateError } from '../errors';

export interface FileLockHolder {
  readonly pid: number;
  readonly hostname: string;
  readonly acquiredAt: string;
  readonly token: string;
}

export interface FileLockOptions {
  /** An entry older than this is stale whatever its pid (held by a process on another host that died). Default 30 s. */
  readonly staleMs?: number;
  /** How long to wait for a live holder in another process before failing. Default 60 s. */
  readonly timeoutMs?: number;
  /** Receives the note written when a stale entry is broken. Default: stderr. */
  readonly onNote?: (note: string) => void;
  /** Tells whether a pid on this host still runs (tests replace it). Default: signal 0. */
  readonly isAlive?: (pid: number) => boolean;
}

const DEFAULT_STALE_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 60_000;
const SEPARATOR = '~';

/** Per-process queues, by absolute lock path: every FileLock on the same path shares one. */
const queues = new Map<string, Promise<unknown>>();

export class FileLock {
  private readonly staleMs: number;
  private readonly timeoutMs: number;
  private readonly onNote: (note: string) => void;
  private readonly isAlive: (pid: number) => boolean;
  private readonly id: string;

  /** `dir` holds the entries of every lock of a store; `name` is this lock's ([A-Za-z0-9._-]). */
  constructor(
    readonly dir: string,
    readonly name: string,
    options: FileLockOptions = {},
  ) {
    this.staleMs = options.staleMs ?? DEFAULT_STALE_MS;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.onNote = options.onNote ?? ((note) => process.stderr.write(`${note}\n`));
    this.isAlive = options.isAlive ?? processIsAlive;
    this.id = path.join(path.resolve(dir), name);
  }

  /** Runs `work` while holding the lock; always releases it. */
  async withLock<T>(work: () => Promise<T>): Promise<T> {
    const previous = queues.get(this.id) ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((resolve) => (done = resolve));
    const tail = previous.then(() => mine);
    queues.set(this.id, tail);
    await previous;
    try {
      const entry = await this.acquire();
      try {
        return await work();
      } finally {
        await fs.rm(entry, { force: true });
      }
    } finally {
      done();
      if (queues.get(this.id) === tail) queues.delete(this.id);
    }
  }

  private async acquire(): Promise<string> {
    await fs.mkdir(this.dir, { recursive: true });
    const started = Date.now();
    let delayMs = 2;
    for (;;) {
      const token = randomBytes(8).toString('hex');
      const entry = await this.createEntry(token);
      const others = await this.otherEntries(token);
      if (others.length === 0) return entry;
      await fs.rm(entry, { force: true });
      const live: FileLockHolder[] = [];
      for (const other of others) {
        const holder = await this.readEntry(other);
        if (holder === undefined) continue; // released meanwhile
        const stale = this.staleReason(holder);
        if (stale) await this.breakStale(other, holder, stale);
        else live.push(holder);
      }
      if (live.length === 0) continue;
      // Elapsed wall time bounds the wait; it is not an assertion about timing.
      if (Date.now() - started >= this.timeoutMs) throw this.timedOut(live[0]!);
      await sleep(delayMs / 2 + Math.random() * delayMs);
      delayMs = Math.min(delayMs * 2, 50);
    }
  }

  private async createEntry(token: string): Promise<string> {
    const holder: FileLockHolder = { pid: process.pid, hostname: os.hostname(), acquiredAt: new Date().toISOString(), token };
    const entry = path.join(this.dir, `${this.name}${SEPARATOR}${token}`);
    const temp = path.join(this.dir, `.tmp-${this.name}${SEPARATOR}${token}`);
    try {
      await fs.writeFile(temp, JSON.stringify(holder), { flag: 'wx' });
      await fs.rename(temp, entry);
    } catch (error) {
      await fs.rm(temp, { force: true });
      throw new StateError(`could not create the state lock entry ${entry}: ${(error as Error).message}`, {
        fault: 'operator',
        nextStep: `check that ${this.dir} is writable and the disk has space`,
        cause: error,
      });
    }
    return entry;
  }

  private async otherEntries(ownToken: string): Promise<string[]> {
    const prefix = `${this.name}${SEPARATOR}`;
    const names = await fs.readdir(this.dir);
    return names.filter((n) => n.startsWith(prefix) && n !== `${prefix}${ownToken}`).map((n) => path.join(this.dir, n));
  }

  /** The entry's holder; undefined when it vanished. An unreadable entry is judged by its age. */
  private async readEntry(entry: string): Promise<FileLockHolder | undefined> {
    let text: string;
    let mtime: Date;
    try {
      [text, mtime] = await Promise.all([fs.readFile(entry, 'utf8'), fs.stat(entry).then((s) => s.mtime)]);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      const parsed = JSON.parse(text) as Partial<FileLockHolder>;
      if (typeof parsed.pid === 'number' && typeof parsed.hostname === 'string' && typeof parsed.acquiredAt === 'string') {
        return { pid: parsed.pid, hostname: parsed.hostname, acquiredAt: parsed.acquiredAt, token: String(parsed.token ?? '') };
      }
    } catch {
      // fall through: judged by age alone
    }
    return { pid: 0, hostname: 'unknown', acquiredAt: mtime.toISOString(), token: '' };
  }

  private staleReason(holder: FileLockHolder): string | undefined {
    const ageMs = Date.now() - Date.parse(holder.acquiredAt);
    if (!(ageMs <= this.staleMs)) return `it is ${Math.round(ageMs / 1000)} s old (stale after ${this.staleMs / 1000} s)`;
    if (holder.hostname === os.hostname() && holder.pid > 0 && holder.pid !== process.pid && !this.isAlive(holder.pid)) {
      return `its process ${holder.pid} is no longer running`;
    }
    return undefined;
  }

  private async breakStale(entry: string, holder: FileLockHolder, reason: string): Promise<void> {
    try {
      await fs.unlink(entry);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // another process broke it first
      throw error;
    }
    this.onNote(`note: broke a stale state lock ${entry} held by pid ${holder.pid} on ${holder.hostname} since ${holder.acquiredAt}: ${reason}`);
  }

  private timedOut(holder: FileLockHolder): StateError {
    return new StateError(
      `the state lock ${this.name} in ${this.dir} is held by pid ${holder.pid} on ${holder.hostname} since ${holder.acquiredAt}; gave up after ${this.timeoutMs / 1000} s`,
      {
        fault: 'operator',
        retryable: true,
        nextStep: `wait for that process to finish and run the command again; if it is gone (another host, a crashed container), remove ${path.join(this.dir, `${this.name}${SEPARATOR}*`)}`,
      },
    );
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
