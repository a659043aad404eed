import type { CommandRun } from '../context';
import { ExitCode } from '../../../pipeline/errors';

/** `rotate demo`: migrate an emulated organization to a CMK, then rotate it through every stage. */
export const run: CommandRun<{ keep?: string }> = async (ctx, options) => {
  const { runDemo } = await import('../../demo/run-demo');
  const started = Date.now();
  const result = await runDemo({ out: (line) => ctx.io.out(line), ...(options.keep ? { keepDir: options.keep } : {}) });
  ctx.io.out(`\ndemo finished in ${((Date.now() - started) / 1000).toFixed(1)} s: migration ${result.migration.status}, material rotation ${result.materialRotation.status}, rotation ${result.rotation.status}`);
  const runsCompleted = [result.migration, result.materialRotation, result.rotation].every((r) => r.status === 'completed');
  const { regionsOverBudget, MAX_RATIO } = await import('../../demo/call-budget');
  const over = regionsOverBudget(result.callBudget);
  for (const r of over) ctx.io.err(`the rotation made ${r.total} AWS calls in ${r.region}, ${r.ratio.toFixed(2)}× the minimum of ${r.minimum} (at most ${MAX_RATIO}×)`);
  return runsCompleted && over.length === 0 ? ExitCode.ok : ExitCode.internalError;
};
