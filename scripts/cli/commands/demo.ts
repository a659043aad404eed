import type { CommandRun } from '../context';
import { ExitCode } from '../../../pipeline/errors';

/**
 * `rotate demo`: migrate an emulated organization to a CMK, then rotate it through every stage.
 * With --json the narration goes to stderr and stdout carries the two runs' outcome.
 */
export const run: CommandRun<{ keep?: string }> = async (ctx, options) => {
  const { runDemo } = await import('../../demo/run-demo');
  const started = Date.now();
  const say = ctx.global.json ? ctx.io.err : ctx.io.out;
  const result = await runDemo({ out: (line) => say(line), ...(options.keep ? { keepDir: options.keep } : {}) });
  const seconds = (Date.now() - started) / 1000;
  const runsCompleted = [result.migration, result.materialRotation, result.rotation].every((r) => r.status === 'completed');
  const { regionsOverBudget, MAX_RATIO } = await import('../../demo/call-budget');
  const over = regionsOverBudget(result.callBudget);
  for (const r of over) ctx.io.err(`the rotation made ${r.total} AWS calls in ${r.region}, ${r.ratio.toFixed(2)}× the minimum of ${r.minimum} (at most ${MAX_RATIO}×)`);
  const ok = runsCompleted && over.length === 0;
  if (ctx.global.json) {
    const { emitJson } = await import('../json/output');
    emitJson(ctx, { ok, seconds, migration: { id: result.migration.id, status: result.migration.status }, rotation: { id: result.rotation.id, status: result.rotation.status } });
  } else {
    ctx.io.out(`\ndemo finished in ${seconds.toFixed(1)} s: migration ${result.migration.status}, material rotation ${result.materialRotation.status}, rotation ${result.rotation.status}`);
  }
  return ok ? ExitCode.ok : ExitCode.internalError;
};
