/**
 * `rotate audit verify`'s second half: the approvals anchor the chain. The hash links alone cannot
 * reveal a chain recomputed from the first entry on; but every approval signed the head (seq and
 * hash) its approver saw, so this checks, for every approval recorded with a run, that the signature
 * still verifies against the allowed_signers the run recorded (the anchor was not edited) and that
 * the chain still has that hash at that seq. It also checks each run against the chain (initiator,
 * plan and evidence digests), that every `approval.counted` entry's approval is still with its run,
 * and that no run scheduled a deletion without the approvals that allowed it.
 */
import { createHash } from 'node:crypto';
import type { Run, StateStore } from '../state/types';
import { principalAsListed, parseAllowedSigners } from './allowed-signers';
import { hasApprovalGate } from './bar';
import { anchorProblem, chainBlockers, readChain, type ChainView } from './chain';
import { parsePayload } from './payload';
import { verifySignature, withPrivateFiles, type SshKeygenOptions } from './ssh';

export interface AnchorProblem {
  readonly runId: string;
  readonly reason: string;
}

export interface AnchorReport {
  /** Approvals whose signed audit head was checked. */
  readonly checked: number;
  readonly problems: readonly AnchorProblem[];
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

async function checkRun(run: Run, chain: ChainView, ssh: SshKeygenOptions | undefined): Promise<{ checked: number; problems: AnchorProblem[] }> {
  const problems: AnchorProblem[] = [];
  const problem = (reason: string): void => void problems.push({ runId: run.id, reason });
  // The chain's own verdict is reported once by the caller; runs from before these records are not failed for lacking them.
  if (hasApprovalGate(run.plan)) for (const blocker of chainBlockers(run, { ...chain, verification: { ok: true, entries: chain.entries.length } }, false)) problem(blocker);

  const bar = run.plan.approvals;
  let checked = 0;
  if (run.approvals.length > 0 && bar) {
    const signers = parseAllowedSigners(bar.allowedSigners, 'the run\'s recorded allowed_signers');
    await withPrivateFiles({ allowed_signers: bar.allowedSigners }, async ({ allowed_signers: file }) => {
      for (const [i, approval] of run.approvals.entries()) {
        const parsed = parsePayload(approval.payload);
        const label = `approval ${i + 1} (${approval.signer})`;
        if (!parsed.ok) {
          problem(`${label}: ${parsed.reason}`);
          continue;
        }
        const principal = principalAsListed(signers, parsed.payload.approver) ?? parsed.payload.approver;
        const verified = await verifySignature({ allowedSignersFile: file!, principal, payload: approval.payload, signature: approval.signature, at: new Date(parsed.payload.issuedAt) }, ssh);
        if (!verified.ok) {
          problem(`${label}: its signature no longer verifies against the run's allowed_signers (${verified.reason}): the approval or the run was edited`);
          continue;
        }
        // A later re-read of the evidence may follow an approval; the anchor itself must still hold.
        const anchor = anchorProblem(parsed.payload.auditHead, chain, { id: run.id }, false);
        checked += 1;
        if (anchor) problem(`${label}: ${anchor}`);
      }
    });
  }
  const signatures = new Set(run.approvals.map((a) => sha256(a.signature)));
  for (const entry of chain.entries.filter((e) => e.runId === run.id && e.action === 'approval.counted')) {
    const recorded = entry.detail?.signatureSha256;
    if (typeof recorded === 'string' && !signatures.has(recorded)) {
      problem(`the approval by ${String(entry.detail?.signer)} counted at audit entry ${entry.seq} is no longer with the run: removed from the run record`);
    }
  }
  const scheduled = run.stages.find((s) => s.name === 'schedule-deletion')?.mutations.some((m) => m.operation === 'kms:ScheduleKeyDeletion');
  const counted = chain.entries.filter((e) => e.runId === run.id && e.action === 'approval.counted').length;
  if (scheduled && bar && Math.min(run.approvals.length, counted) < bar.quorum) {
    problem(`scheduled the deletion of ${run.plan.oldKeyArn} but records ${run.approvals.length} approval(s) with the run and ${counted} in the chain, below its quorum of ${bar.quorum}`);
  }
  return { checked, problems };
}

export async function verifyApprovalAnchors(store: Pick<StateStore, 'readAudit' | 'auditHead' | 'listRuns'>, ssh?: SshKeygenOptions): Promise<AnchorReport> {
  const chain = await readChain(store);
  const runs = await store.listRuns();
  let checked = 0;
  const problems: AnchorProblem[] = [];
  for (const run of runs) {
    const result = await checkRun(run, chain, ssh);
    checked += result.checked;
    problems.push(...result.problems);
  }
  return { checked, problems };
}
