import type { CommandRun } from '../context';
import { ExitCode } from '../../../pipeline/errors';

/** `rotate cancel-deletion KEYRING (--generation N | --key ARN) [--enable]`: the safe direction, no approval. */
export const run: CommandRun<{ generation?: string; key?: string; enable?: boolean; dryRun?: boolean }> = async (ctx, options, args) => {
  const { findKeyring } = await import('../../../pipeline/engine/engine');
  const { engineFor, advanceAndReport, withSession } = await import('./run-support');
  return withSession(ctx, async (session) => {
    const keyring = findKeyring(session.config, args[0]!);
    const { resolveTargetKey } = await import('../target-key');
    const keyArn = resolveTargetKey(keyring, await session.store.getLedger(keyring.name), options, 'cancel-deletion');
    if (options.dryRun) {
      ctx.io.out(`dry run: would cancel the deletion of ${keyArn}${options.enable ? ' and enable it' : ' (it stays Disabled)'}; nothing was changed`);
      return ExitCode.ok;
    }
    const engine = await engineFor(ctx, session, keyring);
    const opened = await engine.start(keyring.name, 'cancel-deletion', { keyArn, enable: Boolean(options.enable) });
    await advanceAndReport(ctx, session, keyring, opened);
    return ExitCode.ok;
  });
};
