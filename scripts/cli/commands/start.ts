import type { CommandRun } from '../context';
import { ExitCode } from '../../../pipeline/errors';

export interface StartOptions {
  readonly kind?: string;
  readonly dryRun?: boolean;
  readonly key?: string;
  readonly generation?: string;
}

/**
 * `rotate start KEYRING --kind K [--key ARN | --generation N]`: opens a run (stored, then its key
 * ring's lease) and runs preflight. `--dry-run` makes every read-only check and opens nothing.
 */
export const run: CommandRun<StartOptions> = async (ctx, options, args) => {
  const { findKeyring } = await import('../../../pipeline/engine/lookup');
  const { engineFor, driveAndReport, withSession } = await import('./run-support');
  const { parseKind } = await import('../kinds');
  return withSession(ctx, async (session) => {
    const keyring = findKeyring(session.config, args[0] ?? '');
    const kind = parseKind(options.kind);
    const selector = { ...(options.key !== undefined ? { key: options.key } : {}), ...(options.generation !== undefined ? { generation: options.generation } : {}) };
    const engine = await engineFor(ctx, session, keyring);
    if (options.dryRun) {
      const { reportDryRun } = await import('../dry-run');
      reportDryRun(ctx, await engine.dryRun(keyring.name, kind, selector));
      return ExitCode.ok;
    }
    const opened = await engine.start(keyring.name, kind, selector);
    if (!ctx.global.json) ctx.io.err(`opened run ${opened.id}`);
    await driveAndReport(ctx, session, keyring, ['preflight'], (e) => e.advance(opened.id, { stageLimit: 1 }));
    return ExitCode.ok;
  });
};
