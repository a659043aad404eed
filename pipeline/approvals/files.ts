/**
 * Approvals travel as files: nothing on an approver's machine writes the run or the audit chain.
 * `rotate approve` writes one file per signing key, by default
 * `<approvals dir>/<run id>/<key fingerprint>.json`; the approvals dir is `--approvals-dir`, else
 * $KEYROTOR_APPROVALS_DIR, else `approvals/` next to the config. Approvers hand the files in (a pull
 * request, CI artifacts); `rotate gate`, `rotate approvals` and the engine's gate read the same
 * directory through `collectApprovals`, so they always count the same approvals.
 *
 * A file is only a container: the gate judges its content exactly like an approval stored with the
 * run. One unreadable file is reported as such and counts for nothing; it never blocks the others.
 */
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { z } from 'zod';
import { ApprovalError } from '../errors';
import type { Run, StoredApproval } from '../state/types';

const storedApprovalSchema = z.object({
  signer: z.string().min(1),
  payload: z.string().min(1),
  signature: z.string().min(1),
  recordedAt: z.string().min(1),
});

export const DEFAULT_APPROVALS_DIR = 'approvals';

/** The one place the approvals directory is decided: flag, else $KEYROTOR_APPROVALS_DIR, else `approvals/` beside the config. */
export function approvalsDirFor(configBaseDir: string, options: { flag?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): string {
  const chosen = options.flag ?? options.env?.KEYROTOR_APPROVALS_DIR;
  return chosen !== undefined && chosen !== '' ? path.resolve(options.cwd ?? configBaseDir, chosen) : path.join(configBaseDir, DEFAULT_APPROVALS_DIR);
}

/** `SHA256:ab+c/…` as a file name (`SHA256-ab-c_…`): one file per signing key per run. */
export function fingerprintFileName(fingerprint: string): string {
  return `${fingerprint.replace(':', '-').replace(/\+/g, '-').replace(/\//g, '_')}.json`;
}

export function defaultApprovalFile(approvalsDir: string, runId: string, fingerprint: string): string {
  return path.join(approvalsDir, runId, fingerprintFileName(fingerprint));
}

/** An approval and where it came from (`run` for those the engine recorded with the run, else the file path). */
export interface CollectedApproval {
  readonly approval: StoredApproval;
  readonly source: string;
}

export interface FileProblem {
  readonly source: string;
  readonly reason: string;
}

export interface CollectedApprovals {
  readonly approvals: readonly CollectedApproval[];
  /** Files that are not approvals at all (unreadable, not JSON, wrong shape). */
  readonly problems: readonly FileProblem[];
  /** Directories read (for messages). */
  readonly dirs: readonly string[];
}

/** Far above any approval (a few KB): a larger file is reported unread rather than loaded whole. */
const MAX_APPROVAL_FILE_BYTES = 256 * 1024;

async function readOne(file: string): Promise<StoredApproval | FileProblem> {
  let raw: unknown;
  try {
    const size = (await stat(file)).size;
    if (size > MAX_APPROVAL_FILE_BYTES) return { source: file, reason: `not a keyrotor approval file: ${size} bytes, more than an approval can be (${MAX_APPROVAL_FILE_BYTES}); not read` };
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    return { source: file, reason: `not a keyrotor approval file: ${(error as Error).message}` };
  }
  const parsed = storedApprovalSchema.safeParse(raw);
  if (!parsed.success) {
    return { source: file, reason: `not a keyrotor approval file: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ')}` };
  }
  return parsed.data;
}

/** The signed run id, or undefined when the payload is unreadable (the gate then reports it as malformed). */
function signedRunId(approval: StoredApproval): string | undefined {
  try {
    const payload: unknown = JSON.parse(approval.payload);
    return typeof payload === 'object' && payload !== null && 'runId' in payload && typeof payload.runId === 'string' ? payload.runId : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The `.json` entries of `dir`: regular files to read, and the rest (symlinks, FIFOs, directories)
 * reported unread: an approval is a file handed in, and following a link could read anything.
 */
async function jsonFiles(dir: string): Promise<{ files: string[]; others: FileProblem[] } | undefined> {
  try {
    const entries = (await readdir(dir, { withFileTypes: true })).filter((d) => d.name.endsWith('.json')).sort((a, b) => a.name.localeCompare(b.name));
    return {
      files: entries.filter((d) => d.isFile()).map((d) => path.join(dir, d.name)),
      others: entries
        .filter((d) => !d.isFile())
        .map((d) => ({ source: path.join(dir, d.name), reason: `not a regular file (${d.isSymbolicLink() ? 'a symbolic link' : d.isDirectory() ? 'a directory' : 'a special file'}): approvals are read only from files handed in; copy the approval file itself here` })),
    };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ApprovalError(`cannot read the approvals directory ${dir}: ${(error as Error).message}`, {
      fault: 'operator',
      nextStep: 'check --approvals-dir / $KEYROTOR_APPROVALS_DIR (it holds the files `rotate approve` writes)',
      cause: error,
    });
  }
}

/**
 * Every approval of `run`: those the engine recorded with the run, then the files in
 * `<dir>/<run id>/*.json` and `<dir>/*.json` (a flat artifact directory works too). Files in the
 * flat directory signed for another run are skipped (the gate reports those in the run's own
 * directory); the same signature found twice is kept once.
 */
export async function collectApprovals(run: Pick<Run, 'id' | 'approvals'>, dir: string | undefined): Promise<CollectedApprovals> {
  const approvals: CollectedApproval[] = run.approvals.map((approval) => ({ approval, source: 'run' }));
  const problems: FileProblem[] = [];
  const dirs: string[] = [];
  if (dir !== undefined) {
    const flatListing = await jsonFiles(dir);
    if (flatListing === undefined) {
      dirs.push(`${dir} (does not exist)`);
    } else {
      const perRunListing = await jsonFiles(path.join(dir, run.id));
      const perRun = perRunListing?.files ?? [];
      const flat = flatListing.files;
      problems.push(...(perRunListing?.others ?? []), ...flatListing.others);
      dirs.push(perRun.length > 0 ? path.join(dir, run.id) : dir);
      for (const file of [...perRun, ...flat]) {
        const read = await readOne(file);
        if ('reason' in read && !('payload' in read)) {
          problems.push(read);
          continue;
        }
        const approval = read as StoredApproval;
        // A flat directory may serve several runs; in the run's own directory another run's approval is worth reporting.
        const id = signedRunId(approval);
        if (id !== undefined && id !== run.id && !perRun.includes(file)) continue;
        approvals.push({ approval, source: file });
      }
    }
  }
  const seen = new Set<string>();
  return {
    approvals: approvals.filter(({ approval }) => (seen.has(approval.signature) ? false : (seen.add(approval.signature), true))),
    problems,
    dirs,
  };
}

/** Writes `approval` as pretty JSON (the payload string inside stays byte-exact), atomically: a reader never sees half a file. */
export async function writeApprovalFile(file: string, approval: StoredApproval): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temp, `${JSON.stringify(approval, null, 2)}\n`, { mode: 0o644 });
  await rename(temp, file);
}
