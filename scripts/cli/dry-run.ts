/** How a dry run reports: the plan it would store and what preflight found, with nothing changed. */
import type { Run } from '../../pipeline/state/types';
import type { CliContext } from './context';
import { emitJson } from './json/output';
import { ArnShortener, fitText } from './view/text';
import { startCommand } from './view/next-step';

export function reportDryRun(ctx: CliContext, result: { run: Run; preflight: string }): void {
  const { run, preflight } = result;
  const start =
    run.kind === 'cancel-deletion'
      ? `\`rotate cancel-deletion ${run.keyring} --key ${run.plan.oldKeyArn}${run.plan.enableAfterCancel ? ' --enable' : ''}\``
      : startCommand(run.keyring, run.kind, run.kind === 'retire-key' ? run.plan.oldKeyArn : undefined);
  if (ctx.global.json) {
    emitJson(ctx, { dryRun: true, kind: run.kind, keyring: run.keyring, planDigest: run.planDigest, stages: [...run.plan.stages], ...(run.plan.oldKeyArn ? { actsOn: run.plan.oldKeyArn } : {}), preflight, next: start });
    return;
  }
  const arns = new ArnShortener(ctx.global.wide);
  const lines = [`dry run: ${run.kind} of key ring ${run.keyring} would be opened`];
  if (run.plan.oldKeyArn) lines.push(`  acts on: ${run.plan.oldKeyArn}`);
  lines.push(`  stages: ${run.plan.stages.join(' → ')}`, `  preflight: ${preflight}`, 'nothing was changed', `next: ${start} (\`rotate plan ${run.keyring}\` shows each stage's calls)`);
  ctx.io.out(fitText(lines.map((l) => arns.shorten(l)).join('\n'), ctx.global.wide));
}
