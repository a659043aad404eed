/**
 * Plans as text, terraform-style: per stage the calls with their sign (`+` create, `~` change,
 * `-` disable/delete, `<=` read) and values, then a one-line count. ARNs whole on first mention,
 * 100 columns unless --wide.
 */
import type { PlannedCall, PlannedStage } from './changes';
import type { RollbackStep } from './rollback-calls';
import { ArnShortener, fitText, normalizeTimes } from '../view/text';

function callLines(c: PlannedCall): string[] {
  return [`       ${c.sign.padEnd(2)} ${c.operation}  ${c.target}`, ...c.values.map(([k, v]) => `            ${k}: ${v}`)];
}

export function countChanges(calls: readonly PlannedCall[]): string {
  const n = (sign: PlannedCall['sign']): number => calls.filter((c) => c.sign === sign).length;
  return `${n('+')} to create, ${n('~')} to change, ${n('-')} to disable or delete (${n('<=')} reads)`;
}

export function renderPlannedStages(header: readonly string[], stages: readonly PlannedStage[], footer: readonly string[], wide: boolean): string {
  const lines = [...header, ''];
  stages.forEach((s, i) => {
    lines.push(`  ${i + 1}. ${s.name} — ${s.description}${s.undoable ? '' : ' (nothing to undo)'}`);
    for (const c of s.calls) lines.push(...callLines(c));
    for (const note of s.notes) lines.push(`       ${note}`);
    if (s.confirmation) lines.push(`       ${s.confirmation}`);
  });
  lines.push('', `Plan: ${countChanges(stages.flatMap((s) => s.calls))}.`, ...footer);
  const arns = new ArnShortener(wide);
  return fitText(lines.map((l) => arns.shorten(normalizeTimes(l))).join('\n'), wide);
}

export function renderRollbackSteps(header: string, steps: readonly RollbackStep[], footer: readonly string[], wide: boolean): string {
  const lines = [header, ''];
  steps.forEach((s, i) => {
    lines.push(`  ${i + 1}. undo ${s.stage}${s.undoes ? '' : ' (nothing to undo)'}`);
    for (const c of s.calls) lines.push(...callLines(c));
    for (const note of s.notes) lines.push(`       ${note}`);
  });
  lines.push('', `Rollback: ${countChanges(steps.flatMap((s) => s.calls))}.`, ...footer);
  const arns = new ArnShortener(wide);
  return fitText(lines.map((l) => arns.shorten(normalizeTimes(l))).join('\n'), wide);
}
