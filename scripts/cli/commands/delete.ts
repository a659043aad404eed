import type { CommandRun } from '../context';
import { ExitCode, KeyrotorError } from '../../../pipeline/errors';
import type { Run, StageRecord } from '../../../pipeline/state/types';

/**
 * `rotate delete RUN [--yes]`: the one command that schedules a key's deletion. It runs only the
 * run's schedule-deletion stage, once the run waits for it; on a terminal it first names the key
 * and the earliest date it becomes unrecoverable and asks for `yes` (CI: --yes).
 *
 * Run again once the deletion is scheduled (a retried CI job), it changes nothing and exits 0, as
 * `advance`, `rollback` and `cancel` do on a run that already ended their way. A run that ended
 * otherwise (rolled back, cancelled) never scheduled a deletion: that stays an error.
 */
export const run: CommandRun<{ yes?: boolean }> = async (ctx, options, args) => {
  const { findKeyring } = await import('../../../pipeline/engine/lookup');
  const { DELETION_STAGE } = await import('../../../pipeline/engine/stage-lists');
  const { drive, printRun, withSession } = await import('./run-support');
  const { formatTime } = await import('../view/text');
  return withSession(ctx, async (session) => {
    const current = await session.resolveRun(args[0] ?? '');
    const keyring = findKeyring(session.config, current.keyring);
    const scheduled = scheduledDeletion(current, DELETION_STAGE);
    if (scheduled) {
      ctx.io.err(alreadyScheduledNote(current, scheduled, formatTime));
      printRun(ctx, current);
      return ExitCode.ok;
    }
    const next = current.stages.find((s) => s.status !== 'done' && s.status !== 'skipped');
    if (next?.name !== DELETION_STAGE) {
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
    const driven = await notifyAfter(ctx, session, current.id, () => drive(ctx, session, keyring, [DELETION_STAGE], (engine) => engine.advance(current.id, { allowDeletion: true }), {}, current.id));
    printRun(ctx, driven.run, driven.stop ? { stop: driven.stop } : {});
    return ExitCode.ok;
  });
};

/** The run's deletion stage when it has scheduled the deletion: the run completed through it. */
function scheduledDeletion(run: Run, deletionStage: string): StageRecord | undefined {
  const stage = run.stages.find((s) => s.name === deletionStage);
  return run.status === 'completed' && stage?.status === 'done' ? stage : undefined;
}

/** What a repeated delete says: the deletion stands as scheduled, since when, and until when the key waits in its window. */
function alreadyScheduledNote(run: Run, stage: StageRecord, formatTime: (at: string) => string): string {
  const when = stage.endedAt ? ` on ${formatTime(stage.endedAt)}` : '';
  const deletionDate = stage.outputs?.deletionDate;
  const until =
    typeof deletionDate === 'string' && !Number.isNaN(Date.parse(deletionDate))
      ? `; the key is pending deletion until ${formatTime(deletionDate)}, the end of its ${run.plan.deletionWindowDays}-day window`
      : '';
  return `run ${run.id} already scheduled the deletion of ${run.plan.oldKeyArn ?? 'the old key'}${when}${until}; nothing was changed`;
}
