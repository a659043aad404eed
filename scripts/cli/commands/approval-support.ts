/** What `rotate approve`, `rotate approvals` and `rotate gate` share: opening the approval session from the CLI's options. */
import type { CliContext } from '../context';
import type { GateResult } from '../../../pipeline/approvals/gate';
import type { Run } from '../../../pipeline/state/types';
import { nextStep } from '../view/next-step';
import { openApprovalSession, type ApprovalSession } from '../../../pipeline/approvals/session';

export async function approvalSessionFor(ctx: CliContext, runId: string, options: { approvalsDir?: string; writesApprovals?: boolean } = {}): Promise<ApprovalSession> {
  return openApprovalSession({
    configFile: ctx.global.config,
    runId,
    stateDir: ctx.global.stateDir,
    env: ctx.env,
    ...(ctx.global.endpoint ? { stsEndpoint: ctx.global.endpoint } : {}),
    onNote: ctx.io.err,
    cwd: ctx.cwd,
    ...(options.approvalsDir ? { approvalsDir: options.approvalsDir } : {}),
    ...(options.writesApprovals ? { writesApprovals: true } : {}),
  });
}

/**
 * What comes after `rotate gate` / `rotate approvals`: for a run that is over, its own next step
 * (approving it would be refused); else more approvers, the blockers, or the advance that runs
 * the gate stage.
 */
export function gateNextStep(run: Run, result: GateResult): string {
  if (run.status === 'completed' || run.status === 'rolled-back' || run.status === 'cancelled') {
    return `run ${run.id} is ${run.status}: nothing to approve; ${nextStep(run)}`;
  }
  if (result.satisfied) {
    const atGate = run.stages.some((s) => s.name === 'approval-gate' && s.status !== 'done');
    return atGate ? `\`rotate advance ${run.id}\` runs the gate stage` : nextStep(run);
  }
  if (result.blockers.length > 0) return `resolve the blockers above (\`rotate status ${run.id}\`)`;
  return `${result.missing} more approver(s), not the initiator, run \`rotate approve ${run.id} --signing-key <key>\` and hand in the file`;
}
