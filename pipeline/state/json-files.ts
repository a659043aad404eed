/**
 * Durable JSON files for the file store: pretty-printed with sorted keys (ledgers are committed in
 * GitOps, so diffs must be reviewable), written atomically (temp file in the same directory, fsync,
 * rename, fsync the directory) so a crash leaves either the old or the new file, never half of one.
 * A file that exists but does not parse or validate is an error naming it; it is never silently
 * replaced.
 *
 * The small operations (stat, open, read or write a few KB, rename, close) are synchronous: each
 * takes microseconds on a local disk, while the asynchronous form costs a thread-pool round trip
 * several times that in CPU, and a fleet run makes ~100,000 of them (measured: `npm run bench --
 * fleet`). Only fsync, which waits for the disk, runs off the main thread.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { z } from 'zod';
import { StateError } from '../errors';
import { parseStoredJson, type RecordSource } from './schemas';

/** JSON with object keys sorted at every depth and two-space indentation, ending in a newline. */
export function prettySortedJson(value: unknown): string {
  return `${JSON.stringify(value, (_key, v: unknown) => (isPlainObject(v) ? sortKeys(v) : v), 2)}\n`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function sortKeys(obj: Record<string, unknown>): Record<string, unknown> {
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(obj).sort()) sorted[key] = obj[key];
  return sorted;
}

export const TEMP_FILE_MARKER = '.tmp-';

/** Random once per process; with the pid and a counter it names temp files and lock entries. */
const processNonce = randomBytes(4).toString('hex');
let uniqueCounter = 0;

/**
 * A name part no other write or lock entry uses, now or from another process: this process's
 * random nonce and a counter (one random draw per process rather than one per state write).
 */
export function uniqueSuffix(): string {
  uniqueCounter += 1;
  return `${processNonce}${uniqueCounter.toString(36)}`;
}

let fsyncs = 0;

/** fsync calls made by the file store in this process (the bench reports them per state write). */
export function fsyncCount(): number {
  return fsyncs;
}

/** fsync of an open file descriptor, counted; in the thread pool, since it waits for the disk. */
export function syncDescriptor(fd: number): Promise<void> {
  fsyncs += 1;
  return new Promise((resolve, reject) => fs.fsync(fd, (error) => (error ? reject(error) : resolve())));
}

export interface WriteOptions {
  /**
   * false: atomic (rename) but not forced to disk — for records whose loss after a power cut the
   * readers tolerate (the audit head, which may lag the log). Default true.
   */
  readonly durable?: boolean;
}

/** Directories this process has made sure exist (a state write should not cost a mkdir each time). */
const knownDirs = new Set<string>();

export function ensureDirectory(dir: string): void {
  if (knownDirs.has(dir)) return;
  fs.mkdirSync(dir, { recursive: true });
  knownDirs.add(dir);
}

/**
 * Records read (or written) by this process, with the identity of the file they came from (inode,
 * size, modification time in ns): a read whose file still has that identity needs one `stat`, not
 * an open, a read, a parse and a schema check. Any writer — this process or another — replaces the
 * file by rename, which gives it a new identity, so a stale record is never returned.
 */
interface CachedRecord {
  readonly ino: bigint;
  readonly size: bigint;
  readonly mtimeNs: bigint;
  readonly value: unknown;
}
const recordCache = new Map<string, CachedRecord>();
const RECORD_CACHE_LIMIT = 10_000;

function remember(file: string, stat: { ino: bigint; size: bigint; mtimeNs: bigint }, value: unknown): void {
  if (recordCache.size >= RECORD_CACHE_LIMIT) recordCache.delete(recordCache.keys().next().value as string);
  recordCache.set(file, { ino: stat.ino, size: stat.size, mtimeNs: stat.mtimeNs, value });
}

/**
 * Writes `text` to `file` atomically; creates the directory when missing. `record`: the value the
 * text encodes, remembered for the next read of `file`.
 */
export async function writeFileAtomic(file: string, text: string, options: WriteOptions & { readonly record?: unknown } = {}): Promise<void> {
  const durable = options.durable ?? true;
  const dir = path.dirname(file);
  const temp = path.join(dir, `${TEMP_FILE_MARKER}${path.basename(file)}.${process.pid}.${uniqueSuffix()}`);
  try {
    ensureDirectory(dir);
    const fd = fs.openSync(temp, 'wx');
    let stat: { ino: bigint; size: bigint; mtimeNs: bigint } | undefined;
    try {
      fs.writeFileSync(fd, text, 'utf8');
      if (durable) await syncDescriptor(fd);
      // The rename keeps the inode, size and time: this is the identity `file` will have.
      if (options.record !== undefined) stat = fs.fstatSync(fd, { bigint: true });
    } finally {
      fs.closeSync(fd);
    }
    recordCache.delete(file);
    fs.renameSync(temp, file);
    if (stat) remember(file, stat, options.record);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw new StateError(`could not write ${file}: ${(error as Error).message}`, {
      fault: 'operator',
      retryable: true,
      nextStep: `check that ${dir} is writable and the disk has space, then run the command again`,
      cause: error,
    });
  }
  if (durable) await syncDirectory(dir);
}

/** Makes a rename or unlink in `dir` durable. Some platforms cannot open a directory; that is not fatal. */
export async function syncDirectory(dir: string): Promise<void> {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    await syncDescriptor(fd);
  } catch {
    // fsync on a directory is unsupported on some file systems (and on Windows); the rename itself stands.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** fsync of a file by path (written earlier without it); a file removed since is skipped. */
export async function syncFile(file: string): Promise<void> {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    await syncDescriptor(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** The file's text; undefined when it does not exist. */
export function readTextFile(file: string, what: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw readFailure(file, what, error);
  }
}

/** Reads, parses and validates a JSON record; undefined when the file does not exist. */
export async function readRecordFile<T>(file: string, schema: z.ZodType<T>, what: string): Promise<T | undefined> {
  let stat: { ino: bigint; size: bigint; mtimeNs: bigint } | undefined;
  try {
    stat = fs.statSync(file, { bigint: true, throwIfNoEntry: false });
  } catch (error) {
    throw readFailure(file, what, error);
  }
  if (stat === undefined) {
    recordCache.delete(file);
    return undefined;
  }
  const cached = recordCache.get(file);
  if (cached && cached.ino === stat.ino && cached.size === stat.size && cached.mtimeNs === stat.mtimeNs) return cached.value as T;
  // Read after the stat: if the file is replaced in between, the record is remembered under the
  // older identity and simply read again next time.
  const text = readTextFile(file, what);
  if (text === undefined) return undefined;
  const value = parseStoredJson(schema, text, fileSource(file, what));
  remember(file, stat, value);
  return value;
}

function readFailure(file: string, what: string, error: unknown): StateError {
  return new StateError(`could not read ${what} from ${file}: ${(error as Error).message}`, {
    fault: 'operator',
    nextStep: `check the permissions of ${file}`,
    cause: error,
  });
}

/** How a file-store record is named and repaired in messages. */
export function fileSource(file: string, what: string): RecordSource {
  return {
    what,
    where: file,
    fix: `restore ${file} from version control (\`git log -p -- ${file}\`) or a backup, or correct the field named above by hand, then run the command again`,
  };
}

/** Removes a file if present; durable once the directory is synced. */
export async function removeFile(file: string, options: WriteOptions = {}): Promise<boolean> {
  recordCache.delete(file);
  try {
    fs.unlinkSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  if (options.durable ?? true) await syncDirectory(path.dirname(file));
  return true;
}
