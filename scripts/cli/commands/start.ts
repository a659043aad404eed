import type { CommandRun } from '../context';
import { ExitCode } from '../../../pipeline/errors';

export interface StartOptions {
  readonly kind?: string;
  readonly dryRun?: boolean;
  readonly key?: string;
  readonly generation?: string;
  readonly signingKey?: string;
  readonly as?: string;
  readonly agent?: boolean;
}

/**
 * `rotate start KEYRING --kind K [--key ARN | --generation N] [--signing-key KEY [--as P] [--agent]]`:
 * opens a run (stored, then its key ring's lease) and runs preflight. A run that deletes through
 * the approval gate records who started it in approver terms: the start signed with the
 * operator's key from allowed_signers, or a `people` entry matching the AWS caller / the GitHub
 * user who dispatched it. `--dry-run` makes every read-only check and opens nothing.
 */
export const run: CommandRun<StartOptions> = async (ctx, options, args) => {
  const { findKeyring } = await import('../../../pipeline/engine/lookup');
  const { engineFor, drive, printRun, withSession } = await import('./run-support');
  const { parseKind } = await import('../kinds');
  return withSession(ctx, async (session) => {
    const keyring = findKeyring(session.config, args[0] ?? '');
    const kind = parseKind(options.kind);
    const selector = { ...(options.key !== undefined ? { key: options.key } : {}), ...(options.generation !== undefined ? { generation: options.generation } : {}) };
    let startSigner;
    if (options.signingKey && !options.dryRun) {
      // Found and checked before anything is written, with errors that name the real problem.
      const path = await import('node:path');
      const { resolveSigningKey } = await import('../../../pipeline/approvals/signing-key');
      const key = await resolveSigningKey(path.resolve(ctx.cwd, options.signingKey), { agent: Boolean(options.agent) });
      startSigner = { signingKeyPath: key.signWith, ...(options.as ? { principal: options.as } : {}), ...(key.agent ? { agent: true } : {}) };
    }
    const extras = startSigner ? { startSigner } : {};
    const engine = await engineFor(ctx, session, keyring, undefined, extras);
    if (options.dryRun) {
      const { reportDryRun } = await import('../dry-run');
      reportDryRun(ctx, await engine.dryRun(keyring.name, kind, selector));
      return ExitCode.ok;
    }
    const opened = await engine.start(keyring.name, kind, selector);
    ctx.io.err(`opened run ${opened.id}`);
    const { notifyAfter } = await import('../notify');
    const driven = await notifyAfter(ctx, session, opened.id, () => drive(ctx, session, keyring, ['preflight'], (e) => e.advance(opened.id, { stageLimit: 1 }), extras, opened.id));
    printRun(ctx, driven.run, driven.stop ? { stop: driven.stop } : {});
    return ExitCode.ok;
  });
};
