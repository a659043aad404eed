/**
 * `rotate gate RUN [--approvals-dir DIR]` — for CI: exit 0 only when the quorum holds for the run's
 * current plan and evidence digests against the bar the run recorded, 1 when it does not (saying
 * who signed, what was merged and how many more are needed), and the shared error codes otherwise
 * (2 operator — a config that no longer matches the run's bar included —, 3 AWS, 4 bug), so a
 * broken gate can never be mistaken for an open one. It counts exactly what the engine's
 * approval-gate counts: same directory rule, same function.
 */
import type { CommandRun } from '../context';
import { ExitCode } from '../../../pipeline/errors';
import { describeGateResult } from '../../../pipeline/approvals/gate';
import { approvalSessionFor, gateNextStep } from './approval-support';
import { emitJson } from '../json/output';
import { normalizeTimes } from '../view/text';
import { reportError } from '../report-error';

export const run: CommandRun<{ approvalsDir?: string }> = async (ctx, options, args) => {
  try {
    const session = await approvalSessionFor(ctx, args[0] ?? '', options);
    try {
      const { result } = await session.evaluate(ctx.clock.now(), { env: ctx.env });
      const next = gateNextStep(session.run, result);
      if (ctx.global.json) emitJson(ctx, { gate: result, next });
      else {
        const say = result.satisfied ? ctx.io.out : ctx.io.err;
        say(normalizeTimes(describeGateResult(result)));
        say(`next: ${next}`);
      }
      return result.satisfied ? ExitCode.ok : ExitCode.notSatisfied;
    } finally {
      await session.close();
    }
  } catch (error) {
    // One mapping for every command: an AWS or state failure is not an operator error. Whatever
    // the code, it is never 0, so a broken gate never reads as an open one.
    return reportError(ctx, error);
  }
};
