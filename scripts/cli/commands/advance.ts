import type { CommandRun } from '../context';
import { ExitCode, KeyrotorError } from '../../../pipeline/errors';

/** `rotate advance RUN`: runs stages until one needs time or people, fails, or the run completes (never the deletion). */
export const run: CommandRun<{ dryRun?: boolean; stageLimit?: string; approvalsDir?: string }> = async (ctx, options, args) => {
  const { findKeyring, loadRun } = await import('../../../pipeline/engine/lookup');
  const { driveAndReport, printRun, remainingStages, withSession } = await import('./run-support');
  const limit = options.stageLimit === undefined ? undefined : Number(options.stageLimit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new KeyrotorError(`--stage-limit must be a whole number of at least 1, got "${options.stageLimit}"`, { fault: 'operator', nextStep: 'e.g. `rotate advance RUN --stage-limit 1`' });
  }
  return withSession(ctx, async (session) => {
    const current = await loadRun(session.store, args[0] ?? '');
    const keyring = findKeyring(session.config, current.keyring);
    if (options.dryRun) {
      const next = current.stages.find((s) => s.status !== 'done' && s.status !== 'skipped');
      if (ctx.global.json) {
        ctx.io.out(JSON.stringify({ dryRun: true, run: current, nextStage: next?.name ?? null }, null, 2));
      } else {
        printRun(ctx, current);
        ctx.io.out(next ? `dry run: the next stage would be ${next.name}; nothing was changed` : 'dry run: no stage left; nothing was changed');
      }
      return ExitCode.ok;
    }
    try {
      await driveAndReport(ctx, session, keyring, remainingStages(current), (engine) => engine.advance(current.id, limit === undefined ? {} : { stageLimit: limit }), options.approvalsDir ? { approvalsDir: options.approvalsDir } : {});
    } catch (error) {
      // Show where the run stands before the error and its next step.
      const now = await session.store.getRun(current.id).catch(() => undefined);
      if (now && !ctx.global.json) printRun(ctx, now);
      throw error;
    }
    return ExitCode.ok;
  });
};
