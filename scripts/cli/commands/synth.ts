import * as path from 'node:path';
import type { CommandRun } from '../context';
import { loadConfig } from '../../../pipeline/config/load';
import { ExitCode } from '../../../pipeline/errors';

/**
 * `rotate synth [--out DIR]`: the same synthesis as main.ts, through the shared builder. cdktf is
 * imported here, inside the command, so `rotate --help` and every other command never load it.
 */
export const run: CommandRun<{ out?: string }> = async (ctx, options) => {
  const config = loadConfig(ctx.global.config);
  const { synthesizeStacks } = await import('../../../stacks/synthesize');
  const outdir = path.resolve(ctx.cwd, options.out ?? ctx.env.CDKTF_OUTDIR ?? 'cdktf.out');
  const result = await synthesizeStacks(config, {
    outdir,
    ...(ctx.global.stateDir === undefined ? {} : { stateDirOverride: path.resolve(ctx.cwd, ctx.global.stateDir) }),
  });
  const next = `review the plan of each stack with \`terraform -chdir=${path.relative(ctx.cwd, path.join(result.outdir, 'stacks', result.stacks[0] ?? '<stack>')) || '.'} init\` and \`terraform … plan\`; on merge the deploy workflow plans and applies`;
  if (ctx.global.json) {
    const { emitJson } = await import('../json/output');
    emitJson(ctx, { outdir: result.outdir, stacks: [...result.stacks], awaitingPipeline: [...result.awaitingPipeline], next });
  } else {
    ctx.io.out(`synthesized ${result.stacks.length} stack(s) into ${result.outdir}:`);
    for (const stack of result.stacks) ctx.io.out(`  ${stack}  (${path.join(result.outdir, 'stacks', stack, 'cdk.tf.json')})`);
    for (const name of result.awaitingPipeline) {
      ctx.io.err(`note: key ring ${name} is attached to Identity Center and has no generation yet, so the stacks declare nothing for it; its first key comes from the pipeline: \`rotate start ${name} --kind migrate-to-cmk\` (or \`--kind adopt\` for a key and alias that already exist)`);
    }
    ctx.io.out(`next: ${next}`);
  }
  return ExitCode.ok;
};
