import type { CommandRun } from '../context';
import { ExitCode, KeyrotorError } from '../../../pipeline/errors';

/**
 * `rotate delete RUN [--yes]`: the one command that schedules a key's deletion. It runs only the
 * run's schedule-deletion stage, once the run waits for it; on a terminal it first names the key
 * and the earliest date it becomes unrecoverable and asks for `yes` (CI: --yes).
 */
export const run: CommandRun<{ yes?: boolean }> = async (ctx, options, args) => {
  const { findKeyring } = await import('../../../pipeline/engine/lookup');
  const { drive, printRun, withSession } = await import('./run-support');
  const { formatTime } = await import('../view/text');
  return withSession(ctx, async (session) => {
    const current = await session.resolveRun(args[0] ?? '');
    const keyring = findKeyring(session.config, current.keyring);
    const next = current.stages.find((s) => s.status !== 'done' && s.status !== 'skipped');
    if (next?.name !== 'schedule-deletion') {
      throw new KeyrotorError(
        next ? `run ${current.id} is at stage ${next.name}, not ready to schedule a deletion` : `run ${current.id} has no stage left (${current.status})`,
        { fault: 'operator', nextStep: next ? `\`rotate advance ${current.id}\` until it waits for \`rotate delete\` (\`rotate status ${current.id}\` shows where it is)` : `\`rotate status ${current.id}\`` },
      );
    }
    await session.announce(keyring);
    const window = current.plan.deletionWindowDays;
    const earliest = new Date(ctx.clock.now().getTime() + window * 86_400_000);
    const change = `schedule the deletion of ${current.plan.oldKeyArn ?? 'the old key'} (key ring ${current.keyring}) with a ${window}-day window: it becomes unrecoverable on ${formatTime(earliest)} unless cancelled before (kms:ScheduleKeyDeletion)`;
    const { confirm } = await import('../confirm');
    if (!(await confirm(ctx, { changes: [change], command: `rotate delete ${current.id}`, yes: Boolean(options.yes), yesRequiredWithoutTerminal: true }))) return ExitCode.notSatisfied;
    const { notifyAfter } = await import('../notify');
    const driven = await notifyAfter(ctx, session, current.id, () => drive(ctx, session, keyring, ['schedule-deletion'], (engine) => engine.advance(current.id, { allowDeletion: true }), {}, current.id));
    printRun(ctx, driven.run, driven.stop ? { stop: driven.stop } : {});
    return ExitCode.ok;
  });
};
