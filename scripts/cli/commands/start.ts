import type { CommandRun } from '../context';
import { ExitCode } from '../../../pipeline/errors';

/** `rotate start KEYRING --kind K [--key ARN | --generation N]`: opens a run (taking the key ring's lease) and runs preflight. */
export const run: CommandRun<{ kind?: string; dryRun?: boolean; key?: string; generation?: string }> = async (ctx, options, args) => {
  if (options.dryRun) {
    const plan = await import('./plan');
    return plan.run(ctx, options, args);
  }
  const { findKeyring } = await import('../../../pipeline/engine/engine');
  const { engineFor, advanceAndReport, withSession } = await import('./run-support');
  return withSession(ctx, async (session) => {
    const keyring = findKeyring(session.config, args[0]!);
    const kind = (options.kind ?? 'rotate') as 'rotate' | 'retire-key';
    let target: { keyArn: string } | undefined;
    if (kind === 'retire-key') {
      const { resolveTargetKey } = await import('../target-key');
      target = { keyArn: resolveTargetKey(keyring, await session.store.getLedger(keyring.name), options, 'retire-key') };
    }
    const engine = await engineFor(ctx, session, keyring);
    const opened = await engine.start(keyring.name, kind, target);
    if (!ctx.global.json) ctx.io.err(`opened run ${opened.id}`);
    await advanceAndReport(ctx, session, keyring, opened, 1);
    return ExitCode.ok;
  });
};
