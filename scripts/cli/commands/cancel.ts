import type { CommandRun } from '../context';
import { ExitCode } from '../../../pipeline/errors';

/** `rotate cancel RUN`: ends a run that has changed nothing in AWS and frees its key ring. */
export const run: CommandRun = async (ctx, _options, args) => {
  const { findKeyring, loadRun } = await import('../../../pipeline/engine/lookup');
  const { driveAndReport, withSession } = await import('./run-support');
  return withSession(ctx, async (session) => {
    const current = await loadRun(session.store, args[0] ?? '');
    const keyring = findKeyring(session.config, current.keyring);
    await driveAndReport(ctx, session, keyring, [], (engine) => engine.cancel(current.id));
    return ExitCode.ok;
  });
};
