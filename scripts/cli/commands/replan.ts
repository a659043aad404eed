/**
 * `rotate replan RUN`: adopt the current config for an open run whose config changed (the engine
 * stops such a run with exit 2 and names each field). Earlier approvals become stale; approvers sign
 * again. Needs no AWS call.
 */
import type { CommandRun } from '../context';
import { ExitCode } from '../../../pipeline/errors';

export const run: CommandRun = async (ctx, _options, args) => {
  const { findKeyring } = await import('../../../pipeline/engine/lookup');
  const { resolveRun } = await import('../../../pipeline/runs/resolve-run');
  const { Engine } = await import('../../../pipeline/engine/engine');
  const { withStore } = await import('../store-session');
  return withStore(ctx, async (config, store) => {
    const current = await resolveRun(store, args[0] ?? '');
    findKeyring(config, current.keyring);
    const actor = ctx.env.KEYROTOR_OPERATOR || ctx.env.USER || 'unknown operator';
    // No AWS call: the engine is given no clients; it only takes the run's lock and writes the run.
    const engine = new Engine({ config, store, actor, now: () => ctx.clock.now(), clientsFor: () => { throw new Error('replan makes no AWS call'); } });
    const result = await engine.replan(current.id);
    if (ctx.global.json) {
      const { emitJson } = await import('../json/output');
      emitJson(ctx, { runId: current.id, changes: result.changes, reopened: result.reopened, planDigest: result.run.planDigest, next: result.changes.length === 0 ? `\`rotate advance ${current.id}\`` : `approvers sign again (\`rotate approve ${current.id}\`); \`rotate advance ${current.id}\`` });
      return ExitCode.ok;
    }
    if (result.changes.length === 0) {
      ctx.io.out(`run ${current.id} already matches the current config; nothing was changed`);
      ctx.io.out(`next: \`rotate advance ${current.id}\``);
      return ExitCode.ok;
    }
    ctx.io.out(`run ${current.id} now keeps the current config's bar:`);
    for (const c of result.changes) ctx.io.out(`  ${c.field}: ${c.signed} -> ${c.current}`);
    ctx.io.out(`plan digest ${current.planDigest.slice(0, 12)}… -> ${result.run.planDigest.slice(0, 12)}…: every earlier approval is stale; approvers sign again with \`rotate approve ${current.id}\``);
    if (result.reopened.length > 0) ctx.io.out(`stages to run again: ${result.reopened.join(', ')}`);
    ctx.io.out(`next: \`rotate advance ${current.id}\``);
    return ExitCode.ok;
  });
};
