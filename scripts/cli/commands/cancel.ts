import type { CommandRun } from '../context';
import { ExitCode } from '../../../pipeline/errors';

/**
 * `rotate cancel RUN`: ends a run that has changed nothing in AWS and frees its key ring. Its only
 * AWS call is STS's, for who cancelled it (the audit log's actor), unless $KEYROTOR_OPERATOR says.
 */
export const run: CommandRun = async (ctx, _options, args) => {
  const { findKeyring } = await import('../../../pipeline/engine/lookup');
  const { drive, printRun, withSession } = await import('./run-support');
  return withSession(ctx, async (session) => {
    const current = await session.resolveRun(args[0] ?? '');
    const keyring = findKeyring(session.config, current.keyring);
    const driven = await drive(ctx, session, keyring, [], (engine) => engine.cancel(current.id), {}, current.id);
    printRun(ctx, driven.run, driven.stop ? { stop: driven.stop } : {});
    return ExitCode.ok;
  });
};
