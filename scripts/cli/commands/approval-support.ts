/** What `rotate approve`, `rotate approvals` and `rotate gate` share: opening the approval session from the CLI's options. */
import type { CliContext } from '../context';
import { openApprovalSession, type ApprovalSession } from '../../../pipeline/approvals/session';

export async function approvalSessionFor(ctx: CliContext, runId: string, options: { approvalsDir?: string; writesApprovals?: boolean } = {}): Promise<ApprovalSession> {
  return openApprovalSession({
    configFile: ctx.global.config,
    runId,
    stateDir: ctx.global.stateDir,
    env: ctx.env,
    cwd: ctx.cwd,
    ...(options.approvalsDir ? { approvalsDir: options.approvalsDir } : {}),
    ...(options.writesApprovals ? { writesApprovals: true } : {}),
  });
}
