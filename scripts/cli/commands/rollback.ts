import type { CommandRun } from '../context';
import { ExitCode } from '../../../pipeline/errors';

/** `rotate rollback RUN`: undoes the run's completed stages in reverse (refused once deletion is scheduled). */
export const run: CommandRun<{ dryRun?: boolean }> = async (ctx, options, args) => {
  const { assertRollbackAllowed } = await import('../../../pipeline/engine/engine');
  const { findKeyring, loadRun } = await import('../../../pipeline/engine/lookup');
  const { stageEntry, isStartableKind } = await import('../../../pipeline/engine/stage-lists');
  const { driveAndReport, withSession } = await import('./run-support');
  return withSession(ctx, async (session) => {
    const current = await loadRun(session.store, args[0] ?? '');
    const keyring = findKeyring(session.config, current.keyring);
    const undo = [...current.stages].reverse().filter((s) => !['pending', 'skipped', 'undone'].includes(s.status) && !(s.status === 'waiting' && s.attempts === 0));
    if (options.dryRun) {
      assertRollbackAllowed(current);
      const steps = undo.map((s) => ({ stage: s.name, undoes: isStartableKind(current.kind) && stageEntry(current.kind, s.name).undoable }));
      if (ctx.global.json) {
        ctx.io.out(JSON.stringify({ dryRun: true, runId: current.id, undo: steps }, null, 2));
        return ExitCode.ok;
      }
      ctx.io.out(`dry run: rollback of ${current.id} would undo, in order:`);
      for (const step of steps) ctx.io.out(`  ${step.stage}${step.undoes ? '' : ' (nothing to undo)'}`);
      ctx.io.out('nothing was changed');
      return ExitCode.ok;
    }
    await driveAndReport(ctx, session, keyring, undo.map((s) => s.name), (engine) => engine.rollback(current.id));
    return ExitCode.ok;
  });
};
