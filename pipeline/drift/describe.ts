/** The drift report in words, for a terminal and for the issue the scheduled drift workflow opens. */
import type { DriftFinding, DriftReport } from './types';

function findingLines(f: DriftFinding, counted: boolean): string[] {
  const mark = counted ? 'DRIFT' : 'note ';
  return [`  ${mark} [${f.kind}] ${f.message}`, `        expected: ${f.expected}`, `        actual:   ${f.actual}`, `        next: ${f.nextStep}`];
}

export function describeDriftReport(report: DriftReport, options: { deployGate?: boolean } = {}): string[] {
  const counted = (f: DriftFinding) => !options.deployGate || f.blocksDeploy;
  const lines: string[] = [];
  for (const k of report.keyrings) {
    const head = `${k.name} (${k.account}/${k.region}, ${k.ledgerVersion === null ? 'no ledger' : `ledger v${k.ledgerVersion}`})`;
    if (k.error) {
      lines.push(`${head}: NOT CHECKED: ${k.error.message}`);
      if (k.error.nextStep) lines.push(`  next: ${k.error.nextStep}`);
      continue;
    }
    lines.push(`${head}: ${k.findings.length === 0 ? 'no drift' : `${k.findings.length} finding(s)`}${k.checked.length > 0 ? ` (checked ${k.checked.join('; ')})` : ''}`);
    for (const f of k.findings) lines.push(...findingLines(f, counted(f)));
    for (const u of k.updates) lines.push(`  ledger: generation ${u.generation} ${u.from} → ${u.to}${u.written ? '' : ' (not written: --read-only)'} — ${u.reason}`);
    for (const n of k.notes) lines.push(`  note: ${n}`);
  }
  if (report.orphans.length > 0) {
    lines.push(`keys tagged by keyrotor that no ledger knows: ${report.orphans.length}`);
    for (const f of report.orphans) lines.push(...findingLines(f, counted(f)));
  }
  if (report.synth.length > 0) {
    lines.push('synthesized stacks:');
    for (const f of report.synth) lines.push(...findingLines(f, counted(f)));
  }
  const total = [...report.keyrings.flatMap((k) => k.findings), ...report.orphans, ...report.synth];
  const blocking = total.filter(counted).length;
  lines.push(
    report.drift
      ? `drift: ${blocking} finding(s)${options.deployGate ? ' that block a deploy' : ''}${total.length > blocking ? ` (+${total.length - blocking} a deploy converges)` : ''}`
      : report.exitCode !== 0
        ? 'drift: unknown — some key rings could not be checked (see above)'
        : `drift: none${total.length > 0 ? ` that blocks a deploy (${total.length} finding(s) a deploy converges)` : ''}`,
  );
  return lines;
}
