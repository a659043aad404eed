/**
 * How a run looks to an operator (`rotate status RUN`, and after every run command): a header, a
 * table of stages with their marks, times and outcomes, what each changed, and the one command
 * that comes next. Fits 100 columns unless `wide`: ARNs are whole on first mention and short
 * after, long lines wrap under their indentation, and every time has the one format.
 */
import type { MutationRecord, Run } from '../../pipeline/state/types';
import { MARK, statusWords } from './view/marks';
import { nextStep } from './view/next-step';
import { ArnShortener, fitText, formatTime, normalizeTimes } from './view/text';

export { nextStep } from './view/next-step';

export interface RenderOptions {
  /** Keep ARNs whole and lines unwrapped. */
  readonly wide?: boolean;
  /**
   * Leave out stage errors and the `next:` line: the command is about to report the error that
   * stopped it, once, with its own next step.
   */
  readonly forError?: boolean;
}

function mutationWords(m: MutationRecord): string {
  if (m.outcome === undefined) return 'sent, outcome not yet recorded';
  if (m.outcome === 'ok' || m.outcome === 'reconciled-done') return 'changed';
  return m.outcome === 'failed' ? 'failed' : 'not done';
}

export function renderRun(run: Run, options: RenderOptions = {}): string {
  const wide = Boolean(options.wide);
  const arns = new ArnShortener(wide);
  const lines = [
    `run ${run.id}: ${run.kind} of key ring ${run.keyring}`,
    `started ${formatTime(run.createdAt)} by ${run.initiator}`,
    `status: ${run.status}${run.endReason ? ` (${run.endReason})` : ''}`,
  ];
  if (run.plan.oldKeyArn) lines.push(`old key: ${run.plan.oldKeyArn}`);
  if (run.plan.newKeyArn) lines.push(`new key: ${run.plan.newKeyArn}`);
  lines.push('');
  const nameWidth = Math.max(...run.stages.map((s) => s.name.length));
  const statusWidth = Math.max(...run.stages.map((s) => statusWords(s.status, s.waitingFor).length));
  for (const s of run.stages) {
    const when = s.endedAt ? `${formatTime(s.startedAt)} → ${formatTime(s.endedAt)}` : formatTime(s.startedAt);
    lines.push(`  ${MARK[s.status]} ${s.name.padEnd(nameWidth)}  ${statusWords(s.status, s.waitingFor).padEnd(statusWidth)}  ${when}`.trimEnd());
    if (s.summary) lines.push(`      ${s.summary}`);
    for (const m of s.mutations) {
      // A failed call's AWS error is the error the command reports next: said once, there.
      const note = m.note && !(options.forError && m.outcome === 'failed') ? ` (${m.note})` : '';
      lines.push(`      ${mutationWords(m)}: ${m.operation} ${m.target} at ${formatTime(m.at)}${note}`);
    }
    if (s.error && !options.forError) lines.push(`      error: ${s.error.message}`);
  }
  if (!options.forError) lines.push('', `next: ${nextStep(run)}`);
  return fitText(lines.map((line) => arns.shorten(normalizeTimes(line))).join('\n'), wide);
}
