/**
 * Approving many runs' deletions in one sitting: every run is checked first (exactly as `rotate
 * approve` checks one: the run can be approved, its bar still holds, the key is listed, the
 * approver is not its initiator), all payloads are shown together, the approver confirms once,
 * and each run then gets its own signature over its own payload, in its own approval file. A run
 * that cannot be approved is listed with its reason and never blocks the others.
 */
import type { Config, KeyRingConfig } from '../config/types';
import { assertBarUnchanged } from '../approvals/bar';
import { readChain } from '../approvals/chain';
import { prepareApproval, signApproval, type PreparedApproval } from '../approvals/approve';
import { defaultApprovalFile, writeApprovalFile } from '../approvals/files';
import type { SigningKey } from '../approvals/signing-key';
import type { SshKeygenOptions } from '../approvals/ssh';
import { KeyrotorError } from '../errors';
import { inPool } from './fleet-run';
import type { Run, StateStore, StoredApproval } from '../state/types';

export interface ApprovalCandidate {
  readonly keyring: KeyRingConfig;
  readonly run: Run;
}

export interface PreparedRunApproval extends ApprovalCandidate {
  readonly prepared: PreparedApproval;
}

export interface RefusedRunApproval {
  readonly keyring: string;
  readonly runId?: string;
  readonly reason: string;
  readonly nextStep?: string;
}

/** Open runs of the selected key rings that wait for approvals at their gate. */
export function runsAwaitingApproval(keyrings: readonly KeyRingConfig[], open: ReadonlyMap<string, Run>): { candidates: ApprovalCandidate[]; refused: RefusedRunApproval[] } {
  const candidates: ApprovalCandidate[] = [];
  const refused: RefusedRunApproval[] = [];
  for (const keyring of keyrings) {
    const run = open.get(keyring.name);
    if (!run) {
      refused.push({ keyring: keyring.name, reason: 'no open run' });
      continue;
    }
    const gate = run.stages.find((s) => s.name === 'approval-gate');
    if (!gate || gate.status !== 'waiting') {
      const at = run.stages.find((s) => s.status !== 'done' && s.status !== 'skipped')?.name ?? 'its end';
      refused.push({ keyring: keyring.name, runId: run.id, reason: gate ? `not waiting for approvals: run is at ${at}` : `run kind ${run.kind} has no approval gate`, nextStep: `\`rotate fleet advance --name ${keyring.name}\` until it waits at the gate` });
      continue;
    }
    candidates.push({ keyring, run });
  }
  return { candidates, refused };
}

/** Every check that needs no signature, per run; nothing is signed or written. */
export async function prepareMany(
  store: Pick<StateStore, 'readAudit' | 'auditHead'>,
  config: Config,
  candidates: readonly ApprovalCandidate[],
  key: SigningKey,
  options: { readonly approver?: string; readonly now: Date },
): Promise<{ prepared: PreparedRunApproval[]; refused: RefusedRunApproval[] }> {
  const chain = await readChain(store);
  const prepared: PreparedRunApproval[] = [];
  const refused: RefusedRunApproval[] = [];
  for (const candidate of candidates) {
    try {
      await assertBarUnchanged(candidate.run, config, candidate.keyring);
      const approval = prepareApproval({ run: candidate.run, chain, key, ...(options.approver ? { approver: options.approver } : {}), now: options.now });
      prepared.push({ ...candidate, prepared: approval });
    } catch (error) {
      refused.push({
        keyring: candidate.keyring.name,
        runId: candidate.run.id,
        reason: error instanceof Error ? error.message : String(error),
        ...(error instanceof KeyrotorError && error.nextStep ? { nextStep: error.nextStep } : {}),
      });
    }
  }
  return { prepared, refused };
}

export interface SignedRunApproval {
  readonly keyring: string;
  readonly runId: string;
  readonly file: string;
  readonly approval: StoredApproval;
}

/**
 * Signatures made at once by a key in a file or an agent: each is an ssh-keygen process, so a
 * sitting of 200 runs is not 200 round trips in a row. A security key signs one at a time, since
 * each signature waits for its own touch.
 */
const PARALLEL_SIGNATURES = 4;

/** One signature per run, each verified and written to its own file; a failure stays that run's. Results keep the order of `prepared`. */
export async function signMany(
  prepared: readonly PreparedRunApproval[],
  options: { readonly approvalsDir: string; readonly now: Date; readonly ssh?: SshKeygenOptions },
): Promise<{ signed: SignedRunApproval[]; refused: RefusedRunApproval[] }> {
  const parallel = prepared.some((p) => p.prepared.key.hardware) ? 1 : PARALLEL_SIGNATURES;
  const outcomes = await inPool(prepared, parallel, async (item): Promise<{ signed: SignedRunApproval } | { refused: RefusedRunApproval }> => {
    try {
      const approval = await signApproval(item.prepared, item.run, options.now, options.ssh);
      const file = defaultApprovalFile(options.approvalsDir, item.run.id, item.prepared.key.fingerprint);
      await writeApprovalFile(file, approval);
      return { signed: { keyring: item.keyring.name, runId: item.run.id, file, approval } };
    } catch (error) {
      return { refused: { keyring: item.keyring.name, runId: item.run.id, reason: error instanceof Error ? error.message : String(error) } };
    }
  });
  return {
    signed: outcomes.flatMap((o) => ('signed' in o ? [o.signed] : [])),
    refused: outcomes.flatMap((o) => ('refused' in o ? [o.refused] : [])),
  };
}
