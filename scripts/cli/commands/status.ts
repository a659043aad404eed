import type { CommandRun } from '../context';
import { ExitCode } from '../../../pipeline/errors';
import type { Config } from '../../../pipeline/config/types';
import type { Ledger } from '../../../pipeline/ledger/types';
import type { AwsClients } from '../../../pipeline/aws';
import type { KeyRotations } from '../rotation-history';

/** `rotate status [RUN]`: one run in detail, or every open run and each key ring's generations. */
export const run: CommandRun<{ offline?: boolean }> = async (ctx, options, args) => {
  const { loadConfig } = await import('../../../pipeline/config/load');
  const { openStateStore } = await import('../../../pipeline/state/open');
  const { loadRun } = await import('../../../pipeline/engine/lookup');
  const { renderRun, nextStep } = await import('../run-view');
  const config = loadConfig(ctx.global.config);
  const store = await openStateStore(config.state, { stateDirOverride: ctx.global.stateDir, env: ctx.env });
  try {
    if (args[0]) {
      const found = await loadRun(store, args[0]);
      ctx.io.out(ctx.global.json ? JSON.stringify(found, null, 2) : renderRun(found));
      return ExitCode.ok;
    }
    const runs = await store.listRuns({ open: true });
    const ledgers = await store.listLedgers();
    const rotations = options.offline ? [] : await keyRotations(ctx, config, ledgers);
    if (ctx.global.json) {
      ctx.io.out(JSON.stringify({ openRuns: runs, ledgers, ...(options.offline ? {} : { rotations }) }, null, 2));
      return ExitCode.ok;
    }
    ctx.io.out(runs.length === 0 ? 'no open runs' : 'open runs:');
    for (const r of runs) ctx.io.out(`  ${r.id}  ${r.kind}  ${r.status}  next: ${nextStep(r)}`);
    ctx.io.out('key rings:');
    for (const k of config.keyrings) {
      const ledger = ledgers.find((l) => l.keyring === k.name);
      const gens = ledger?.generations.map((g) => `gen${g.generation} ${g.state}${g.deletionDate ? ` (deletes ${g.deletionDate.slice(0, 10)})` : ''}`).join(', ');
      ctx.io.out(`  ${k.name.padEnd(24)} ${k.alias.padEnd(32)} ${gens ?? 'no ledger (generation 1 comes from the stacks, or `rotate start ' + k.name + ' --kind adopt`)'}`);
    }
    const { renderKeyRotations } = await import('../rotation-history');
    for (const line of renderKeyRotations(rotations)) ctx.io.out(line);
    return ExitCode.ok;
  } finally {
    await store.close();
  }
};

/** Each active key's rotation history and on-demand budget, read live (skipped with --offline). */
async function keyRotations(ctx: Parameters<CommandRun>[0], config: Config, ledgers: readonly Ledger[]): Promise<KeyRotations[]> {
  if (!ledgers.some((l) => l.generations.some((g) => g.state === 'active'))) return [];
  const { createAwsClients } = await import('../../../pipeline/aws');
  const { readKeyRotations } = await import('../rotation-history');
  const made: AwsClients[] = [];
  try {
    return await readKeyRotations(config, ledgers, (keyring) => {
      const clients = createAwsClients({ region: keyring.region, account: keyring.account, env: ctx.env, maxAttempts: 2, ...(ctx.global.endpoint ? { endpoint: ctx.global.endpoint } : {}) });
      made.push(clients);
      return clients;
    });
  } finally {
    for (const c of made) c.destroy();
  }
}
