/**
 * Durable JSON files for the file store: pretty-printed with sorted keys (ledgers are committed in
 * GitOps, so diffs must be reviewable), written atomically (temp file in the same directory, fsync,
 * rename, fsync the directory) so a crash leaves either the old or the new file, never half of one.
 * A file that exists but does not parse or validate is an error naming it; it is never silently
 * replaced.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
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

let fsyncs = 0;

/** fsync calls made by the file store in this process (the bench reports them per state write). */
export function fsyncCount(): number {
  return fsyncs;
}

/** fsync of an open file, counted. */
export async function syncHandle(handle: fs.FileHandle): Promise<void> {
  fsyncs += 1;
  await handle.sync();
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

export async function ensureDirectory(dir: string): Promise<void> {
  if (knownDirs.has(dir)) return;
  await fs.mkdir(dir, { recursive: true });
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
  await ensureDirectory(dir);
  const temp = path.join(dir, `${TEMP_FILE_MARKER}${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}`);
  try {
    const handle = await fs.open(temp, 'wx');
    let stat: { ino: bigint; size: bigint; mtimeNs: bigint } | undefined;
    try {
      await handle.writeFile(text, 'utf8');
      if (durable) await syncHandle(handle);
      // The rename keeps the inode, size and time: this is the identity `file` will have.
      if (options.record !== undefined) stat = await handle.stat({ bigint: true });
    } finally {
      await handle.close();
    }
    recordCache.delete(file);
    await fs.rename(temp, file);
    if (stat) remember(file, stat, options.record);
  } catch (error) {
    await fs.rm(temp, { force: true });
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
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await syncHandle(handle);
  } catch {
    // fsync on a directory is unsupported on some file systems (and on Windows); the rename itself stands.
  } finally {
    await handle?.close();
  }
}

/** fsync of a file by path (written earlier without it); a file removed since is skipped. */
export async function syncFile(file: string): Promise<void> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    await syncHandle(handle);
  } finally {
    await handle.close();
  }
}

/** The file's text; undefined when it does not exist. */
export async function readTextFile(file: string, what: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw readFailure(file, what, error);
  }
}

/** Reads, parses and validates a JSON record; undefined when the file does not exist. */
export async function readRecordFile<T>(file: string, schema: z.ZodType<T>, what: string): Promise<T | undefined> {
  let stat: { ino: bigint; size: bigint; mtimeNs: bigint };
  try {
    stat = await fs.stat(file, { bigint: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw readFailure(file, what, error);
    recordCache.delete(file);
    return undefined;
  }
  const cached = recordCache.get(file);
  if (cached && cached.ino === stat.ino && cached.size === stat.size && cached.mtimeNs === stat.mtimeNs) return cached.value as T;
  // Read after the stat: if the file is replaced in between, the record is remembered under the
  // older identity and simply read again next time.
  const text = await readTextFile(file, what);
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
    await fs.unlink(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  if (options.durable ?? true) await syncDirectory(path.dirname(file));
  return true;
}
