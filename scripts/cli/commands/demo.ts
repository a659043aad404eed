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
  const ok = result.rotation.status === 'completed' && result.migration.status === 'completed';
  if (ctx.global.json) {
    const { emitJson } = await import('../json/output');
    emitJson(ctx, { ok, seconds, migration: { id: result.migration.id, status: result.migration.status }, rotation: { id: result.rotation.id, status: result.rotation.status } });
  } else {
    ctx.io.out(`\ndemo finished in ${seconds.toFixed(1)} s: migration ${result.migration.status}, rotation ${result.rotation.status}`);
  }
  return ok ? ExitCode.ok : ExitCode.internalError;
};
