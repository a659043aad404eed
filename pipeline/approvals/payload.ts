/**
 * The approval payload: what an approver signs. Canonical JSON (pipeline/canonical-json.ts) so the
 * signed bytes are reproducible from the values, and every field the gate checks is inside the
 * signature — nobody can move an approval to another run, key, plan, bar or chain without breaking it.
 *
 * Version 2 adds the bar (quorum, allowed_signers digest; the plan digest covers the rest of it) and
 * the audit head the approver saw, which anchors the audit chain. Version 1 approvals no longer count.
 */
import { z } from 'zod';
import { canonicalJson } from '../canonical-json';
import { ApprovalError } from '../errors';
import type { Run } from '../state/types';
import { APPROVAL_NAMESPACE } from './ssh';
import { summarizeEvidence } from './evidence';
import type { AuditHeadRef } from './chain';

export const PAYLOAD_VERSION = 2;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const isoDate = z.iso.datetime({ offset: true });
const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

const payloadSchema = z.strictObject({
  version: z.literal(PAYLOAD_VERSION),
  namespace: z.literal(APPROVAL_NAMESPACE),
  runId: z.string().min(1),
  keyring: z.string().min(1),
  oldKeyArn: z.string().min(1),
  /** Absent when the replacement is an AWS owned key (migrate-to-aws-owned). */
  newKeyArn: z.string().min(1).optional(),
  deletionWindowDays: z.number().int().min(7).max(30),
  /**
   * The earliest date the old key could be gone: issuedAt + deletion window. Deletion is scheduled
   * later than issuedAt, so the real date is this or later; the approver signs the lower bound.
   */
  earliestDeletionDate: isoDate,
  /** Covers the whole plan, the bar included (allowed_signers contents, lifetime, soak, window). */
  planDigest: sha256,
  evidenceDigest: sha256,
  /** The bar in words an approver can check at a glance (the plan digest binds it anyway). */
  quorum: z.number().int().min(1).max(10),
  allowedSignersSha256: sha256,
  /** The audit chain's head when the approver signed: anchors the chain against a wholesale rewrite. */
  auditHead: z.strictObject({ seq: z.number().int().min(0), hash: sha256 }),
  /** The approver's principal as in allowed_signers (e-mail-like): one word, as allowed_signers principals are. */
  approver: z.string().min(1).regex(/^[^\s\x00-\x1f\x7f]+$/, 'a principal without whitespace or control characters'),
  issuedAt: isoDate,
  expiresAt: isoDate,
});

export type ApprovalPayload = z.infer<typeof payloadSchema>;

export interface PayloadInput {
  readonly run: Run;
  readonly approver: string;
  readonly now: Date;
  readonly lifetimeHours: number;
  readonly auditHead: AuditHeadRef;
}

/**
 * Builds the payload for `run`. Refuses runs an approval cannot be about: no key to delete yet,
 * no evidence yet, no recorded bar, or a run that is already over.
 */
export function buildPayload({ run, approver, now, lifetimeHours, auditHead }: PayloadInput): ApprovalPayload {
  // A function declaration (not an arrow) so TypeScript narrows after each refusal.
  function refuse(why: string, nextStep: string): never {
    throw new ApprovalError(`run ${run.id} (key ring ${run.keyring}) cannot be approved: ${why}`, { fault: 'operator', nextStep });
  }
  if (run.status === 'completed' || run.status === 'rolled-back' || run.status === 'cancelled') {
    refuse(`it is ${run.status}`, `run \`rotate status ${run.id}\`; start a new run if a key still has to go`);
  }
  const oldKeyArn = run.plan.oldKeyArn;
  if (!oldKeyArn) refuse('its plan retires no customer managed key, so there is nothing to delete', 'no approval is needed for this run');
  const evidenceDigest = run.evidenceDigest;
  if (!evidenceDigest || run.evidence === undefined) {
    refuse('it has no check evidence yet', `run \`rotate advance ${run.id}\` until it waits at the approval gate`);
  }
  const bar = run.plan.approvals;
  if (!bar) refuse('its plan records no approval bar (started before keyrotor bound runs to it)', `adopt the current config with \`rotate replan ${run.id}\`, or start a new run`);
  const issuedAt = now.toISOString();
  return {
    version: PAYLOAD_VERSION,
    namespace: APPROVAL_NAMESPACE,
    runId: run.id,
    keyring: run.keyring,
    oldKeyArn,
    ...(run.plan.newKeyArn === undefined ? {} : { newKeyArn: run.plan.newKeyArn }),
    deletionWindowDays: run.plan.deletionWindowDays,
    earliestDeletionDate: new Date(now.getTime() + run.plan.deletionWindowDays * DAY_MS).toISOString(),
    planDigest: run.planDigest,
    evidenceDigest,
    quorum: bar.quorum,
    allowedSignersSha256: bar.allowedSignersSha256,
    auditHead: { seq: auditHead.seq, hash: auditHead.hash },
    approver,
    issuedAt,
    expiresAt: new Date(now.getTime() + lifetimeHours * HOUR_MS).toISOString(),
  };
}

/** The exact bytes that get signed. */
export function serializePayload(payload: ApprovalPayload): string {
  return canonicalJson(payload);
}

export type ParsedPayload = { readonly ok: true; readonly payload: ApprovalPayload } | { readonly ok: false; readonly reason: string };

/** Parses a stored payload; it must be valid, complete and in canonical form (so what was signed is what is read). */
export function parsePayload(text: string): ParsedPayload {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `payload is not JSON: ${(error as Error).message}` };
  }
  const version = (raw as { version?: unknown } | null)?.version;
  if (typeof version === 'number' && version < PAYLOAD_VERSION) {
    return { ok: false, reason: `payload is a keyrotor approval v${version}, which signs neither the run's bar nor the audit head; approvers sign again with this version` };
  }
  const parsed = payloadSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`);
    return { ok: false, reason: `payload is not a keyrotor approval v${PAYLOAD_VERSION}: ${issues.join('; ')}` };
  }
  if (canonicalJson(parsed.data) !== text) return { ok: false, reason: 'payload is not in canonical JSON form' };
  return { ok: true, payload: parsed.data };
}

/** The payload in words, as the approver must read it before signing (and as `rotate approvals` shows it). */
export function describePayload(payload: ApprovalPayload, run?: Pick<Run, 'evidence' | 'initiator' | 'plan'>): string {
  const replacement = payload.newKeyArn ? `the new key is ${payload.newKeyArn}` : 'the replacement is an AWS owned key';
  const bar = run?.plan.approvals;
  const lines = [
    `You, ${payload.approver}, approve DELETING key ${payload.oldKeyArn}`,
    `of key ring ${payload.keyring} (run ${payload.runId}${run ? `, started by ${run.initiator}` : ''}).`,
    `Deletion is scheduled with a ${payload.deletionWindowDays}-day window: the key and everything encrypted only`,
    `under it become irrecoverable no earlier than ${payload.earliestDeletionDate}.`,
    `${replacement.charAt(0).toUpperCase()}${replacement.slice(1)}.`,
    `The bar this run keeps: ${payload.quorum} distinct approver(s) other than the initiator, from ${bar ? `${bar.allowedSignersFile} as recorded at start` : 'allowed_signers'} (sha256 ${payload.allowedSignersSha256.slice(0, 16)}…)` +
      (run ? `; minimum soak ${run.plan.minimumSoakHours} h, old key ${run.plan.disableOldKeyDuringSoak ? '' : 'not '}disabled during the soak.` : '.'),
    `Plan digest ${payload.planDigest}; evidence digest ${payload.evidenceDigest}; audit chain head #${payload.auditHead.seq} (${payload.auditHead.hash.slice(0, 16)}…).`,
    `This approval is valid from ${payload.issuedAt} until ${payload.expiresAt}, and only while the plan and evidence stay unchanged.`,
  ];
  if (run?.evidence !== undefined) {
    const summary = summarizeEvidence(run.evidence);
    lines.push('Evidence you sign (its digest is in the payload):');
    if (summary.checks.length === 0) lines.push('  checks: none recorded');
    for (const check of summary.checks) lines.push(`  check ${check.name}: ${check.outcome}${check.detail ? ` — ${check.detail}` : ''}`);
    lines.push(`  the old key was last used: ${summary.oldKeyLastUse}`);
    for (const line of summary.lastUseMeaning) lines.push(`    ${line}`);
    for (const replica of summary.replicaLastUse) {
      lines.push(`  its replica in ${replica.region} (deleted too, first) was last used: ${replica.lastUse}`);
      for (const line of replica.meaning) lines.push(`    ${line}`);
    }
    for (const other of summary.other) lines.push(`  ${other}`);
  }
  return lines.join('\n');
}
