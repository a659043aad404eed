/**
 * Durable JSON files for the file store: pretty-printed with sorted keys (ledgers are committed in
 * GitOps, so diffs must be reviewable), written atomically (temp file in the same directory, fsync,
 * rename, fsync the directory) so a crash leaves either the old or the new file, never half of one.
 * A file that exists but does not parse is an error naming it; it is never silently replaced.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { StateError } from '../errors';

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

/** Writes `text` to `file` atomically; creates the directory when missing. */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true });
  const temp = path.join(dir, `${TEMP_FILE_MARKER}${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}`);
  try {
    const handle = await fs.open(temp, 'wx');
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, file);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw new StateError(`could not write ${file}: ${(error as Error).message}`, {
      fault: 'operator',
      retryable: true,
      nextStep: `check that ${dir} is writable and the disk has space, then re-run the command`,
      cause: error,
    });
  }
  await syncDirectory(dir);
}

/** Makes a rename or unlink in `dir` durable. Some platforms cannot open a directory; that is not fatal. */
export async function syncDirectory(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // fsync on a directory is unsupported on some file systems (and on Windows); the rename itself stands.
  } finally {
    await handle?.close();
  }
}

/** Reads and parses a JSON file; undefined when it does not exist. */
export async function readJsonFile<T>(file: string, what: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StateError(`could not read ${what} from ${file}: ${(error as Error).message}`, {
      fault: 'operator',
      nextStep: `check the permissions of ${file}`,
      cause: error,
    });
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw corruptFile(file, what, (error as Error).message);
  }
}

export function corruptFile(file: string, what: string, why: string): StateError {
  return new StateError(`${what} in ${file} is corrupt (${why}); it was left untouched`, {
    fault: 'operator',
    nextStep: `restore ${file} from version control or a backup (\`git log -- ${file}\`), then re-run the command`,
  });
}

/** Removes a file if present; durable once the directory is synced. */
export async function removeFile(file: string): Promise<boolean> {
  try {
    await fs.unlink(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  await syncDirectory(path.dirname(file));
  return true;
}
