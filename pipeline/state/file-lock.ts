/**
 * A short-held mutual-exclusion lock between processes that share a state directory, with a queue
 * inside each process.
 *
 * Protocol (every step is one atomic file-system operation):
 *  - a contender creates its own entry, a name that says who holds it:
 *    `<dir>/<name>~<host>[@<pid namespace>]~<pid>~<acquired at, ms>~<token>` (one exclusive link(2) to a shared
 *    empty file, or an exclusive create where links are not supported: an entry is never seen
 *    half-made, and it holds nothing to read), then lists the entries of `<name>`;
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
 * that names the holder. Entries need no fsync: after a crash they are stale anyway. The
 * file-system calls are synchronous, like the file store's (see json-files.ts): each is a
 * metadata operation of microseconds, cheaper than a thread-pool round trip.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { StateError } from '../errors';
import { ensureDirectory, uniqueSuffix } from './json-files';
import { pidNamespace, probeableHolder } from './pid-namespace';

export interface FileLockHolder {
  readonly pid: number;
  readonly hostname: string;
  /** The holder's PID namespace, when its entry names one (see pid-namespace.ts). */
  readonly pidNamespace?: string;
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
        await removeEntry(entry);
      }
    } finally {
      done();
      if (queues.get(this.id) === tail) queues.delete(this.id);
    }
  }

  private async acquire(): Promise<string> {
    ensureDirectory(this.dir);
    const started = Date.now();
    let delayMs = 2;
    for (;;) {
      const token = uniqueSuffix();
      const entry = await this.createEntry(token);
      const others = await this.otherEntries(token);
      if (others.length === 0) return entry;
      await removeEntry(entry);
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
    // The host part carries this process's PID namespace (`host@namespace`), so a container with
    // the same host name never takes this entry's pid for one of its own.
    const namespace = pidNamespace();
    const host = `${encodeURIComponent(hostname())}${namespace === undefined ? '' : `@${namespace}`}`;
    const entry = path.join(this.dir, [this.name, host, String(process.pid), String(Date.now()), token].join(SEPARATOR));
    try {
      createEntryName(this.dir, entry);
    } catch (error) {
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
    const names = fs.readdirSync(this.dir);
    return names.filter((n) => n.startsWith(prefix) && !n.endsWith(`${SEPARATOR}${ownToken}`)).map((n) => path.join(this.dir, n));
  }

  /** The entry's holder, from its name; undefined when it vanished. A name that says nothing is judged by its age. */
  private async readEntry(entry: string): Promise<FileLockHolder | undefined> {
    const parts = path.basename(entry).split(SEPARATOR);
    if (parts.length === 5 && /^\d+$/.test(parts[2]!) && /^\d+$/.test(parts[3]!)) {
      const [host, namespace] = parts[1]!.split('@');
      return {
        hostname: decodeURIComponent(host!),
        ...(namespace === undefined ? {} : { pidNamespace: namespace }),
        pid: Number(parts[2]),
        acquiredAt: new Date(Number(parts[3])).toISOString(),
        token: parts[4]!,
      };
    }
    try {
      const mtime = fs.lstatSync(entry).mtime;
      return { pid: 0, hostname: 'unknown', acquiredAt: mtime.toISOString(), token: '' };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /**
   * Why an entry no longer holds the lock, or undefined while it does. On this host the holder's
   * process decides: a dead one's entry is stale at once, a running one's never is, however old —
   * a process paused inside its critical section (stopped, swapped out) would otherwise resume
   * and finish a write after another process had broken in. Another host's entry can only be
   * judged by its age.
   */
  private staleReason(holder: FileLockHolder): string | undefined {
    if (probeableHolder(holder.hostname, holder.pidNamespace, hostname()) && holder.pid > 0 && holder.pid !== process.pid) {
      return this.isAlive(holder.pid) ? undefined : `its process ${holder.pid} is no longer running`;
    }
    const ageMs = Date.now() - Date.parse(holder.acquiredAt);
    if (!(ageMs <= this.staleMs)) return `it is ${Math.round(ageMs / 1000)} s old (stale after ${this.staleMs / 1000} s)`;
    return undefined;
  }

  private async breakStale(entry: string, holder: FileLockHolder, reason: string): Promise<void> {
    // By its unique name: this removes exactly the entry judged stale, never a fresh one.
    if (!(await removeEntry(entry))) return; // another process broke it first
    this.onNote(`note: broke a stale state lock ${entry} held by pid ${holder.pid} on ${holder.hostname} since ${holder.acquiredAt}: ${reason}`);
  }

  private timedOut(holder: FileLockHolder): StateError {
    return new StateError(
      `the state lock ${this.name} in ${this.dir} is held by pid ${holder.pid} on ${holder.hostname} since ${holder.acquiredAt}` +
        (Date.parse(holder.acquiredAt) > Date.now() ? ` (ahead of this host's clock: the two hosts' clocks differ, so its age cannot be judged)` : '') +
        `; gave up after ${this.timeoutMs / 1000} s`,
      {
        fault: 'operator',
        retryable: true,
        nextStep:
          probeableHolder(holder.hostname, holder.pidNamespace, hostname())
            ? `that process (pid ${holder.pid}) is still running on this host: wait for it to finish, or stop it if it is stuck (a stopped or hung process holds the lock until it ends), then run the command again`
            : `wait for that process to finish and run the command again; if it is gone (another host, a crashed container), remove ${path.join(this.dir, `${this.name}${SEPARATOR}*`)}`,
      },
    );
  }
}

/**
 * The file every entry of `dir` is a hard link to. An entry is only a name: linking one allocates
 * no inode, and on a busy disk inode allocation and release are what state writes cost the kernel
 * (measured with `perf` during `npm run bench -- fleet`: ext4's inode search dominated).
 */
export const LOCK_ENTRY_TARGET = '.entry';
/** Directories whose link target this process has made sure exists. */
const linkTargets = new Set<string>();

/** Creates `entry` exclusively (EEXIST if it exists): a hard link where the file system has them, else an empty file. */
function createEntryName(dir: string, entry: string): void {
  const target = path.join(dir, LOCK_ENTRY_TARGET);
  for (let attempt = 0; attempt < 2; attempt++) {
    if (!linkTargets.has(dir)) {
      fs.closeSync(fs.openSync(target, 'a'));
      linkTargets.add(dir);
    }
    try {
      fs.linkSync(target, entry);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        linkTargets.delete(dir); // someone cleaned the directory: make the target again
        continue;
      }
      // No hard links here (some network and FUSE file systems), or the target's link count is full.
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'EMLINK' || code === 'ENOSYS') break;
      throw error;
    }
  }
  fs.closeSync(fs.openSync(entry, 'wx'));
}

/** Removes an entry (an empty file; a directory left by an older version too); false when it was already gone. */
async function removeEntry(entry: string): Promise<boolean> {
  try {
    fs.unlinkSync(entry);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    // unlink(2) of a directory: EISDIR on Linux, EPERM on macOS and the BSDs.
    if (code === 'EISDIR' || code === 'EPERM') {
      try {
        fs.rmdirSync(entry);
        return true;
      } catch (inner) {
        if ((inner as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw inner;
      }
    }
    throw error;
  }
}

/** The host name, read once: it is part of every lock entry's name (one `uname` call each otherwise). */
let cachedHostname: string | undefined;
function hostname(): string {
  cachedHostname ??= os.hostname();
  return cachedHostname;
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
