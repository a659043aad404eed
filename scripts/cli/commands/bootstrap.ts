/**
 * `rotate bootstrap [-o DIR]`: team mode from nothing. Writes the pipeline stack alone (state table,
 * CI identity, the pipeline role in every account) into DIR for an administrator to apply once,
 * creates the empty ledger export, and prints the boot order. No AWS call, no ledger read.
 *
 * `rotate bootstrap --check`: from the identity it runs as (CI's), assumes every account's role and
 * reads the state table; exit 0 when everything answers, 1 (the answer is no) otherwise, each
 * failure with its next step.
 */
import * as path from 'node:path';
import type { CommandRun } from '../context';
import { ExitCode } from '../../../pipeline/errors';
import { emitJson } from '../json/output';

export const run: CommandRun<{ out?: string; check?: boolean }> = async (ctx, options) => {
  const { loadConfig } = await import('../../../pipeline/config/load');
  const config = loadConfig(ctx.global.config);
  if (options.check) return check(ctx, config);

  const { buildBootstrapApp, pipelineStackOf } = await import('../../../stacks/app');
  const { bootOrder } = await import('../../../pipeline/team/bootstrap');
  const { createLedgerExport, ledgerExportDir } = await import('../../../pipeline/team/ledger-export');
  const app = buildBootstrapApp(config, { outdir: path.resolve(ctx.cwd, options.out ?? 'cdktf.out') });
  app.synth();
  const stack = pipelineStackOf(app)!;
  const stackDir = path.join(app.outdir, 'stacks', stack.node.id);
  const exportDir = ledgerExportDir(config);
  if (exportDir !== undefined) await createLedgerExport(exportDir);
  const steps = bootOrder(config, path.relative(ctx.cwd, stackDir) || '.');
  if (ctx.global.json) {
    emitJson(ctx, { stack: stack.node.id, stackDir, ledgerExport: exportDir ?? null, steps });
  } else {
    ctx.io.out(`wrote the pipeline stack ${stack.node.id} to ${path.join(stackDir, 'cdk.tf.json')}${exportDir ? `; the ledger export is ${exportDir}` : ''}`);
    ctx.io.out('boot order:');
    for (const step of steps) ctx.io.out(`  ${step}`);
  }
  return ExitCode.ok;
};

async function check(ctx: Parameters<CommandRun>[0], config: import('../../../pipeline/config/types').Config): Promise<number> {
  const { credentialChainFor } = await import('../../../pipeline/aws/role-credentials');
  const { checkBootstrap } = await import('../../../pipeline/team/bootstrap');
  const credentials = credentialChainFor(config, { env: ctx.env, ...(ctx.global.endpoint ? { endpoint: ctx.global.endpoint } : {}) });
  const checks = await checkBootstrap({ config, credentials, env: ctx.env, ...(ctx.global.endpoint ? { endpoint: ctx.global.endpoint } : {}) });
  const ok = checks.every((c) => c.ok);
  if (ctx.global.json) {
    emitJson(ctx, { ok, checks });
  } else {
    for (const c of checks) {
      ctx.io.out(`${c.ok ? '✔' : '✖'} ${c.what}: ${c.detail}`);
      if (c.nextStep) ctx.io.out(`    next: ${c.nextStep}`);
    }
    ctx.io.out(ok ? 'team mode is ready: the workflows can act in every account' : 'team mode is not ready (see above)');
  }
  return ok ? ExitCode.ok : ExitCode.notSatisfied;
}
