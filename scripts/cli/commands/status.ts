import type { CommandRun } from '../context';
import { ExitCode } from '../../../pipeline/errors';

/** `rotate status [RUN]`: one run in detail, or every open run and each key ring's generations. */
export const run: CommandRun = async (ctx, _options, args) => {
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
    if (ctx.global.json) {
      ctx.io.out(JSON.stringify({ openRuns: runs, ledgers }, null, 2));
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
    return ExitCode.ok;
  } finally {
    await store.close();
  }
};
