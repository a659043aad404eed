import type { CommandRun } from '../context';
import { ExitCode, KeyrotorError } from '../../../pipeline/errors';

/**
 * `rotate delete RUN [--yes]`: the one command that schedules a key's deletion. It runs only the
 * run's schedule-deletion stage, once the run waits for it; on a terminal it first names the key
 * and the earliest date it becomes unrecoverable and asks for `yes`.
 */
export const run: CommandRun<{ yes?: boolean }> = async (ctx, options, args) => {
  const { findKeyring, loadRun } = await import('../../../pipeline/engine/lookup');
  const { driveAndReport, withSession } = await import('./run-support');
  return withSession(ctx, async (session) => {
    const current = await loadRun(session.store, args[0] ?? '');
    const keyring = findKeyring(session.config, current.keyring);
    const next = current.stages.find((s) => s.status !== 'done' && s.status !== 'skipped');
    if (next?.name !== 'schedule-deletion') {
      throw new KeyrotorError(
        next ? `run ${current.id} is at stage ${next.name}, not ready to schedule a deletion` : `run ${current.id} has no stage left (${current.status})`,
        { fault: 'operator', nextStep: next ? `\`rotate advance ${current.id}\` until it waits for \`rotate delete\` (\`rotate status ${current.id}\` shows where it is)` : `\`rotate status ${current.id}\`` },
      );
    }
    const window = current.plan.deletionWindowDays;
    const earliest = new Date(Date.now() + window * 86_400_000).toISOString().slice(0, 10);
    const what = `schedule the deletion of ${current.plan.oldKeyArn ?? 'the old key'} (key ring ${current.keyring}) with a ${window}-day window: it becomes unrecoverable on ${earliest} unless cancelled before`;
    if (!options.yes) {
      if (!ctx.io.interactive) {
        throw new KeyrotorError(`rotate delete needs confirmation: this would ${what}`, { fault: 'operator', nextStep: `add --yes where no one can answer a prompt (CI): \`rotate delete ${current.id} --yes\`` });
      }
      const answer = await ctx.io.readLine(`This will ${what}.\nType yes to continue: `);
      if (answer?.trim() !== 'yes') {
        ctx.io.err('not confirmed; nothing was changed');
        return ExitCode.operatorError;
      }
    }
    await driveAndReport(ctx, session, keyring, ['schedule-deletion'], (engine) => engine.advance(current.id, { allowDeletion: true }));
    return ExitCode.ok;
  });
};
