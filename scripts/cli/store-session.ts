/**
 * For the read-only commands (status, runs, logs, plan, replan, completion): the config and the
 * state store, and nothing else — no AWS SDK with the file store, so they start in about 0.1 s; in
 * team mode the store comes with its own credentials (the state role), as for every command.
 */
import { existsSync } from 'node:fs';
import type { Config } from '../../pipeline/config/types';
import type { StateStore } from '../../pipeline/state/types';
import type { CliContext } from './context';

/** The config's state store as the CLI's options open it (`--state-dir`, `--endpoint` for STS, notes on stderr). */
export async function openStoreFor(ctx: CliContext, config: Config): Promise<StateStore> {
  const { openConfiguredStore } = await import('../../pipeline/state/open');
  const store = await openConfiguredStore(config, { stateDirOverride: ctx.global.stateDir, env: ctx.env, onNote: ctx.io.err, ...(ctx.global.endpoint ? { stsEndpoint: ctx.global.endpoint } : {}) });
  await noteMissingStateDirectory(ctx, store);
  return store;
}

/**
 * A read of a file store whose directory does not exist finds nothing, which reads exactly like a
 * fresh estate ("no ledger yet: adopt"): said once, so a mistyped --state-dir is noticed before
 * someone acts on the emptiness.
 */
async function noteMissingStateDirectory(ctx: CliContext, store: StateStore): Promise<void> {
  const { FileStateStore } = await import('../../pipeline/state/file-store'); // already loaded by the opener
  if (!(store instanceof FileStateStore) || existsSync(store.dir)) return;
  const dir = store.dir;
  const from = ctx.global.stateDir !== undefined ? (ctx.env.KEYROTOR_STATE_DIR === ctx.global.stateDir ? 'KEYROTOR_STATE_DIR' : '--state-dir') : 'the config\'s state.dir';
  ctx.io.err(`note: the state directory ${dir} (from ${from}) does not exist: nothing has been recorded there yet; if you expected runs and ledgers, check ${from}`);
}

export async function withStore<T>(ctx: CliContext, body: (config: Config, store: StateStore) => Promise<T>): Promise<T> {
  const { loadConfig } = await import('../../pipeline/config/load');
  const config = loadConfig(ctx.global.config);
  const store = await openStoreFor(ctx, config);
  try {
    return await body(config, store);
  } finally {
    await store.close();
  }
}
