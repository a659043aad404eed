import type { CommandRun } from '../context';
import { ExitCode, KeyrotorError, exitCodeForStop } from '../../../pipeline/errors';

export interface AdvanceOptions {
  readonly dryRun?: boolean;
  readonly stageLimit?: string;
  readonly approvalsDir?: string;
  readonly yes?: boolean;
  readonly wait?: boolean;
  readonly timeout?: string;
  readonly detailedExitcode?: boolean;
}

/**
 * `rotate advance RUN`: runs stages until one needs time or people, fails, or the run completes
 * (never the deletion: `rotate delete`). Before a step that switches Identity Center it names the
 * switch and asks (or takes --yes). `--wait` keeps advancing as the run's waits end; with it (or
 * `--detailed-exitcode`) the exit code says whether the run is done (0), waits for time (10), for
 * people (11), stopped at --stage-limit (12) or ended without completing (13); a plain advance
 * exits 0 whenever no stage failed, as the workflows expect.
 */
export const run: CommandRun<AdvanceOptions> = async (ctx, options, args) => {
  const { findKeyring } = await import('../../../pipeline/engine/lookup');
  const { drive, printRun, remainingStages, withSession } = await import('./run-support');
  const limit = options.stageLimit === undefined ? undefined : Number(options.stageLimit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new KeyrotorError(`--stage-limit must be a whole number of at least 1, got "${options.stageLimit}"`, { fault: 'operator', nextStep: 'e.g. `rotate advance RUN --stage-limit 1`' });
  }
  if (options.wait && limit !== undefined) {
    throw new KeyrotorError('--wait and --stage-limit do not go together: --wait advances until the run no longer waits', { fault: 'operator', nextStep: 'drop one of them' });
  }
  if (options.timeout !== undefined && !options.wait) {
    throw new KeyrotorError('--timeout is the longest --wait waits; it needs --wait', { fault: 'operator', nextStep: 'e.g. `rotate advance RUN --wait --timeout 2h`' });
  }
  const { parseDuration } = await import('../wait');
  const timeoutMs = options.timeout === undefined ? undefined : parseDuration('--timeout', options.timeout);
  return withSession(ctx, async (session) => {
    const current = await session.resolveRun(args[0] ?? '');
    const keyring = findKeyring(session.config, current.keyring);
    const inReach = remainingStages(current).slice(0, limit ?? Number.POSITIVE_INFINITY);
    if (options.dryRun) {
      if (inReach.length > 0) {
        // Every read-only check the real advance makes: the key ring where the run started, a valid ledger.
        const { findKeyringOfRun } = await import('../../../pipeline/engine/lookup');
        await session.store.getLedger(findKeyringOfRun(session.config, current).name);
      }
      const next = inReach[0];
      if (ctx.global.json) {
        const { emitJson } = await import('../json/output');
        const { runJson } = await import('../json/run-json');
        emitJson(ctx, { dryRun: true, run: runJson(current), nextStage: next ?? null, stagesInReach: inReach });
      } else {
        printRun(ctx, current);
        ctx.io.out(next ? `dry run: the next stage would be ${next}; nothing was changed` : 'dry run: no stage left; nothing was changed');
      }
      return ExitCode.ok;
    }
    // Only a run that can still go forward switches anything (an ended or rolling-back run is refused or left as is).
    const canSwitch = !['completed', 'rolled-back', 'cancelled'].includes(current.status) && !current.stages.some((s) => s.status === 'undone');
    if (canSwitch && inReach.includes('switch-identity-center') && keyring.identityCenter) {
      await session.announce(keyring);
      const { switchChanges } = await import('../plan/switch-changes');
      const { confirm } = await import('../confirm');
      const changes = await switchChanges(session.clientsFor(keyring), keyring, current, inReach);
      const command = `rotate advance ${current.id}${limit !== undefined ? ` --stage-limit ${limit}` : ''}${options.wait ? ' --wait' : ''}`;
      if (!(await confirm(ctx, { changes, command, yes: Boolean(options.yes) }))) return ExitCode.notSatisfied;
    }
    const extras = options.approvalsDir ? { approvalsDir: options.approvalsDir } : {};
    const once = async () => {
      const now = await session.store.getRun(current.id) ?? current;
      return drive(ctx, session, keyring, remainingStages(now), (engine) => engine.advance(current.id, limit === undefined ? {} : { stageLimit: limit }), extras, current.id);
    };
    const { notifyAfter } = await import('../notify');
    const tracked = async () => notifyAfter(ctx, session, current.id, once);
    if (options.wait) {
      const { advanceAndWait } = await import('../wait');
      const { driven, exitCode } = await advanceAndWait(ctx, tracked, timeoutMs);
      printRun(ctx, driven.run, { ...(driven.stop ? { stop: driven.stop } : {}), exitCode });
      return exitCode;
    }
    const driven = await tracked();
    const exitCode = options.detailedExitcode && driven.stop ? exitCodeForStop(driven.stop.reason) : ExitCode.ok;
    printRun(ctx, driven.run, { ...(driven.stop ? { stop: driven.stop } : {}), exitCode });
    return exitCode;
  });
};
