import type { CommandRun } from '../context';
import { ExitCode } from '../../../pipeline/errors';

/** `rotate start KEYRING --kind K`: opens a run (taking the key ring's lease) and runs preflight. */
export const run: CommandRun<{ kind?: string; dryRun?: boolean }> = async (ctx, options, args) => {
  if (options.dryRun) {
    const plan = await import('./plan');
    return plan.run(ctx, { kind: options.kind }, args);
  }
  const { findKeyring } = await import('../../../pipeline/engine/engine');
  const { engineFor, advanceAndReport, withSession } = await import('./run-support');
  return withSession(ctx, async (session) => {
    const keyring = findKeyring(session.config, args[0]!);
    const engine = await engineFor(ctx, session, keyring);
    const opened = await engine.start(keyring.name, (options.kind ?? 'rotate') as 'rotate');
    if (!ctx.global.json) ctx.io.err(`opened run ${opened.id}`);
    await advanceAndReport(ctx, session, keyring, opened, 1);
    return ExitCode.ok;
  });
};
