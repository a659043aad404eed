import type { CommandRun } from '../context';
import { ExitCode } from '../../../pipeline/errors';

/** `rotate demo`: migrate an emulated organization to a CMK, then rotate it through every stage. */
export const run: CommandRun<{ keep?: string }> = async (ctx, options) => {
  const { runDemo } = await import('../../demo/run-demo');
  const started = Date.now();
  const result = await runDemo({ out: (line) => ctx.io.out(line), ...(options.keep ? { keepDir: options.keep } : {}) });
  ctx.io.out(`\ndemo finished in ${((Date.now() - started) / 1000).toFixed(1)} s: migration ${result.migration.status}, rotation ${result.rotation.status}`);
  return result.rotation.status === 'completed' && result.migration.status === 'completed' ? ExitCode.ok : ExitCode.internalError;
};
