import type { CommandRun } from '../context';
import { ExitCode } from '../../../pipeline/errors';

/**
 * `rotate cancel-deletion KEYRING (--generation N | --key ARN|ID) [--enable]`: the safe direction,
 * no approval and no confirmation. The key is checked against the ledger before any run opens, so
 * a typo here is an operator error that changes nothing and never holds the key ring.
 */
export const run: CommandRun<{ generation?: string; key?: string; enable?: boolean; dryRun?: boolean }> = async (ctx, options, args) => {
  const { findKeyring } = await import('../../../pipeline/engine/lookup');
  const { engineFor, drive, printRun, withSession } = await import('./run-support');
  return withSession(ctx, async (session) => {
    const keyring = findKeyring(session.config, args[0] ?? '');
    const selector = {
      ...(options.key !== undefined ? { key: options.key } : {}),
      ...(options.generation !== undefined ? { generation: options.generation } : {}),
      enable: Boolean(options.enable),
    };
    const engine = await engineFor(ctx, session, keyring);
    if (options.dryRun) {
      const { reportDryRun } = await import('../dry-run');
      reportDryRun(ctx, await engine.dryRun(keyring.name, 'cancel-deletion', selector));
      return ExitCode.ok;
    }
    const opened = await engine.start(keyring.name, 'cancel-deletion', selector);
    ctx.io.err(`opened run ${opened.id}`);
    const { notifyAfter } = await import('../notify');
    const driven = await notifyAfter(ctx, session, opened.id, () => drive(ctx, session, keyring, opened.plan.stages, (e) => e.advance(opened.id), {}, opened.id));
    printRun(ctx, driven.run, driven.stop ? { stop: driven.stop } : {});
    return ExitCode.ok;
  });
};
