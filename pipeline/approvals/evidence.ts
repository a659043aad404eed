/**
 * Reads the parts of a run's `evidence` an approver must see before signing: each check's outcome
 * and the old key's last recorded use. The engine owns the evidence object; this reader accepts the
 * shape below and degrades to "not recorded" (never to "fine") for anything it cannot read, so a
 * missing fact is visible rather than silently omitted.
 */

/** The evidence shape this module reads (the engine's `integration-checks` stage writes it). */
export interface ApprovalEvidence {
  readonly checks?: ReadonlyArray<{
    readonly name: string;
    readonly ok?: boolean;
    readonly status?: string;
    readonly detail?: string;
    readonly summary?: string;
  }>;
  /**
   * KMS GetKeyLastUsage output for the old key (KeyLastUsage is `{}` when the key has not been used
   * since TrackingStartDate), or `{ unavailable: why }` when it could not be read.
   */
  readonly oldKeyLastUsage?: {
    readonly KeyLastUsage?: { readonly Operation?: string; readonly Timestamp?: string; readonly CloudTrailEventId?: string };
    readonly TrackingStartDate?: string;
    readonly unavailable?: string;
  };
}

export interface EvidenceSummary {
  readonly checks: ReadonlyArray<{ readonly name: string; readonly outcome: 'passed' | 'FAILED' | string; readonly detail?: string }>;
  readonly oldKeyLastUse: string;
  /** Other top-level scalar facts, `name: value`. */
  readonly other: readonly string[];
}

const KNOWN = new Set(['checks', 'oldKeyLastUsage']);
const MAX_DETAIL = 200;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function shorten(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > MAX_DETAIL ? `${oneLine.slice(0, MAX_DETAIL - 1)}…` : oneLine;
}

function outcomeOf(check: Record<string, unknown>): string {
  if (typeof check.ok === 'boolean') return check.ok ? 'passed' : 'FAILED';
  if (typeof check.passed === 'boolean') return check.passed ? 'passed' : 'FAILED';
  if (typeof check.status === 'string') return check.status;
  return 'outcome not recorded';
}

function readChecks(raw: unknown): EvidenceSummary['checks'] {
  // Accept a list of checks or a map name → check.
  const entries: Array<[string | undefined, unknown]> = Array.isArray(raw)
    ? raw.map((c) => [undefined, c])
    : isRecord(raw)
      ? Object.entries(raw)
      : [];
  return entries.map(([key, value], index) => {
    const check = isRecord(value) ? value : { status: String(value) };
    const name = typeof check.name === 'string' ? check.name : (key ?? `check ${index + 1}`);
    const detailRaw = [check.detail, check.summary, check.message].find((d) => typeof d === 'string') as string | undefined;
    return { name, outcome: outcomeOf(check), detail: detailRaw ? shorten(detailRaw) : undefined };
  });
}

const NOT_RECORDED = 'not recorded — ask the operator before signing';

function readLastUse(raw: unknown): string {
  if (!isRecord(raw)) return NOT_RECORDED;
  if (typeof raw.unavailable === 'string') return `unknown: GetKeyLastUsage failed (${shorten(raw.unavailable)}) — ask the operator before signing`;
  if (!isRecord(raw.KeyLastUsage)) return NOT_RECORDED;
  const usage = raw.KeyLastUsage;
  const since = typeof raw.TrackingStartDate === 'string' ? ` since tracking began ${raw.TrackingStartDate}` : '';
  if (typeof usage.Timestamp !== 'string') return `never${since}`;
  const how = typeof usage.Operation === 'string' ? ` for ${usage.Operation}` : '';
  const event = typeof usage.CloudTrailEventId === 'string' ? ` (CloudTrail event ${usage.CloudTrailEventId})` : '';
  return `${usage.Timestamp}${how}${event}`;
}

export function summarizeEvidence(evidence: unknown): EvidenceSummary {
  if (!isRecord(evidence)) return { checks: [], oldKeyLastUse: NOT_RECORDED, other: [] };
  const other = Object.entries(evidence)
    .filter(([k, v]) => !KNOWN.has(k) && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'))
    .map(([k, v]) => `${k}: ${shorten(String(v))}`);
  return { checks: readChecks(evidence.checks), oldKeyLastUse: readLastUse(evidence.oldKeyLastUsage), other };
}
