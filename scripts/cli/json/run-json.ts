/**
 * A run as `--json` shows it: the record's meaning without its storage internals. Approval
 * payloads are JSON objects (not JSON text inside a string), signatures and the allowed_signers
 * text stay in the state store (the digests and principals identify them), the start signature
 * is reduced to who signed, and `next` is the same next step the text view prints.
 */
import type { Run } from '../../../pipeline/state/types';
import { nextStep } from '../view/next-step';
import { signerPrincipals } from '../view/signers';

function parsedPayload(text: string): { payload: Record<string, unknown> | null; payloadUnreadable?: string } {
  try {
    const value: unknown = JSON.parse(text);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return { payload: value as Record<string, unknown> };
    return { payload: null, payloadUnreadable: 'the payload is not a JSON object' };
  } catch (error) {
    return { payload: null, payloadUnreadable: `the payload is not JSON: ${(error as Error).message}` };
  }
}

export function runJson(run: Run): Record<string, unknown> {
  const { plan } = run;
  const bar = plan.approvals;
  const identity = run.initiatorIdentity;
  return {
    id: run.id,
    kind: run.kind,
    keyring: run.keyring,
    status: run.status,
    ...(run.endReason !== undefined ? { endReason: run.endReason } : {}),
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    initiator: {
      label: run.initiator,
      ...(identity
        ? {
            tied: identity.tied,
            basis: identity.basis,
            ...(identity.awsCaller !== undefined ? { awsCaller: identity.awsCaller } : {}),
            people: identity.people,
            principals: identity.principals,
            fingerprints: identity.fingerprints,
            ...(identity.signedStart ? { signedStart: { fingerprint: identity.signedStart.fingerprint, ...(identity.signedStart.principal !== undefined ? { principal: identity.signedStart.principal } : {}) } } : {}),
          }
        : {}),
    },
    plan: {
      account: plan.account,
      region: plan.region,
      alias: plan.alias,
      ...(plan.oldKeyArn !== undefined ? { oldKeyArn: plan.oldKeyArn } : {}),
      ...(plan.newKeyArn !== undefined ? { newKeyArn: plan.newKeyArn } : {}),
      ...(plan.identityCenterInstanceArn !== undefined ? { identityCenterInstanceArn: plan.identityCenterInstanceArn } : {}),
      deletionWindowDays: plan.deletionWindowDays,
      minimumSoakHours: plan.minimumSoakHours,
      ...(plan.disableOldKeyDuringSoak !== undefined ? { disableOldKeyDuringSoak: plan.disableOldKeyDuringSoak } : {}),
      ...(plan.enableAfterCancel !== undefined ? { enableAfterCancel: plan.enableAfterCancel } : {}),
      ...(bar
        ? {
            approvals: {
              quorum: bar.quorum,
              lifetimeHours: bar.lifetimeHours,
              allowedSignersFile: bar.allowedSignersFile,
              allowedSignersSha256: bar.allowedSignersSha256,
              signers: signerPrincipals(bar.allowedSigners),
              people: bar.people.map((p) => ({ name: p.name, signers: [...p.signers] })),
            },
          }
        : {}),
      stages: [...plan.stages],
    },
    planDigest: run.planDigest,
    ...(run.evidenceDigest !== undefined ? { evidenceDigest: run.evidenceDigest } : {}),
    ...(run.evidence !== undefined ? { evidence: run.evidence } : {}),
    stages: run.stages.map((s) => ({
      name: s.name,
      status: s.status,
      ...(s.waitingFor !== undefined ? { waitingFor: s.waitingFor } : {}),
      attempts: s.attempts,
      ...(s.startedAt !== undefined ? { startedAt: s.startedAt } : {}),
      ...(s.endedAt !== undefined ? { endedAt: s.endedAt } : {}),
      ...(s.summary !== undefined ? { summary: s.summary } : {}),
      mutations: s.mutations.map((m) => ({
        operation: m.operation,
        target: m.target,
        at: m.at,
        outcome: m.outcome ?? null,
        ...(m.outcomeAt !== undefined ? { outcomeAt: m.outcomeAt } : {}),
        ...(m.detail !== undefined ? { detail: m.detail } : {}),
        ...(m.note !== undefined ? { note: m.note } : {}),
      })),
      ...(s.error !== undefined ? { error: { message: s.error.message, ...(s.error.nextStep !== undefined ? { nextStep: s.error.nextStep } : {}) } } : {}),
      ...(s.outputs !== undefined ? { outputs: s.outputs } : {}),
    })),
    approvals: run.approvals.map((a) => ({ signer: a.signer, recordedAt: a.recordedAt, ...parsedPayload(a.payload) })),
    next: nextStep(run),
  };
}

/** One line of `rotate runs` / `rotate status` for machines. */
export function runSummaryJson(run: Run): Record<string, unknown> {
  const current = run.stages.find((s) => s.status !== 'done' && s.status !== 'skipped');
  return {
    id: run.id,
    kind: run.kind,
    keyring: run.keyring,
    status: run.status,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    initiator: run.initiator,
    stage: current ? { name: current.name, status: current.status, ...(current.waitingFor !== undefined ? { waitingFor: current.waitingFor } : {}) } : null,
    next: nextStep(run),
  };
}
