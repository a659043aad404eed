import type { CommandRun } from '../context';
import { ExitCode } from '../../../pipeline/errors';

/** `rotate rollback RUN`: undoes the run's completed stages in reverse (refused once deletion is scheduled). */
export const run: CommandRun<{ dryRun?: boolean }> = async (ctx, options, args) => {
  const { assertRollbackAllowed, findKeyring, loadRun } = await import('../../../pipeline/engine/engine');
  const { stageByName } = await import('../../../pipeline/engine/stage-lists');
  const { engineFor, printRun, withSession } = await import('./run-support');
  return withSession(ctx, async (session) => {
    const current = await loadRun(session.store, args[0]!);
    const keyring = findKeyring(session.config, current.keyring);
    if (options.dryRun) {
      assertRollbackAllowed(current);
      const undo = [...current.stages].reverse().filter((s) => !['pending', 'skipped', 'undone'].includes(s.status));
      ctx.io.out(`dry run: rollback of ${current.id} would undo, in order:`);
      for (const s of undo) ctx.io.out(`  ${s.name}${stageByName(current.kind as 'rotate', s.name).undo ? '' : ' (nothing to undo)'}`);
      ctx.io.out('nothing was changed');
      return ExitCode.ok;
    }
    const engine = await engineFor(ctx, session, keyring);
    printRun(ctx, await engine.rollback(current.id));
    return ExitCode.ok;
  });
};
