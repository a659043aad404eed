import type { CommandRun } from '../context';
import { ExitCode } from '../../../pipeline/errors';

/**
 * `rotate start KEYRING --kind K [--key ARN | --generation N] [--signing-key KEY [--as P] [--agent]]`:
 * opens a run (taking the key ring's lease) and runs preflight. A run that deletes through the
 * approval gate records who started it in approver terms: the start signed with the operator's key
 * from allowed_signers, or a `people` entry matching the AWS caller / the GitHub user who dispatched it.
 */
export const run: CommandRun<{ kind?: string; dryRun?: boolean; key?: string; generation?: string; signingKey?: string; as?: string; agent?: boolean }> = async (ctx, options, args) => {
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
    let startSigner;
    if (options.signingKey) {
      // Found and checked before anything is written, with errors that name the real problem.
      const path = await import('node:path');
      const { resolveSigningKey } = await import('../../../pipeline/approvals/signing-key');
      const key = await resolveSigningKey(path.resolve(ctx.cwd, options.signingKey), { agent: Boolean(options.agent) });
      startSigner = { signingKeyPath: key.signWith, ...(options.as ? { principal: options.as } : {}), ...(key.agent ? { agent: true } : {}) };
    }
    const engine = await engineFor(ctx, session, keyring, undefined, startSigner ? { startSigner } : {});
    const opened = await engine.start(keyring.name, kind, target);
    if (!ctx.global.json) ctx.io.err(`opened run ${opened.id}`);
    await advanceAndReport(ctx, session, keyring, opened, 1);
    return ExitCode.ok;
  });
};
