/**
 * `rotate gate RUN [--approvals-dir DIR]` — for CI: exit 0 only when the quorum holds for the
 * run's current plan and evidence digests, 1 when it does not (saying who signed and how many more
 * are needed), and the shared error codes (2 operator, 3 AWS, 4 bug) otherwise, so a broken gate
 * can never be mistaken for an open one.
 */
import * as path from 'node:path';
import type { CommandRun } from '../context';
import { ExitCode } from '../../../pipeline/errors';
import { loadApprovalsFromDir } from '../../../pipeline/approvals/files';
import { describeGateResult, evaluateApprovals } from '../../../pipeline/approvals/gate';
import { openApprovalSession } from '../../../pipeline/approvals/session';
import { reportError } from '../report-error';

interface GateOptions {
  readonly approvalsDir?: string;
}

export const run: CommandRun = async (ctx, rawOptions, args) => {
  const options = rawOptions as GateOptions; // shape fixed by the option definitions in main.ts
  try {
    const session = await openApprovalSession({ configFile: ctx.global.config, runId: args[0]!, stateDir: ctx.global.stateDir, env: ctx.env });
    try {
      const extraApprovals = options.approvalsDir ? await loadApprovalsFromDir(path.resolve(ctx.cwd, options.approvalsDir), session.run.id) : [];
      const result = await evaluateApprovals(session.run, session.policy, { now: new Date(), extraApprovals });
      if (ctx.global.json) ctx.io.out(JSON.stringify(result, null, 2));
      else (result.satisfied ? ctx.io.out : ctx.io.err)(describeGateResult(result));
      if (!result.satisfied && !ctx.global.json) {
        ctx.io.err(`next: ${result.blockers.length > 0 ? `resolve the blockers (\`rotate status ${result.runId}\`)` : `${result.missing} more allowed signer(s), not the initiator, run \`rotate approve ${result.runId} --signing-key <key>\``}`);
      }
      return result.satisfied ? ExitCode.ok : ExitCode.notSatisfied;
    } finally {
      await session.close();
    }
  } catch (error) {
    // One mapping for every command: an AWS or state failure is not an operator error. Whatever
    // the code, it is never 0, so a broken gate never reads as an open one.
    return reportError(ctx.io, error, ctx.global.json);
  }
};
