/** Runs as a table that fits 100 columns: id, kind, status, and where each stands (its current stage). */
import type { Run } from '../../../pipeline/state/types';
import { MARK } from './marks';

export function runTable(runs: readonly Run[]): string {
  const rows = runs.map((r) => {
    const current = r.stages.find((s) => s.status !== 'done' && s.status !== 'skipped');
    const where = current ? `${MARK[current.status]} ${current.name}` : '—';
    return [r.id, r.kind, r.status, where];
  });
  const header = ['RUN', 'KIND', 'STATUS', 'STAGE'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: readonly string[]): string => cells.map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].map((l) => `  ${l}`).join('\n');
}
