/** `rotate approvals RUN` — every approval of the run, whether it counts and why not; `--json` for machines. */
import type { CommandRun } from '../context';
import { ExitCode } from '../../../pipeline/errors';
import { describeGateResult, evaluateApprovals, type GateResult } from '../../../pipeline/approvals/gate';
import { openApprovalSession } from '../../../pipeline/approvals/session';

function table(result: GateResult): string {
  const rows = result.approvals.map((a, i) => [
    String(i + 1),
    a.signer,
    a.issuedAt ?? '-',
    a.expiresAt ?? '-',
    a.counts ? 'yes' : 'no',
    a.counts ? '' : `${a.rejection}: ${a.reason}`,
  ]);
  const header = ['#', 'signer', 'issued', 'expires', 'counts', 'why not'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]): string => cells.map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export const run: CommandRun = async (ctx, _options, args) => {
  const session = await openApprovalSession({ configFile: ctx.global.config, runId: args[0]!, stateDir: ctx.global.stateDir, env: ctx.env });
  try {
    const result = await evaluateApprovals(session.run, session.policy, { now: new Date() });
    if (ctx.global.json) {
      ctx.io.out(JSON.stringify(result, null, 2));
      return ExitCode.ok;
    }
    ctx.io.out(result.approvals.length > 0 ? table(result) : `run ${result.runId} has no approvals yet`);
    ctx.io.out('');
    ctx.io.out(describeGateResult(result).split('\n').filter((l) => !l.startsWith('  not counted:')).join('\n'));
    return ExitCode.ok;
  } finally {
    await session.close();
  }
};
