/**
 * Making and storing an approval. `createApproval` signs and then verifies its own signature
 * against allowed_signers, so an approver whose key is not (yet) in the file learns it now, not
 * when the gate silently ignores them later.
 */
import type { ApprovalPolicy } from '../config/types';
import { ApprovalError, StateError } from '../errors';
import type { Run, StateStore, StoredApproval } from '../state/types';
import { principalAsListed, readAllowedSigners } from './allowed-signers';
import { runBlockers } from './gate';
import { isInitiator } from './identity';
import { buildPayload, serializePayload, type ApprovalPayload } from './payload';
import { signPayload, verifyWithDiagnosis, type SshKeygenOptions } from './ssh';

export interface CreateApprovalInput {
  readonly run: Run;
  readonly policy: ApprovalPolicy;
  /** SSH private key, or a .pub whose private half is in ssh-agent. */
  readonly signingKeyPath: string;
  /** The approver's principal in allowed_signers (matched case-insensitively). */
  readonly approver: string;
  readonly now: Date;
  /** Default: the policy's lifetime; never longer (the gate would reject it). */
  readonly lifetimeHours?: number;
  readonly ssh?: SshKeygenOptions;
}

export interface PreparedApproval {
  readonly payload: ApprovalPayload;
  /** The exact bytes to sign. */
  readonly text: string;
}

/**
 * The payload an approver would sign, after every refusal that does not need their key: run over,
 * nothing to delete, no evidence, state edited, approver not allowed, approver is the initiator.
 * `rotate approve` shows it before asking for confirmation.
 */
export async function prepareApproval(input: Omit<CreateApprovalInput, 'signingKeyPath'>): Promise<PreparedApproval> {
  const { run, policy } = input;
  const lifetimeHours = input.lifetimeHours ?? policy.lifetimeHours;
  if (lifetimeHours <= 0 || lifetimeHours > policy.lifetimeHours) {
    throw new ApprovalError(`approval lifetime ${lifetimeHours} h is outside 0–${policy.lifetimeHours} h (key ring ${run.keyring} approvals.lifetimeHours)`, {
      fault: 'operator',
      nextStep: `use a lifetime of at most ${policy.lifetimeHours} hours`,
    });
  }
  const blockers = runBlockers(run);
  if (blockers.length > 0) {
    throw new ApprovalError(`run ${run.id} cannot be approved: ${blockers.join('; ')}`, {
      fault: 'operator',
      nextStep: `run \`rotate status ${run.id}\` and advance the run to its approval gate`,
    });
  }
  const allowed = await readAllowedSigners(policy.allowedSignersFile);
  const approver = principalAsListed(allowed, input.approver) ?? input.approver;
  if (isInitiator(approver, run.initiator)) {
    throw new ApprovalError(`${approver} initiated run ${run.id} (${run.initiator}) and cannot approve it`, {
      fault: 'operator',
      nextStep: 'ask another allowed signer to approve; an initiator never counts toward the quorum',
    });
  }
  const payload = buildPayload({ run, approver, now: input.now, lifetimeHours });
  return { payload, text: serializePayload(payload) };
}

/** Signs a prepared payload and proves the signature verifies against allowed_signers before returning it. */
export async function signApproval(
  prepared: PreparedApproval,
  input: Pick<CreateApprovalInput, 'policy' | 'signingKeyPath' | 'now' | 'ssh'>,
): Promise<StoredApproval> {
  const signature = await signPayload(prepared.text, input.signingKeyPath, input.ssh);
  const check = await verifyWithDiagnosis(
    { allowedSignersFile: input.policy.allowedSignersFile, principal: prepared.payload.approver, payload: prepared.text, signature },
    input.ssh,
  );
  if (!check.ok) {
    throw new ApprovalError(`your signature as ${prepared.payload.approver} does not verify against ${input.policy.allowedSignersFile}: ${check.reason}`, {
      fault: 'operator',
      nextStep: `sign with the key listed for ${prepared.payload.approver}, or add its public key to allowed_signers through a pull request (approvers/README.md)`,
    });
  }
  return { signer: prepared.payload.approver, payload: prepared.text, signature, recordedAt: input.now.toISOString() };
}

export async function createApproval(input: CreateApprovalInput): Promise<StoredApproval> {
  return signApproval(await prepareApproval(input), input);
}

/**
 * Stores `approval` with its run (conditional write) and audits it. Idempotent: the same signature
 * stored twice is stored once. On a write conflict it re-reads the run once and retries; if the
 * run's digests moved meanwhile the approval is stale and is refused rather than stored.
 */
export async function recordApproval(store: StateStore, runId: string, approval: StoredApproval): Promise<Run> {
  const attempt = async (): Promise<{ run: Run; added: boolean }> => {
    const run = await store.getRun(runId);
    if (!run) {
      throw new ApprovalError(`run ${runId} not found in ${store.description}`, {
        fault: 'operator',
        nextStep: 'check the run id with `rotate status`, and --state-dir / the config\'s state settings',
      });
    }
    if (run.approvals.some((a) => a.signature === approval.signature)) return { run, added: false };
    const signed = JSON.parse(approval.payload) as Partial<ApprovalPayload>;
    if (signed.planDigest !== run.planDigest || signed.evidenceDigest !== run.evidenceDigest) {
      throw new ApprovalError(`run ${runId} changed while the approval was being signed (plan or evidence digest moved); the approval would be stale`, {
        fault: 'operator',
        nextStep: `read the run again and re-run \`rotate approve ${runId}\``,
      });
    }
    return { run: await store.putRun({ ...run, approvals: [...run.approvals, approval] }), added: true };
  };
  let stored: { run: Run; added: boolean };
  try {
    stored = await attempt();
  } catch (error) {
    if (!(error instanceof StateError)) throw error;
    stored = await attempt(); // one retry: another writer bumped the version between our read and write
  }
  if (!stored.added) return stored.run;
  await store.appendAudit({
    actor: approval.signer,
    action: 'approval.recorded',
    keyring: stored.run.keyring,
    runId,
    detail: { recordedAt: approval.recordedAt, planDigest: stored.run.planDigest, evidenceDigest: stored.run.evidenceDigest },
  });
  return stored.run;
}
