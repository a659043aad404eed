/**
 * `rotate plan-guard STACK_DIR PLAN_JSON` — for the deploy workflow: refuse a Terraform plan that
 * changes what the pipeline owns (pipeline/gitops/plan-guard.ts lists the rules). STACK_DIR is the
 * synthesized stack directory (it holds keyrotor-synth.json); PLAN_JSON is the output of
 * `terraform show -json plan.out` (`-` reads standard input).
 *
 * Exit 0: nothing refused. 1: refused, each finding with the next step. 2: the input is not a plan
 * or not a stack directory. Under GitHub Actions each finding is also an error annotation.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CommandRun } from '../context';
import { ExitCode } from '../../../pipeline/errors';
import { checkPlan } from '../../../pipeline/gitops/plan-guard';
import { parsePlanJson, PlanJsonError } from '../../../pipeline/gitops/plan-json';
import { readSynthManifest, SYNTH_MANIFEST_FILE } from '../../../pipeline/gitops/synth-manifest';

/** The `--json` output of `rotate plan-guard` (version 1). */
export interface PlanGuardReport {
  readonly version: 1;
  readonly stack: string;
  readonly ok: boolean;
  readonly findings: ReturnType<typeof checkPlan>['findings'];
  readonly touched: readonly string[];
}

export const run: CommandRun = async (ctx, _options, args) => {
  const [stackDir, planFile] = args;
  const manifest = readSynthManifest(path.join(path.resolve(ctx.cwd, stackDir!), SYNTH_MANIFEST_FILE));
  const source = planFile === undefined || planFile === '-' ? 'standard input' : path.resolve(ctx.cwd, planFile);
  let text: string;
  try {
    text = fs.readFileSync(source === 'standard input' ? 0 : source, 'utf8');
  } catch (error) {
    throw new PlanJsonError(source, `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  const result = checkPlan(parsePlanJson(text, source), manifest);

  if (ctx.global.json) {
    const report: PlanGuardReport = { version: 1, stack: manifest.stack, ...result };
    const { emitJson } = await import('../json/output');
    emitJson(ctx, report);
  } else {
    for (const line of result.touched) ctx.io.out(`  ${line}`);
    if (result.ok) {
      ctx.io.out(`plan guard: ${manifest.stack}: nothing the pipeline owns changes (${result.touched.length} KMS/Identity Center change(s) allowed)`);
    } else {
      ctx.io.err(`plan guard: ${manifest.stack}: ${result.findings.length} change(s) refused:`);
      for (const f of result.findings) ctx.io.err(`  - ${f.address} [${f.rule}]: ${f.message}\n    next: ${f.nextStep}`);
    }
  }
  if (ctx.env.GITHUB_ACTIONS === 'true') {
    for (const f of result.findings) ctx.io.out(`::error title=KMS plan guard (${f.rule})::${annotation(`${f.address}: ${f.message}. Next: ${f.nextStep}`)}`);
  }
  return result.ok ? ExitCode.ok : ExitCode.notSatisfied;
};

/** Workflow-command data escaping (%, CR, LF), as GitHub's toolkit does. */
function annotation(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
