import type { CommandRun } from '../context';
import { ExitCode } from '../../../pipeline/errors';

/**
 * `rotate rollback RUN [--dry-run] [--yes]`: undoes the run's completed stages in reverse (refused
 * once deletion is scheduled). `--dry-run` lists the AWS calls each undo makes; the real thing
 * names them and asks on a terminal (or takes --yes).
 */
export const run: CommandRun<{ dryRun?: boolean; yes?: boolean }> = async (ctx, options, args) => {
  const { assertRollbackAllowed } = await import('../../../pipeline/engine/engine');
  const { findKeyring } = await import('../../../pipeline/engine/lookup');
  const { drive, printRun, withSession } = await import('./run-support');
  const { rollbackSteps, rollbackChangeLines } = await import('../plan/rollback-calls');
  return withSession(ctx, async (session) => {
    const current = await session.resolveRun(args[0] ?? '');
    const keyring = findKeyring(session.config, current.keyring);
    if (current.status === 'rolled-back') {
      // Nothing left to undo: say so, as the engine would, without asking.
      printRun(ctx, current);
      return ExitCode.ok;
    }
    assertRollbackAllowed(current);
    const steps = rollbackSteps(current);
    if (options.dryRun) {
      // Every read-only check the real rollback makes: the key ring where the run started, a valid ledger.
      const { findKeyringOfRun } = await import('../../../pipeline/engine/lookup');
      await session.store.getLedger(findKeyringOfRun(session.config, current).name);
      if (ctx.global.json) {
        const { emitJson } = await import('../json/output');
        emitJson(ctx, { dryRun: true, runId: current.id, steps: steps.map((s) => ({ ...s, calls: s.calls.map((c) => ({ sign: c.sign, operation: c.operation, target: c.target, values: Object.fromEntries(c.values) })) })), next: `\`rotate rollback ${current.id}\`` });
        return ExitCode.ok;
      }
      const { renderRollbackSteps } = await import('../plan/render');
      ctx.io.out(renderRollbackSteps(`dry run: rollback of ${current.id} would undo, last stage first:`, steps, ['nothing was changed', `next: \`rotate rollback ${current.id}\``], ctx.global.wide));
      return ExitCode.ok;
    }
    await session.announce(keyring);
    const { confirm } = await import('../confirm');
    if (!(await confirm(ctx, { changes: [`roll back run ${current.id}:`, ...rollbackChangeLines(current)], command: `rotate rollback ${current.id}`, yes: Boolean(options.yes) }))) return ExitCode.notSatisfied;
    const driven = await drive(ctx, session, keyring, steps.map((s) => s.stage), (engine) => engine.rollback(current.id), {}, current.id);
    printRun(ctx, driven.run, driven.stop ? { stop: driven.stop } : {});
    return ExitCode.ok;
  });
};
