import type { CommandRun } from '../context';
import { ExitCode } from '../../../pipeline/errors';

/** `rotate advance RUN`: runs stages until one needs time or people, fails, or the run completes. */
export const run: CommandRun<{ dryRun?: boolean; stageLimit?: string; approvalsDir?: string }> = async (ctx, options, args) => {
  const { findKeyring, loadRun } = await import('../../../pipeline/engine/engine');
  const { advanceAndReport, printRun, withSession } = await import('./run-support');
  return withSession(ctx, async (session) => {
    const current = await loadRun(session.store, args[0]!);
    const keyring = findKeyring(session.config, current.keyring);
    if (options.dryRun) {
      const next = current.stages.find((s) => s.status !== 'done' && s.status !== 'skipped');
      printRun(ctx, current);
      ctx.io.out(next ? `dry run: the next stage would be ${next.name}; nothing was changed` : 'dry run: no stage left; nothing was changed');
      return ExitCode.ok;
    }
    const limit = options.stageLimit === undefined ? undefined : Number(options.stageLimit);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
      const { KeyrotorError } = await import('../../../pipeline/errors');
      throw new KeyrotorError(`--stage-limit must be a whole number of at least 1, got "${options.stageLimit}"`, { fault: 'operator', nextStep: 'e.g. `rotate advance RUN --stage-limit 1`' });
    }
    try {
      await advanceAndReport(ctx, session, keyring, current, limit, options.approvalsDir ? { approvalsDir: options.approvalsDir } : {});
    } catch (error) {
      // Show where the run stands before the error and its next step.
      printRun(ctx, await loadRun(session.store, current.id));
      throw error;
    }
    return ExitCode.ok;
  });
};
