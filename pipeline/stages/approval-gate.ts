/**
 * approval-gate — M distinct allowed signers, other than the initiator, have signed the current
 * plan and evidence digests. Waits (does not fail) until they have.
 */
import type { StageDefinition, StageOutcome } from '../engine/types';
import { describeGateResult, evaluateApprovals } from '../approvals/gate';
import { loadApprovalsFromDir } from '../approvals/files';

const NAME = 'approval-gate';

export const approvalGate: StageDefinition = {
  name: NAME,
  async run(ctx): Promise<StageOutcome> {
    const run = ctx.run();
    const extraApprovals = ctx.options.extraApprovalsDir ? await loadApprovalsFromDir(ctx.options.extraApprovalsDir, run.id) : [];
    const result = await evaluateApprovals(run, ctx.keyring.approvals, { now: ctx.now(), extraApprovals });
    if (result.satisfied) return { status: 'done', summary: `quorum ${result.signers.length}/${result.quorum}: ${result.signers.join(', ')}`, outputs: { signers: result.signers } };
    return {
      status: 'waiting',
      waitingFor: 'people',
      summary: describeGateResult(result).split('\n')[0]!,
      nextStep: `approvers (not ${run.initiator}) run \`rotate approve ${run.id} --signing-key <ssh key>\`; then \`rotate advance ${run.id}\``,
    };
  },
  verify: async () => undefined,
};
