/**
 * How a run looks to an operator: a table of stages with times and outcomes, what changed, and the
 * one command that comes next.
 */
import type { Run, StageRecord } from '../../pipeline/state/types';

const MARK: Record<StageRecord['status'], string> = {
  pending: '·',
  running: '…',
  waiting: '⏸',
  done: '✔',
  failed: '✖',
  undone: '↶',
  skipped: '–',
};

function time(iso: string | undefined): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '';
}

export function nextStep(run: Run): string {
  if (run.status !== 'rolled-back' && run.stages.some((s) => s.status === 'undone')) {
    return `finish the rollback with \`rotate rollback ${run.id}\` (undone stages are skipped)`;
  }
  switch (run.status) {
    case 'completed':
      return run.plan.oldKeyArn && run.kind !== 'cancel-deletion'
        ? `nothing; the old key can be recovered with \`rotate cancel-deletion ${run.keyring} --key ${run.plan.oldKeyArn}\` until its deletion date`
        : 'nothing; the run is complete';
    case 'rolled-back':
      return 'nothing; the run was rolled back';
    case 'cancelled':
      return `nothing; the run was ended (${run.endReason ?? 'cancelled'}); start a new one with \`rotate start ${run.keyring}${run.kind === 'rotate' ? '' : ` --kind ${run.kind}`}\` when ready`;
    case 'failed': {
      const failed = run.stages.find((s) => s.status === 'failed');
      return failed?.error?.nextStep ?? `\`rotate advance ${run.id}\` to retry, or \`rotate rollback ${run.id}\``;
    }
    case 'waiting': {
      const waiting = run.stages.find((s) => s.status === 'waiting');
      if (waiting?.name === 'approval-gate') return `approvers run \`rotate approve ${run.id} --signing-key <key>\`, then \`rotate advance ${run.id}\``;
      if (waiting?.name === 'schedule-deletion') return `schedule the old key's deletion with \`rotate delete ${run.id}\` (or undo the run with \`rotate rollback ${run.id}\`)`;
      return `\`rotate advance ${run.id}\` ${waiting?.summary ? `(${waiting.summary})` : ''}`.trim();
    }
    default: {
      const running = run.stages.find((s) => s.status === 'running');
      if (running) return `stage ${running.name} was interrupted or is running now: \`rotate advance ${run.id}\` continues it (it refuses while another process acts on the run)`;
      return `\`rotate advance ${run.id}\``;
    }
  }
}

export function renderRun(run: Run): string {
  const lines = [
    `run ${run.id}  (${run.kind} of key ring ${run.keyring}, started by ${run.initiator} at ${time(run.createdAt)})`,
    `status: ${run.status}${run.endReason ? ` (${run.endReason})` : ''}`,
  ];
  if (run.plan.oldKeyArn) lines.push(`old key: ${run.plan.oldKeyArn}`);
  if (run.plan.newKeyArn) lines.push(`new key: ${run.plan.newKeyArn}`);
  lines.push('');
  const width = Math.max(...run.stages.map((s) => s.name.length));
  for (const s of run.stages) {
    const when = s.endedAt ? `${time(s.startedAt)} → ${time(s.endedAt)}` : time(s.startedAt);
    lines.push(`  ${MARK[s.status]} ${s.name.padEnd(width)}  ${s.status.padEnd(7)}  ${when}`);
    if (s.summary) lines.push(`      ${s.summary}`);
    for (const m of s.mutations) lines.push(`      ${m.outcome === undefined ? 'sent, outcome not yet recorded' : m.outcome === 'ok' || m.outcome === 'reconciled-done' ? 'changed' : m.outcome === 'failed' ? 'failed' : 'not done'}: ${m.operation} ${m.target} at ${time(m.at)}${m.note ? ` (${m.note})` : ''}`);
    if (s.error) lines.push(`      error: ${s.error.message}`);
  }
  lines.push('', `next: ${nextStep(run)}`);
  return lines.join('\n');
}
