import type { CommandRun } from '../context';
import { ExitCode } from '../../../pipeline/errors';

/**
 * `rotate logs RUN`: the run's entries of the hash-chained audit log as readable lines, in order.
 * Cost: the audit log has no index by run, so this reads the whole log (each segment of the file
 * store, or every item of the DynamoDB store) and keeps the run's entries — linear in the log's
 * length, a few MB per 10,000 entries. `rotate audit verify` checks the chain itself.
 */
export const run: CommandRun = async (ctx, _options, args) => {
  const { resolveRun } = await import('../../../pipeline/runs/resolve-run');
  const { withStore } = await import('../store-session');
  return withStore(ctx, async (_config, store) => {
    const found = await resolveRun(store, args[0] ?? '');
    const entries = (await store.readAudit()).filter((e) => e.runId === found.id);
    if (ctx.global.json) {
      const { emitJson } = await import('../json/output');
      emitJson(ctx, { runId: found.id, entries });
      return ExitCode.ok;
    }
    const { auditLines } = await import('../view/audit-lines');
    ctx.io.out(`audit log of run ${found.id} (${entries.length} entries, ${store.description}):`);
    ctx.io.out(auditLines(entries, ctx.global.wide));
    ctx.io.out(`next: \`rotate status ${found.id}\` for where the run stands; \`rotate audit verify\` checks the chain`);
    return ExitCode.ok;
  });
};
