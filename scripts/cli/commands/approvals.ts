/**
 * `rotate approvals RUN [--approvals-dir DIR]` — every approval of the run (recorded with it, and the
 * files in the approvals directory), whether it counts and why not, which were merged as one person
 * and why; `--json` for machines. Counts exactly what `rotate gate` and the engine count.
 */
import type { CommandRun } from '../context';
import { ExitCode } from '../../../pipeline/errors';
import { describeGateResult, type GateResult } from '../../../pipeline/approvals/gate';
import { formatTime, normalizeTimes } from '../view/text';
import { approvalSessionFor, gateNextStep } from './approval-support';
import { emitJson } from '../json/output';

function table(result: GateResult): string {
  const rows = result.approvals.map((a) => [
    String(a.number),
    a.signer,
    a.fingerprint ?? '-',
    a.issuedAt ? formatTime(a.issuedAt) : '-',
    a.expiresAt ? formatTime(a.expiresAt) : '-',
    a.counts ? 'yes' : a.rejection === 'same-person' ? `merged into #${a.mergedInto}` : 'no',
    a.counts ? '' : `${a.rejection}: ${a.reason}`,
  ]);
  const header = ['#', 'signer', 'key', 'issued', 'expires', 'counts', 'why not'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]): string => cells.map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export const run: CommandRun<{ approvalsDir?: string }> = async (ctx, options, args) => {
  const session = await approvalSessionFor(ctx, args[0] ?? '', options);
  try {
    const { result, collected } = await session.evaluate(ctx.clock.now(), { env: ctx.env });
    const next = gateNextStep(session.run, result);
    if (ctx.global.json) {
      emitJson(ctx, { gate: result, approvalsDirs: collected.dirs, next });
      return ExitCode.ok;
    }
    ctx.io.out(`approvals of run ${result.runId}: recorded with the run, and files in ${collected.dirs.join(', ') || session.approvalsDir}`);
    ctx.io.out(`initiator: ${result.initiator.label}${result.initiator.tied ? '' : ' (NOT tied to a person)'} — ${result.initiator.basis.join('; ')}`);
    ctx.io.out(result.approvals.length > 0 ? table(result) : `run ${result.runId} has no approvals yet`);
    for (const a of result.approvals) if (a.source !== 'run') ctx.io.out(`  #${a.number}: ${a.source}`);
    if (result.merges.length > 0) {
      ctx.io.out('merged (one person, one vote):');
      for (const m of result.merges) ctx.io.out(`  #${m.merged} counted with #${m.kept}: ${m.why}`);
    }
    ctx.io.out('');
    ctx.io.out(normalizeTimes(describeGateResult(result)).split('\n').filter((l) => !l.startsWith('  not counted:') && !l.startsWith('  merged:')).join('\n'));
    ctx.io.out(`next: ${next}`);
    return ExitCode.ok;
  } finally {
    await session.close();
  }
};
