/**
 * Notification hooks (config `notifications.hooks`): after a command moved a run, fire the hooks
 * of the event it reached — waiting-for-approvals, ready-for-deletion, failed, completed — once
 * when the run enters that state, not at every re-check. Each hook gets the summary `rotate status
 * RUN` prints on stdin and the facts in its environment. A failing hook is reported on stderr and
 * never changes the command's outcome: the run's state is already recorded.
 */
import type { NotificationEvent, NotificationHook } from '../../pipeline/config/notifications';
import type { Run } from '../../pipeline/state/types';
import type { CliContext } from './context';
import type { Session } from './session';
import { renderRun } from './run-view';
import { nextStep } from './view/next-step';

function waitsAt(run: Run | undefined, stage: string): boolean {
  return run?.stages.some((s) => s.name === stage && s.status === 'waiting') ?? false;
}

/** The event a change from `before` to `after` reached, if any (`failed`: the call threw). */
export function eventOf(before: Run | undefined, after: Run | undefined, threw: boolean): NotificationEvent | undefined {
  if (!after) return undefined;
  if (threw && (after.status === 'failed' || (after.status === 'cancelled' && before?.status !== 'cancelled'))) return 'failed';
  if (after.status === 'completed' && before?.status !== 'completed') return 'completed';
  if (waitsAt(after, 'approval-gate') && !waitsAt(before, 'approval-gate')) return 'waiting-for-approvals';
  if (waitsAt(after, 'schedule-deletion') && !waitsAt(before, 'schedule-deletion')) return 'ready-for-deletion';
  return undefined;
}

const SUBJECT: Readonly<Record<NotificationEvent, string>> = {
  'waiting-for-approvals': 'waits for approvals',
  'ready-for-deletion': 'is ready to schedule the old key\'s deletion',
  failed: 'failed',
  completed: 'completed',
};

export async function fireHooks(ctx: CliContext, hooks: readonly NotificationHook[], baseDir: string, event: NotificationEvent, run: Run): Promise<void> {
  const chosen = hooks.filter((h) => h.events.includes(event));
  if (chosen.length === 0) return;
  const { execa } = await import('execa');
  const message = `${renderRun(run)}\n`;
  const subject = `keyrotor: run ${run.id} (${run.kind} of ${run.keyring}) ${SUBJECT[event]}`;
  for (const hook of chosen) {
    const result = await execa(hook.command[0]!, hook.command.slice(1), {
      cwd: baseDir,
      input: message,
      reject: false,
      timeout: hook.timeoutSeconds * 1000,
      env: {
        KEYROTOR_EVENT: event,
        KEYROTOR_SUBJECT: subject,
        KEYROTOR_RUN_ID: run.id,
        KEYROTOR_RUN_KIND: run.kind,
        KEYROTOR_RUN_STATUS: run.status,
        KEYROTOR_KEYRING: run.keyring,
        KEYROTOR_NEXT: nextStep(run),
      },
    });
    if (result.failed) {
      ctx.io.err(`notification hook "${hook.name}" (${event}) failed: ${result.timedOut ? `timed out after ${hook.timeoutSeconds} s` : (result.shortMessage ?? 'unknown reason')}; the run is not affected`);
    }
  }
}

/**
 * Runs `call` (one engine call on run `runId`) and fires the hooks of the event it reached. The
 * call's result or error passes through unchanged.
 */
export async function notifyAfter<T>(ctx: CliContext, session: Session, runId: string, call: () => Promise<T>): Promise<T> {
  const hooks = session.config.notifications?.hooks ?? [];
  if (hooks.length === 0) return call();
  const before = await session.store.getRun(runId);
  let threw = false;
  try {
    return await call();
  } catch (error) {
    threw = true;
    throw error;
  } finally {
    const after = await session.store.getRun(runId).catch(() => undefined);
    const event = eventOf(before, after, threw);
    if (event && after) await fireHooks(ctx, hooks, session.config.baseDir, event, after);
  }
}
