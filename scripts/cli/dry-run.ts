/** How a dry run reports: the plan it would store and what preflight found, with nothing changed. */
import type { Run } from '../../pipeline/state/types';
import type { CliContext } from './context';

export function reportDryRun(ctx: CliContext, result: { run: Run; preflight: string }): void {
  const { run, preflight } = result;
  if (ctx.global.json) {
    ctx.io.out(JSON.stringify({ dryRun: true, plan: run.plan, planDigest: run.planDigest, preflight }, null, 2));
    return;
  }
  ctx.io.out(`dry run: ${run.kind} of key ring ${run.keyring} would be opened`);
  if (run.plan.oldKeyArn) ctx.io.out(`  acts on: ${run.plan.oldKeyArn}`);
  ctx.io.out(`  stages: ${run.plan.stages.join(' → ')}`);
  ctx.io.out(`  preflight: ${preflight}`);
  ctx.io.out('nothing was changed');
}
