/**
 * Audit entries as lines a person reads: sequence number, time, action, stage, then what the
 * entry records (operation and target, summary, the other details as key=value), and who acted
 * whenever that changes. Digests are cut to 12 characters; the JSON output keeps them whole.
 */
import type { AuditEntry } from '../../../pipeline/state/types';
import { ArnShortener, fitText, formatTime, normalizeTimes } from './text';

function value(v: unknown): string {
  if (typeof v === 'string') return /^[0-9a-f]{64}$/.test(v) ? `${v.slice(0, 12)}…` : v;
  if (Array.isArray(v)) return v.length === 0 ? '[]' : v.map(value).join(', ');
  return JSON.stringify(v);
}

function describe(entry: AuditEntry): string {
  const detail = { ...(entry.detail ?? {}) } as Record<string, unknown>;
  const parts: string[] = [];
  const take = (key: string): unknown => {
    const v = detail[key];
    delete detail[key];
    return v;
  };
  const stage = take('stage');
  const operation = take('operation');
  const target = take('target');
  const summary = take('summary');
  if (stage !== undefined) parts.push(`${String(stage)}:`);
  if (operation !== undefined) parts.push(`${String(operation)}${target !== undefined ? ` ${String(target)}` : ''}`);
  if (summary !== undefined) parts.push(String(summary));
  const rest = Object.entries(detail).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${value(v)}`);
  if (rest.length > 0) parts.push(rest.join(' '));
  return parts.join(' ');
}

export function auditLines(entries: readonly AuditEntry[], wide: boolean): string {
  const arns = new ArnShortener(wide);
  const actionWidth = Math.max(0, ...entries.map((e) => e.action.length));
  let actor: string | undefined;
  const lines: string[] = [];
  for (const e of entries) {
    if (e.actor !== actor) {
      actor = e.actor;
      lines.push(`  by ${actor}:`);
    }
    lines.push(`  #${String(e.seq).padEnd(5)} ${formatTime(e.at)}  ${e.action.padEnd(actionWidth)}  ${describe(e)}`);
  }
  return fitText(lines.map((l) => arns.shorten(normalizeTimes(l))).join('\n'), wide);
}
