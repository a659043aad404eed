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
  readonly oldKeyLastUsage?: LastUseReading;
  /** What that reading proves and what it does not (AWS's GetKeyLastUsage caveats), in words. */
  readonly oldKeyLastUseMeaning?: LastUseMeaning;
}

/** GetKeyLastUsage output as stored in evidence (dates as ISO strings), or why it could not be read. */
export interface LastUseReading {
  readonly KeyId?: string;
  readonly KeyLastUsage?: {
    readonly Operation?: string;
    readonly Timestamp?: string;
    readonly CloudTrailEventId?: string;
    readonly KmsRequestId?: string;
  };
  readonly TrackingStartDate?: string;
  readonly KeyCreationDate?: string;
  readonly unavailable?: string;
}

export interface LastUseMeaning {
  readonly proves: string;
  readonly doesNotProve: readonly string[];
}

export interface EvidenceSummary {
  readonly checks: ReadonlyArray<{ readonly name: string; readonly outcome: 'passed' | 'FAILED' | string; readonly detail?: string }>;
  readonly oldKeyLastUse: string;
  /** "proves: …", "does not prove: …" lines, when the evidence says. */
  readonly lastUseMeaning: readonly string[];
  /** Other top-level scalar facts, `name: value`. */
  readonly other: readonly string[];
  /** A multi-Region key's replicas, each Region's own last use (KMS tracks them separately). */
  readonly replicaLastUse: ReadonlyArray<{ readonly region: string; readonly lastUse: string; readonly meaning: readonly string[] }>;
}

const KNOWN = new Set(['checks', 'oldKeyLastUsage', 'oldKeyLastUseMeaning', 'oldKeyLastUsageByRegion', 'oldKeyLastUseMeaningByRegion']);
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

function readMeaning(raw: unknown): string[] {
  if (!isRecord(raw)) return [];
  const lines: string[] = [];
  if (typeof raw.proves === 'string') lines.push(`this proves: ${raw.proves}`);
  if (Array.isArray(raw.doesNotProve)) for (const item of raw.doesNotProve) if (typeof item === 'string') lines.push(`it does not prove: ${item}`);
  return lines;
}

export function summarizeEvidence(evidence: unknown): EvidenceSummary {
  if (!isRecord(evidence)) return { checks: [], oldKeyLastUse: NOT_RECORDED, lastUseMeaning: [], other: [], replicaLastUse: [] };
  const other = Object.entries(evidence)
    .filter(([k, v]) => !KNOWN.has(k) && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'))
    .map(([k, v]) => `${k}: ${shorten(String(v))}`);
  return {
    checks: readChecks(evidence.checks),
    oldKeyLastUse: readLastUse(evidence.oldKeyLastUsage),
    lastUseMeaning: readMeaning(evidence.oldKeyLastUseMeaning),
    other,
    replicaLastUse: readReplicaLastUse(evidence.oldKeyLastUsageByRegion, evidence.oldKeyLastUseMeaningByRegion),
  };
}

function readReplicaLastUse(readings: unknown, meanings: unknown): EvidenceSummary['replicaLastUse'] {
  if (!isRecord(readings)) return [];
  const byRegion = isRecord(meanings) ? meanings : {};
  return Object.keys(readings)
    .sort()
    .map((region) => ({ region, lastUse: readLastUse(readings[region]), meaning: readMeaning(byRegion[region]) }));
}

// ---- what GetKeyLastUsage proves, and whether the key was used after the signed reading ----

/** A multi-Region key's id starts with `mrk-`; each Region's replica tracks its own last use. */
function isMultiRegion(keyArn: string): boolean {
  return /:key\/mrk-/.test(keyArn);
}

/**
 * What one GetKeyLastUsage reading proves (KMS API reference: TrackingStartDate, KeyCreationDate,
 * per-Region tracking of multi-Region keys, "not the sole indicator when scheduling deletion").
 */
export function lastUseMeaning(keyArn: string, reading: LastUseReading, readAt: string): LastUseMeaning {
  const region = keyArn.split(':')[3] ?? 'this Region';
  let proves: string;
  const usage = reading.KeyLastUsage;
  if (reading.unavailable !== undefined) {
    proves = `nothing: GetKeyLastUsage could not be read (${shorten(reading.unavailable)})`;
  } else if (usage?.Timestamp) {
    const event = usage.CloudTrailEventId ? ` (CloudTrail event ${usage.CloudTrailEventId})` : '';
    proves = `the last successful cryptographic operation KMS recorded on this key in ${region} was ${usage.Operation ?? 'an operation'} at ${usage.Timestamp}${event}, and none later up to ${readAt}`;
  } else if (reading.TrackingStartDate && reading.KeyCreationDate && Date.parse(reading.KeyCreationDate) < Date.parse(reading.TrackingStartDate)) {
    proves = `no successful cryptographic operation on this key in ${region} recorded from ${reading.TrackingStartDate} (when KMS began tracking) to ${readAt}; use before that date is not covered — check CloudTrail`;
  } else {
    proves = `no successful cryptographic operation on this key in ${region} since it was created${reading.KeyCreationDate ? ` (${reading.KeyCreationDate})` : ''}, up to ${readAt}`;
  }
  const doesNotProve = [
    'refused calls: a consumer calling the key while it is disabled fails and is not a use (look for DisabledException / KMSInvalidStateException on the key in CloudTrail)',
    'rare consumers that have not run since (monthly jobs, restores of old backups, disaster-recovery paths)',
    'use after this reading: keyrotor reads the last use again right before ScheduleKeyDeletion and refuses if it moved',
  ];
  if (isMultiRegion(keyArn)) doesNotProve.unshift(`use of this multi-Region key's replicas in other Regions: each Region tracks its own last use (this reading covers ${region} only)`);
  return { proves, doesNotProve };
}

export type FreshUseProblem =
  | { readonly kind: 'unreadable'; readonly reason: string }
  | { readonly kind: 'no-baseline'; readonly reason: string }
  | { readonly kind: 'used'; readonly reason: string };

function time(value: string | undefined): number | undefined {
  const t = value === undefined ? NaN : Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

/**
 * Compares a reading taken right before deletion with the one in the evidence the approvers signed.
 * Undefined when nothing new was recorded; otherwise why the deletion must not go ahead.
 */
export function freshUseProblem(signed: LastUseReading | undefined, fresh: LastUseReading): FreshUseProblem | undefined {
  if (fresh.unavailable !== undefined) {
    return { kind: 'unreadable', reason: `the old key's last use cannot be read right now (GetKeyLastUsage: ${shorten(fresh.unavailable)}); keyrotor never deletes a key without a fresh reading` };
  }
  if (!signed || signed.unavailable !== undefined) {
    return { kind: 'no-baseline', reason: `the evidence the approvers signed holds no readable last use of the old key${signed?.unavailable ? ` (${shorten(signed.unavailable)})` : ''}, so nothing shows the key unused since` };
  }
  const before = time(signed.KeyLastUsage?.Timestamp);
  const after = time(fresh.KeyLastUsage?.Timestamp);
  const trackingBefore = time(signed.TrackingStartDate);
  const trackingAfter = time(fresh.TrackingStartDate);
  if (trackingBefore !== undefined && trackingAfter !== undefined && trackingAfter > trackingBefore) {
    return { kind: 'no-baseline', reason: `KMS restarted tracking the key's use on ${fresh.TrackingStartDate} (the signed evidence tracked from ${signed.TrackingStartDate}), so the two readings cannot be compared` };
  }
  if (after === undefined) {
    if (before === undefined) return undefined;
    return { kind: 'no-baseline', reason: `the signed evidence recorded a use at ${signed.KeyLastUsage?.Timestamp} but KMS now reports none: the readings disagree` };
  }
  if (before === undefined || after > before) {
    const u = fresh.KeyLastUsage!;
    const event = u.CloudTrailEventId ? `, CloudTrail event ${u.CloudTrailEventId}` : u.KmsRequestId ? `, KMS request ${u.KmsRequestId}` : '';
    return {
      kind: 'used',
      reason: `the old key was used after the evidence the approvers signed: ${u.Operation ?? 'an operation'} at ${u.Timestamp}${event} (the signed evidence said ${before === undefined ? 'never used' : `last used ${signed.KeyLastUsage?.Timestamp}`})`,
    };
  }
  return undefined;
}
