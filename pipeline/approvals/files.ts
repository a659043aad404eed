/**
 * Approvals as files, for gates that carry them as CI artifacts rather than in the state store:
 * one StoredApproval per `*.json` file. A file is only a container — the gate judges its content
 * exactly like a stored approval, so a file can never make an approval count that would not.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { z } from 'zod';
import { ApprovalError } from '../errors';
import type { StoredApproval } from '../state/types';

const storedApprovalSchema = z.object({
  signer: z.string().min(1),
  payload: z.string().min(1),
  signature: z.string().min(1),
  recordedAt: z.string().min(1),
});

function badFile(file: string, why: string): ApprovalError {
  return new ApprovalError(`${file} is not a keyrotor approval file: ${why}`, {
    fault: 'operator',
    nextStep: 'remove it from the approvals directory, or regenerate it with `rotate approve RUN --out FILE`',
  });
}

export async function readApprovalFile(file: string): Promise<StoredApproval> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw badFile(file, (error as Error).message);
  }
  const parsed = storedApprovalSchema.safeParse(raw);
  if (!parsed.success) throw badFile(file, parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; '));
  return parsed.data;
}

/** The signed run id, or undefined when the payload is unreadable (the gate then reports it as malformed). */
function signedRunId(approval: StoredApproval): string | undefined {
  try {
    const payload = JSON.parse(approval.payload) as { runId?: unknown };
    return typeof payload.runId === 'string' ? payload.runId : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Every approval file in `dir` signed for `runId` (approvals for other runs are skipped, so one
 * artifact directory can serve several runs), in file-name order.
 */
export async function loadApprovalsFromDir(dir: string, runId: string): Promise<StoredApproval[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch (error) {
    throw new ApprovalError(`cannot read the approvals directory ${dir}: ${(error as Error).message}`, {
      fault: 'operator',
      nextStep: 'check --approvals-dir (it should hold the files written by `rotate approve --out`)',
      cause: error,
    });
  }
  const approvals = await Promise.all(names.map((n) => readApprovalFile(path.join(dir, n))));
  return approvals.filter((a) => {
    const id = signedRunId(a);
    return id === undefined || id === runId;
  });
}

/** Writes `approval` as pretty JSON (the payload string inside stays byte-exact). Overwriting is fine: same content, same meaning. */
export async function writeApprovalFile(file: string, approval: StoredApproval): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(approval, null, 2)}\n`, { mode: 0o644 });
}
