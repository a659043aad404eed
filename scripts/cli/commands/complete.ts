import type { CommandRun } from '../context';
import { ExitCode } from '../../../pipeline/errors';

/**
 * `rotate __complete keyrings|runs` (hidden): the words the completion scripts offer, one per line.
 * Prints nothing (and exits 0) when the config or the store cannot be read: completion never errs.
 */
export const run: CommandRun = async (ctx, _options, args) => {
  try {
    const { withStore } = await import('../store-session');
    await withStore(ctx, async (config, store) => {
      if (args[0] === 'keyrings') ctx.io.out(config.keyrings.map((k) => k.name).join('\n'));
      if (args[0] === 'runs') {
        const runs = await store.listRuns();
        ctx.io.out([...runs.map((r) => r.id).reverse(), 'latest', ...config.keyrings.map((k) => `latest:${k.name}`)].join('\n'));
      }
    });
  } catch {
    // nothing to offer
  }
  return ExitCode.ok;
};
