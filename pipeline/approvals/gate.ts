/**
 * The approval gate: does the run hold M valid approvals from distinct allowed signers, none of
 * them the initiator, over the run's current plan and evidence? Called by `rotate gate`,
 * `rotate approvals`, and the engine's `approval-gate` and `schedule-deletion` stages.
 *
 * Every approval gets a verdict with the reason it does not count, so whoever reads the result
 * knows what to fix. Signatures are checked first: a forged or tampered approval is reported as
 * such, not as merely expired.
 */
import { digestOf } from '../canonical-json';
import type { ApprovalPolicy } from '../config/types';
import { ApprovalError } from '../errors';
import type { Run, StoredApproval } from '../state/types';
import { hasPatternPrincipals, principalAsListed, readAllowedSigners, type AllowedSigner } from './allowed-signers';
import { isInitiator } from './identity';
import { parsePayload, type ApprovalPayload } from './payload';
import { verifyWithDiagnosis, type SshKeygenOptions } from './ssh';

/** Clock skew tolerated for an approval issued "in the future" by an approver's machine. */
const CLOCK_SKEW_MS = 5 * 60_000;
const HOUR_MS = 3_600_000;

export type RejectionCode =
  | 'malformed' // payload unreadable, or the stored signer disagrees with the signed one
  | 'not-allowed' // the approver is not (or no longer) a principal in allowed_signers
  | 'unlisted-key' // signed by a key allowed_signers does not list for that principal (forged, or key revoked)
  | 'wrong-namespace'
  | 'bad-signature' // payload modified after signing, or a corrupt signature
  | 'other-run'
  | 'stale-plan'
  | 'stale-evidence'
  | 'expired'
  | 'not-yet-valid'
  | 'lifetime-too-long'
  | 'initiator'
  | 'duplicate';

export interface ApprovalVerdict {
  /** Where the approval came from: stored with the run, or passed in (e.g. `--approvals-dir`). */
  readonly source: 'run' | 'extra';
  /** 0-based position within its source. */
  readonly index: number;
  /** The principal the approval claims (from the payload when readable, else the stored signer field). */
  readonly signer: string;
  readonly issuedAt?: string;
  readonly expiresAt?: string;
  readonly counts: boolean;
  readonly rejection?: RejectionCode;
  /** Why it does not count, in words. */
  readonly reason?: string;
}

export interface GateResult {
  readonly runId: string;
  readonly keyring: string;
  readonly quorum: number;
  readonly planDigest: string;
  readonly evidenceDigest?: string;
  readonly approvals: readonly ApprovalVerdict[];
  /** Distinct signers whose approval counts, as spelled in allowed_signers. */
  readonly signers: readonly string[];
  /** Problems with the run itself that no approval can fix (no evidence yet, digest mismatch). */
  readonly blockers: readonly string[];
  readonly satisfied: boolean;
  /** How many more distinct valid signers are needed (0 when satisfied or only blockers remain). */
  readonly missing: number;
}

export interface GateOptions {
  readonly now: Date;
  /** Approvals carried outside the run (artifact files); judged exactly like stored ones. */
  readonly extraApprovals?: readonly StoredApproval[];
  readonly ssh?: SshKeygenOptions;
}

/** Problems with the run itself that make every approval moot (also refused at approve time). */
export function runBlockers(run: Run): string[] {
  const blockers: string[] = [];
  if (!run.plan.oldKeyArn) blockers.push('the plan retires no customer managed key: there is nothing to approve');
  if (digestOf(run.plan) !== run.planDigest) {
    blockers.push(`the run's plan no longer matches its recorded plan digest ${run.planDigest} (state edited outside keyrotor?)`);
  }
  if (!run.evidenceDigest || run.evidence === undefined) {
    blockers.push('the run has no check evidence yet (advance it through integration-checks)');
  } else if (digestOf(run.evidence) !== run.evidenceDigest) {
    blockers.push(`the run's evidence no longer matches its recorded evidence digest ${run.evidenceDigest} (state edited outside keyrotor?)`);
  }
  return blockers;
}

type Judged = Omit<ApprovalVerdict, 'source' | 'index'>;

/** Semantic checks of a correctly signed payload against the run, the policy and the clock. */
function judgePayload(payload: ApprovalPayload, run: Run, policy: ApprovalPolicy, now: Date): Pick<Judged, 'rejection' | 'reason'> | undefined {
  if (payload.runId !== run.id || payload.keyring !== run.keyring) {
    return { rejection: 'other-run', reason: `signed for run ${payload.runId} of key ring ${payload.keyring}, not run ${run.id} of ${run.keyring}` };
  }
  if (payload.planDigest !== run.planDigest) {
    return { rejection: 'stale-plan', reason: `signed plan digest ${payload.planDigest.slice(0, 12)}… but the plan is now ${run.planDigest.slice(0, 12)}… (the plan changed after signing)` };
  }
  for (const field of ['oldKeyArn', 'newKeyArn', 'deletionWindowDays'] as const) {
    if (payload[field] !== run.plan[field]) {
      return { rejection: 'stale-plan', reason: `signed ${field} ${String(payload[field])} but the plan says ${String(run.plan[field])}` };
    }
  }
  if (payload.evidenceDigest !== run.evidenceDigest) {
    return { rejection: 'stale-evidence', reason: `signed evidence digest ${payload.evidenceDigest.slice(0, 12)}… but the evidence is now ${String(run.evidenceDigest).slice(0, 12)}… (checks re-ran or changed after signing)` };
  }
  const issued = Date.parse(payload.issuedAt);
  const expires = Date.parse(payload.expiresAt);
  if (now.getTime() >= expires) return { rejection: 'expired', reason: `expired at ${payload.expiresAt}` };
  if (issued > now.getTime() + CLOCK_SKEW_MS) return { rejection: 'not-yet-valid', reason: `issued in the future (${payload.issuedAt}); check the signer's clock` };
  if (expires - issued > policy.lifetimeHours * HOUR_MS) {
    return { rejection: 'lifetime-too-long', reason: `valid for ${((expires - issued) / HOUR_MS).toFixed(1)} h, longer than the key ring's approval lifetime of ${policy.lifetimeHours} h` };
  }
  if (isInitiator(payload.approver, run.initiator)) {
    return { rejection: 'initiator', reason: `${payload.approver} initiated this run (${run.initiator}) and cannot approve it` };
  }
  return undefined;
}

async function judgeApproval(
  approval: StoredApproval,
  run: Run,
  policy: ApprovalPolicy,
  signers: readonly AllowedSigner[],
  options: GateOptions,
): Promise<Judged> {
  const parsed = parsePayload(approval.payload);
  if (!parsed.ok) return { signer: approval.signer, counts: false, rejection: 'malformed', reason: parsed.reason };
  const payload = parsed.payload;
  const base = { signer: payload.approver, issuedAt: payload.issuedAt, expiresAt: payload.expiresAt };
  if (approval.signer.toLowerCase() !== payload.approver.toLowerCase()) {
    return { ...base, counts: false, rejection: 'malformed', reason: `stored signer ${approval.signer} differs from the signed approver ${payload.approver}` };
  }
  const listed = principalAsListed(signers, payload.approver);
  if (listed === undefined && !hasPatternPrincipals(signers)) {
    return { ...base, counts: false, rejection: 'not-allowed', reason: `${payload.approver} is not in ${policy.allowedSignersFile} (never added, or removed since signing)` };
  }
  const principal = listed ?? payload.approver;
  const check = await verifyWithDiagnosis(
    { allowedSignersFile: policy.allowedSignersFile, principal, payload: approval.payload, signature: approval.signature },
    options.ssh,
  );
  if (!check.ok) {
    const rejection: RejectionCode =
      check.problem === 'wrong-namespace'
        ? 'wrong-namespace'
        : check.problem === 'payload-mismatch'
          ? 'bad-signature'
          : listed === undefined
            ? 'not-allowed' // only a wildcard entry could have matched, and none did
            : 'unlisted-key';
    return { ...base, counts: false, rejection, reason: check.reason };
  }
  const problem = judgePayload(payload, run, policy, options.now);
  return { ...base, signer: principal, counts: problem === undefined, ...problem };
}

export async function evaluateApprovals(run: Run, policy: ApprovalPolicy, options: GateOptions): Promise<GateResult> {
  const allowed = await readAllowedSigners(policy.allowedSignersFile);
  const all = [
    ...run.approvals.map((approval, index) => ({ approval, source: 'run' as const, index })),
    ...(options.extraApprovals ?? []).map((approval, index) => ({ approval, source: 'extra' as const, index })),
  ];
  const verdicts: ApprovalVerdict[] = [];
  const firstCounted = new Map<string, number>();
  for (const { approval, source, index } of all) {
    let verdict: ApprovalVerdict = { source, index, ...(await judgeApproval(approval, run, policy, allowed, options)) };
    if (verdict.counts) {
      // One person, one vote: the first counting approval of a signer stands for all of theirs.
      const key = verdict.signer.toLowerCase();
      const earlier = firstCounted.get(key);
      if (earlier === undefined) firstCounted.set(key, verdicts.length);
      else verdict = { ...verdict, counts: false, rejection: 'duplicate', reason: `${verdict.signer} already approved (counted once)` };
    }
    verdicts.push(verdict);
  }
  const signers = [...firstCounted.values()].map((i) => verdicts[i]!.signer);
  const blockers = runBlockers(run);
  const satisfied = blockers.length === 0 && signers.length >= policy.quorum;
  return {
    runId: run.id,
    keyring: run.keyring,
    quorum: policy.quorum,
    planDigest: run.planDigest,
    evidenceDigest: run.evidenceDigest,
    approvals: verdicts,
    signers,
    blockers,
    satisfied,
    missing: Math.max(0, policy.quorum - signers.length),
  };
}

/** One paragraph: who signed, how many more are needed, what blocks, and why the rest do not count. */
export function describeGateResult(result: GateResult): string {
  const lines: string[] = [];
  const who = result.signers.length > 0 ? result.signers.join(', ') : 'nobody';
  if (result.satisfied) {
    lines.push(`approval quorum holds for run ${result.runId}: ${result.signers.length} of ${result.quorum} (${who})`);
  } else {
    lines.push(
      `approval quorum NOT met for run ${result.runId} (key ring ${result.keyring}): ${result.signers.length} of ${result.quorum} valid — signed by ${who}` +
        (result.missing > 0 ? `; ${result.missing} more needed` : ''),
    );
  }
  for (const blocker of result.blockers) lines.push(`  blocked: ${blocker}`);
  for (const v of result.approvals) {
    if (!v.counts) lines.push(`  not counted: ${v.signer} (${v.rejection}): ${v.reason}`);
  }
  return lines.join('\n');
}

/** The quorum does not hold. Carries the full result for callers that report or wait on it. */
export class QuorumNotMetError extends ApprovalError {
  constructor(readonly result: GateResult) {
    super(describeGateResult(result), {
      fault: 'operator',
      nextStep:
        result.blockers.length > 0
          ? `resolve the blockers, then run \`rotate gate ${result.runId}\``
          : `${result.missing} more allowed signer(s) other than the initiator run \`rotate approve ${result.runId} --signing-key <key>\`, then \`rotate gate ${result.runId}\``,
    });
  }
}

/** evaluateApprovals, throwing QuorumNotMetError unless the quorum holds. */
export async function assertQuorum(run: Run, policy: ApprovalPolicy, options: GateOptions): Promise<GateResult> {
  const result = await evaluateApprovals(run, policy, options);
  if (!result.satisfied) throw new QuorumNotMetError(result);
  return result;
}
