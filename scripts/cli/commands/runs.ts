import type { CommandRun } from '../context';
import { ExitCode, KeyrotorError } from '../../../pipeline/errors';

const STATUSES = ['open', 'waiting', 'failed', 'completed', 'rolled-back', 'cancelled'] as const;

/**
 * `rotate runs [--all] [--keyring K] [--status S]`: the run history, oldest first. Without --all
 * (or --status) only open runs. Reads the state store only.
 */
export const run: CommandRun<{ all?: boolean; keyring?: string; status?: string }> = async (ctx, options) => {
  const { closestNames } = await import('../../../pipeline/runs/closest');
  if (options.status !== undefined && !(STATUSES as readonly string[]).includes(options.status)) {
    const closest = closestNames(options.status, STATUSES);
    throw new KeyrotorError(`--status ${options.status} is not a run status (one of: ${STATUSES.join(', ')})`, { fault: 'operator', nextStep: closest.length > 0 ? `did you mean --status ${closest[0]}?` : `e.g. \`rotate runs --status waiting\`` });
  }
  const { withStore } = await import('../store-session');
  return withStore(ctx, async (config, store) => {
    if (options.keyring !== undefined) {
      const { findKeyring } = await import('../../../pipeline/engine/lookup');
      findKeyring(config, options.keyring);
    }
    const everyRun = Boolean(options.all) || options.status !== undefined;
    const runs = (await store.listRuns({ ...(options.keyring !== undefined ? { keyring: options.keyring } : {}), ...(everyRun ? {} : { open: true }) }))
      .filter((r) => options.status === undefined || r.status === options.status);
    if (ctx.global.json) {
      const { emitJson } = await import('../json/output');
      const { runSummaryJson } = await import('../json/run-json');
      emitJson(ctx, { filter: { all: everyRun, ...(options.keyring !== undefined ? { keyring: options.keyring } : {}), ...(options.status !== undefined ? { status: options.status } : {}) }, runs: runs.map(runSummaryJson) });
      return ExitCode.ok;
    }
    const { runTable } = await import('../view/run-table');
    const what = `${everyRun ? '' : 'open '}runs${options.keyring ? ` of ${options.keyring}` : ''}${options.status ? ` with status ${options.status}` : ''}`;
    if (runs.length === 0) {
      ctx.io.out(`no ${what}${everyRun ? '' : ' (`rotate runs --all` lists ended ones too)'}`);
      return ExitCode.ok;
    }
    ctx.io.out(`${runs.length} ${what.replace(/^(open )?runs/, (m) => (runs.length === 1 ? m.slice(0, -1) : m))}, oldest first:\n${runTable(runs)}`);
    ctx.io.out('next: `rotate status RUN` or `rotate logs RUN` (RUN: a unique prefix, or `latest[:KEYRING]`)');
    return ExitCode.ok;
  });
};
