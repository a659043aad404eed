/**
 * approval-gate — `quorum` distinct people (by key), none of them the initiator, have signed the
 * run's current plan and evidence against the bar the run recorded at start. Waits (does not fail)
 * until they have. Approvals come as files (`rotate approve` writes them; the approvals directory is
 * the one `rotate gate` reads, through the same function), and the ones that carried the gate are
 * then recorded with the run and in the audit chain, so the run keeps what authorized its deletion.
 */
import { createHash } from 'node:crypto';
import type { StageContext, StageDefinition, StageOutcome } from '../engine/types';
import { readChain } from '../approvals/chain';
import { approvalsDirFor, collectApprovals } from '../approvals/files';
import { describeGateResult, evaluateApprovals, type GateInput, type GateResult } from '../approvals/gate';
import { parsePayload } from '../approvals/payload';

const NAME = 'approval-gate';

/** What the engine's gate counts: the run's approvals plus the approvals directory, judged like `rotate gate` does. */
export async function gateInputFor(ctx: StageContext): Promise<GateInput> {
  const dir = approvalsDirFor(ctx.config.baseDir, { flag: ctx.options.extraApprovalsDir });
  return { now: ctx.now(), collected: await collectApprovals(ctx.run(), dir), chain: await readChain(ctx.store) };
}

/** Records the approvals that carried the gate with the run, audit first (each with its key and signed audit head). */
export async function recordCounted(ctx: StageContext, input: GateInput, result: GateResult): Promise<void> {
  const fresh = result.approvals
    .filter((v) => v.counts)
    .map((verdict) => ({ verdict, approval: input.collected.approvals[verdict.number - 1]!.approval }))
    .filter(({ approval }) => !ctx.run().approvals.some((r) => r.signature === approval.signature));
  if (fresh.length === 0) return;
  for (const { verdict, approval } of fresh) {
    const parsed = parsePayload(approval.payload);
    await ctx.store.appendAudit({
      actor: ctx.actor,
      action: 'approval.counted',
      keyring: ctx.run().keyring,
      runId: ctx.run().id,
      at: ctx.now().toISOString(),
      detail: {
        signer: approval.signer,
        fingerprint: verdict.fingerprint,
        source: verdict.source,
        signatureSha256: createHash('sha256').update(approval.signature).digest('hex'),
        ...(parsed.ok ? { issuedAt: parsed.payload.issuedAt, auditHead: parsed.payload.auditHead } : {}),
      },
    });
  }
  await ctx.updateRun((r) => ({ ...r, approvals: [...r.approvals, ...fresh.map(({ approval }) => approval)] }));
}

export const approvalGate: StageDefinition = {
  name: NAME,
  async run(ctx): Promise<StageOutcome> {
    const run = ctx.run();
    const input = await gateInputFor(ctx);
    const result = await evaluateApprovals(run, input);
    if (result.satisfied) {
      await recordCounted(ctx, input, result);
      return { status: 'done', summary: `quorum ${result.signers.length}/${result.quorum}: ${result.signers.join(', ')}`, outputs: { signers: result.signers } };
    }
    return {
      status: 'waiting',
      waitingFor: 'people',
      summary: describeGateResult(result).split('\n')[0]!,
      nextStep: `approvers (not ${run.initiator}) run \`rotate approve ${run.id} --signing-key <ssh key>\` and hand in the approval file; then \`rotate advance ${run.id}\``,
    };
  },
  verify: async () => undefined,
};
