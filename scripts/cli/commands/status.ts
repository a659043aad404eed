import type { CommandRun } from '../context';
import { ExitCode } from '../../../pipeline/errors';
import type { Config } from '../../../pipeline/config/types';
import type { Ledger } from '../../../pipeline/ledger/types';
import type { AwsClients } from '../../../pipeline/aws';
import type { KeyRotations } from '../rotation-history';

/**
 * `rotate status [RUN] [--rotations]`: one run in detail (RUN: an id, a unique prefix,
 * `latest[:KEYRING]`), or the open runs and each key ring's generations. Reads the state store
 * only, so no AWS SDK is loaded — unless `--rotations` asks for each active key's rotation history
 * and remaining on-demand budget, read live with ListKeyRotations.
 */
export const run: CommandRun<{ rotations?: boolean }> = async (ctx, options, args) => {
  const { resolveRun } = await import('../../../pipeline/runs/resolve-run');
  const { withStore } = await import('../store-session');
  return withStore(ctx, async (config, store) => {
    if (args[0]) {
      const found = await resolveRun(store, args[0]);
      if (ctx.global.json) {
        const { emitJson } = await import('../json/output');
        const { runJson } = await import('../json/run-json');
        emitJson(ctx, { run: runJson(found) });
      } else {
        const { renderRun } = await import('../run-view');
        ctx.io.out(renderRun(found, { wide: ctx.global.wide }));
      }
      return ExitCode.ok;
    }
    const runs = await store.listRuns({ open: true });
    const ledgers = await store.listLedgers();
    const rotations = options.rotations ? await keyRotations(ctx, config, ledgers) : undefined;
    if (ctx.global.json) {
      const { emitJson } = await import('../json/output');
      const { runSummaryJson } = await import('../json/run-json');
      emitJson(ctx, {
        openRuns: runs.map(runSummaryJson),
        keyrings: config.keyrings.map((k) => {
          const ledger = ledgers.find((l) => l.keyring === k.name);
          return {
            name: k.name,
            alias: k.alias,
            account: k.account,
            region: k.region,
            generations: (ledger?.generations ?? []).map((g) => ({ generation: g.generation, state: g.state, keyArn: g.keyArn, ...(g.deletionDate ? { deletionDate: g.deletionDate } : {}) })),
          };
        }),
        ...(rotations ? { rotations } : {}),
      });
      return ExitCode.ok;
    }
    const { runTable } = await import('../view/run-table');
    const { formatTime } = await import('../view/text');
    ctx.io.out(runs.length === 0 ? 'no open runs (`rotate runs --all` lists ended ones too)' : `open runs:\n${runTable(runs)}`);
    ctx.io.out('key rings:');
    for (const k of config.keyrings) {
      const ledger = ledgers.find((l) => l.keyring === k.name);
      const gens = ledger?.generations.map((g) => `gen${g.generation} ${g.state}${g.deletionDate ? ` (deletes ${formatTime(g.deletionDate)})` : ''}`).join(', ');
      ctx.io.out(`  ${k.name.padEnd(24)} ${k.alias.padEnd(32)} ${gens ?? 'no ledger yet'}`);
    }
    if (rotations) {
      const { renderKeyRotations } = await import('../rotation-history');
      for (const line of renderKeyRotations(rotations)) ctx.io.out(line);
    }
    const { undeclaredFrom, describeUndeclared, UNDECLARED_NEXT_STEP } = await import('../../../pipeline/runs/undeclared');
    for (const u of undeclaredFrom(config, ledgers, runs)) ctx.io.err(`warning: ${describeUndeclared(u)}; ${UNDECLARED_NEXT_STEP}`);
    if (config.keyrings.some((k) => !ledgers.some((l) => l.keyring === k.name))) {
      ctx.io.out('no ledger yet: generation 1 comes from the stacks, from `rotate start KEYRING --kind migrate-to-cmk`, or `--kind adopt` for a key the alias already uses');
    }
    ctx.io.out(runs.length > 0 ? 'next: `rotate status RUN` for one run (a unique prefix of its id is enough)' : 'next: `rotate plan KEYRING` shows what a rotation would do');
    return ExitCode.ok;
  });
};

/** Each active key's rotation history and on-demand budget, read live (`--rotations`). */
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
