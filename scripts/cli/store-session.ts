/**
 * For the read-only commands (status, runs, logs, plan, replan, completion): the config and the
 * state store, and nothing else — no AWS SDK with the file store, so they start in about 0.1 s; in
 * team mode the store comes with its own credentials (the state role), as for every command.
 */
import type { Config } from '../../pipeline/config/types';
import type { StateStore } from '../../pipeline/state/types';
import type { CliContext } from './context';

/** The config's state store as the CLI's options open it (`--state-dir`, `--endpoint` for STS, notes on stderr). */
export async function openStoreFor(ctx: CliContext, config: Config): Promise<StateStore> {
  const { openConfiguredStore } = await import('../../pipeline/state/open');
  return openConfiguredStore(config, { stateDirOverride: ctx.global.stateDir, env: ctx.env, onNote: ctx.io.err, ...(ctx.global.endpoint ? { stsEndpoint: ctx.global.endpoint } : {}) });
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
