import type { CommandRun } from '../context';
import { ExitCode, KeyrotorError } from '../../../pipeline/errors';

/** `rotate cancel-deletion KEYRING (--generation N | --key ARN) [--enable]`: the safe direction, no approval. */
export const run: CommandRun<{ generation?: string; key?: string; enable?: boolean; dryRun?: boolean }> = async (ctx, options, args) => {
  const { findKeyring } = await import('../../../pipeline/engine/engine');
  const { engineFor, advanceAndReport, withSession } = await import('./run-support');
  return withSession(ctx, async (session) => {
    const keyring = findKeyring(session.config, args[0]!);
    const ledger = await session.store.getLedger(keyring.name);
    let keyArn = options.key;
    if (options.generation !== undefined) {
      const found = ledger?.generations.find((g) => String(g.generation) === options.generation);
      if (!found) throw new KeyrotorError(`key ring ${keyring.name} has no generation ${options.generation} in its ledger`, { fault: 'operator', nextStep: `list generations with \`rotate status\`` });
      keyArn = found.keyArn;
    }
    if (!keyArn) throw new KeyrotorError('cancel-deletion needs --generation N or --key ARN', { fault: 'operator', nextStep: `e.g. \`rotate cancel-deletion ${keyring.name} --generation 1\`` });
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
