/**
 * The approval gate: does the run hold approvals from `quorum` distinct people, none of them the
 * initiator, over the run's current plan and evidence, verified against the bar the run recorded at
 * start? Called by `rotate gate`, `rotate approvals`, `rotate approve` (to show the standing) and
 * the engine's `approval-gate` and `schedule-deletion` stages — always through `evaluateApprovals`
 * on approvals gathered by `collectApprovals`, so they all give the same answer.
 *
 * People are counted by key (pipeline/approvals/persons.ts): a key under two principals, a wildcard
 * spelled two ways, a certificate naming two principals — each counts once, and `merges` says which
 * approvals were joined and why. Every approval gets a verdict with the exact reason it does not
 * count. Signatures are checked first: a forged or tampered approval is reported as such, not as
 * merely expired.
 */
import { createHash } from 'node:crypto';
import { digestOf } from '../canonical-json';
import { ApprovalError } from '../errors';
import type { ApprovalBar, Run, StoredApproval } from '../state/types';
import { parseAllowedSigners, principalAsListed, entriesFor, type AllowedSigner } from './allowed-signers';
import { anchorProblem, chainBlockers, type ChainView } from './chain';
import { diagnoseRefusal, type SignatureProblem } from './diagnose';
import type { CollectedApprovals } from './files';
import { labelNamesApprover } from './initiator';
import { parsePayload, type ApprovalPayload } from './payload';
import { certifiedPrincipals, linkCertifiedNames } from './certified-names';
import { keyNode, nameNode, PersonGraph } from './persons';
import { verifySignature, withPrivateFiles, type SshKeygenOptions } from './ssh';
import { embeddedKey, securityKeyTouched } from './sshsig';

/** Clock skew tolerated for an approval issued "in the future" by an approver's machine. */
const CLOCK_SKEW_MS = 5 * 60_000;
const HOUR_MS = 3_600_000;
export const INITIATOR = 'initiator:';

export type RejectionCode =
  | SignatureProblem
  | 'malformed' // not an approval file, payload unreadable, or the stored signer disagrees with the signed one
  | 'no-bar' // the run recorded no approval bar
  | 'other-run'
  | 'stale-plan'
  | 'stale-bar' // signed another quorum or allowed_signers than the run recorded
  | 'stale-evidence'
  | 'unanchored' // the audit head it signed is not in the chain
  | 'expired'
  | 'not-yet-valid'
  | 'lifetime-too-long'
  | 'initiator'
  | 'initiator-unknown'
  | 'same-person';

export interface ApprovalVerdict {
  /** 1-based number in the listing. */
  readonly number: number;
  /** `run` (recorded with the run by the engine) or the approval file's path. */
  readonly source: string;
  /** The principal the approval claims (from the payload when readable, else the stored signer field). */
  readonly signer: string;
  /** The signing key (for a certificate, the certified key), when ssh-keygen could read the signature. */
  readonly fingerprint?: string;
  readonly keyType?: string;
  readonly issuedAt?: string;
  readonly expiresAt?: string;
  readonly counts: boolean;
  readonly rejection?: RejectionCode;
  /** Why it does not count, in words. */
  readonly reason?: string;
  /** For a `same-person` verdict: the number of the approval it was counted with. */
  readonly mergedInto?: number;
}

export interface Merge {
  /** The approval that counts. */
  readonly kept: number;
  /** The approval joined to it (counts for nothing on its own). */
  readonly merged: number;
  readonly why: string;
}

export interface GateResult {
  readonly runId: string;
  readonly keyring: string;
  /** The run's recorded quorum (0 when it recorded none). */
  readonly quorum: number;
  readonly planDigest: string;
  readonly evidenceDigest?: string;
  readonly allowedSignersSha256?: string;
  readonly initiator: { readonly label: string; readonly tied: boolean; readonly basis: readonly string[] };
  readonly approvals: readonly ApprovalVerdict[];
  /** One principal per counted person, as it signed. */
  readonly signers: readonly string[];
  readonly merges: readonly Merge[];
  /** Problems with the run itself that no approval can fix (no evidence yet, digest mismatch, chain). */
  readonly blockers: readonly string[];
  readonly satisfied: boolean;
  /** How many more distinct people are needed (0 when satisfied). */
  readonly missing: number;
}

export interface GateInput {
  readonly now: Date;
  readonly collected: CollectedApprovals;
  readonly chain: ChainView;
  readonly ssh?: SshKeygenOptions;
}

/** Problems with the run itself that make every approval moot (also refused at approve time). */
export function runBlockers(run: Run): string[] {
  const blockers: string[] = [];
  if (!run.plan.oldKeyArn) blockers.push('the plan retires no customer managed key: there is nothing to approve');
  if (!run.plan.approvals) blockers.push(`the run's plan records no approval bar (started before keyrotor bound runs to it): adopt the current config with \`rotate replan ${run.id}\` or start a new run`);
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

function initiatorBlocker(run: Run): string | undefined {
  const identity = run.initiatorIdentity;
  if (identity?.tied) return undefined;
  const why = identity ? identity.basis.join('; ') : `the run records only the label ${run.initiator}`;
  return `the run's initiator is not tied to a person (${why}), so the gate cannot rule anyone out as the initiator and counts no approval; start a new run with \`rotate start ${run.keyring} --signing-key <your key>\`, or map the initiator in \`people\``;
}

type Judged = Omit<ApprovalVerdict, 'number' | 'source' | 'mergedInto'> & { readonly principal?: string };

/** Semantic checks of a correctly signed payload against the run, its bar, the chain and the clock. */
function judgePayload(payload: ApprovalPayload, run: Run, bar: ApprovalBar, chain: ChainView, now: Date): Pick<Judged, 'rejection' | 'reason'> | undefined {
  if (payload.runId !== run.id || payload.keyring !== run.keyring) {
    return { rejection: 'other-run', reason: `signed for run ${payload.runId} of key ring ${payload.keyring}, not run ${run.id} of ${run.keyring}` };
  }
  if (payload.planDigest !== run.planDigest) {
    return { rejection: 'stale-plan', reason: `signed plan digest ${payload.planDigest.slice(0, 12)}… but the plan is now ${run.planDigest.slice(0, 12)}… (the plan changed after signing, e.g. \`rotate replan\`)` };
  }
  for (const field of ['oldKeyArn', 'newKeyArn', 'deletionWindowDays'] as const) {
    if (payload[field] !== run.plan[field]) {
      return { rejection: 'stale-plan', reason: `signed ${field} ${String(payload[field])} but the plan says ${String(run.plan[field])}` };
    }
  }
  if (payload.quorum !== bar.quorum) return { rejection: 'stale-bar', reason: `signed for a quorum of ${payload.quorum}, but the run recorded ${bar.quorum}` };
  if (payload.allowedSignersSha256 !== bar.allowedSignersSha256) {
    return { rejection: 'stale-bar', reason: `signed for allowed_signers sha256 ${payload.allowedSignersSha256.slice(0, 12)}…, but the run recorded ${bar.allowedSignersSha256.slice(0, 12)}…` };
  }
  if (payload.evidenceDigest !== run.evidenceDigest) {
    return { rejection: 'stale-evidence', reason: `signed evidence digest ${payload.evidenceDigest.slice(0, 12)}… but the evidence is now ${String(run.evidenceDigest).slice(0, 12)}… (checks re-ran, or the old key's last use was re-read, after signing)` };
  }
  const anchor = anchorProblem(payload.auditHead, chain, run);
  if (anchor) return { rejection: 'unanchored', reason: anchor };
  const issued = Date.parse(payload.issuedAt);
  const expires = Date.parse(payload.expiresAt);
  const headAt = Date.parse(chain.entries[payload.auditHead.seq - 1]!.at);
  if (issued + CLOCK_SKEW_MS < headAt) {
    return { rejection: 'not-yet-valid', reason: `issued ${payload.issuedAt}, before the audit entry it signed (#${payload.auditHead.seq} at ${chain.entries[payload.auditHead.seq - 1]!.at}): backdated, or the signer's clock is wrong` };
  }
  if (now.getTime() >= expires) return { rejection: 'expired', reason: `expired at ${payload.expiresAt}` };
  if (issued > now.getTime() + CLOCK_SKEW_MS) return { rejection: 'not-yet-valid', reason: `issued in the future (${payload.issuedAt}); check the signer's clock` };
  if (expires - issued > bar.lifetimeHours * HOUR_MS) {
    return { rejection: 'lifetime-too-long', reason: `valid for ${((expires - issued) / HOUR_MS).toFixed(1)} h, longer than the run's approval lifetime of ${bar.lifetimeHours} h` };
  }
  return undefined;
}

/**
 * Signatures this process has seen verify, keyed by everything `ssh-keygen -Y verify` depends on
 * (the allowed_signers contents, principal, payload, signature, verify time): the same inputs give
 * the same answer, so a gate judged again (the approval gate while it waits, the deletion's own
 * quorum check) does not spawn ssh-keygen again for an approval it already verified. Failures are
 * never kept: they are re-verified (and diagnosed) every time.
 */
const verifiedSignatures = new Map<string, Awaited<ReturnType<typeof verifySignature>>>();
const VERIFIED_SIGNATURES_KEPT = 10_000;

async function verifyOnce(
  input: Parameters<typeof verifySignature>[0],
  allowedSigners: string,
  timeMatters: boolean,
  ssh: SshKeygenOptions | undefined,
): Promise<Awaited<ReturnType<typeof verifySignature>>> {
  // The verify time changes the answer only through a certificate's validity or a line's
  // valid-after/valid-before; without either, a plain key judged "now" keeps its answer.
  const moment = timeMatters ? (input.at?.toISOString() ?? null) : null;
  const key = createHash('sha256').update(JSON.stringify([allowedSigners, input.principal, input.payload, input.signature, moment, ssh?.binary ?? null, ssh?.env?.PATH ?? null])).digest('hex');
  const known = verifiedSignatures.get(key);
  if (known) return known;
  const result = await verifySignature(input, ssh);
  if (result.ok) {
    if (verifiedSignatures.size >= VERIFIED_SIGNATURES_KEPT) verifiedSignatures.clear();
    verifiedSignatures.set(key, result);
  }
  return result;
}

/**
 * When a signing key's validity is judged. A certificate is judged at the signing time the payload
 * states (never later than now): short-lived certificates are the norm, and an approval made while
 * one was valid must outlive it. That time is the signer's word, so it is bounded: no earlier than
 * the audit head the approval anchors to (judgePayload), and the approval expires after the bar's
 * lifetime. A plain key is judged now: its allowed_signers line's valid-after/valid-before is a
 * deliberate start or end date (a leaver's last day), which a backdated issuedAt must not reach past.
 */
/** Whether a verification's answer can depend on when it is judged: a certificate, or any line with a time bound. */
function timeBounded(signers: readonly AllowedSigner[], signature: string): boolean {
  return embeddedKey(signature)?.isCertificate === true || signers.some((s) => s.validAfter !== undefined || s.validBefore !== undefined);
}

function validityMoment(signature: string, issuedAt: string, now: Date): Date {
  if (!embeddedKey(signature)?.isCertificate) return now;
  return new Date(Math.min(Date.parse(issuedAt), now.getTime()));
}

/** Verifies one approval's signature against the recorded allowed_signers (see validityMoment) and reads who signed. */
async function judgeSignature(
  approval: StoredApproval,
  signers: readonly AllowedSigner[],
  allowedSignersFile: string,
  allowedSigners: string,
  now: Date,
  ssh: SshKeygenOptions | undefined,
): Promise<Judged & { payload?: ApprovalPayload }> {
  const parsed = parsePayload(approval.payload);
  if (!parsed.ok) return { signer: approval.signer, counts: false, rejection: 'malformed', reason: parsed.reason };
  const payload = parsed.payload;
  const base = { signer: payload.approver, issuedAt: payload.issuedAt, expiresAt: payload.expiresAt, payload };
  if (approval.signer.toLowerCase() !== payload.approver.toLowerCase()) {
    return { ...base, counts: false, rejection: 'malformed', reason: `stored signer ${approval.signer} differs from the signed approver ${payload.approver}` };
  }
  const principal = principalAsListed(signers, payload.approver) ?? payload.approver;
  const at = validityMoment(approval.signature, payload.issuedAt, now);
  const verified = entriesFor(signers, principal).length === 0
    ? { ok: false as const, reason: 'no entry for this principal' }
    : await verifyOnce({ allowedSignersFile, principal, payload: approval.payload, signature: approval.signature, at }, allowedSigners, timeBounded(signers, approval.signature), ssh);
  if (!verified.ok) {
    const d = await diagnoseRefusal({ payload: approval.payload, signature: approval.signature, principal, at, fallback: verified.reason }, signers, ssh);
    return { ...base, ...(d.fingerprint ? { fingerprint: d.fingerprint, keyType: d.keyType } : {}), counts: false, rejection: d.problem, reason: d.reason };
  }
  if (securityKeyTouched(approval.signature) === false) {
    return {
      ...base,
      fingerprint: verified.fingerprint,
      keyType: verified.keyType,
      counts: false,
      rejection: 'key-not-valid',
      reason: `security key ${verified.fingerprint} signed without a touch (its user-presence flag is off); an approval must be a person's act: sign again and touch the key when it blinks`,
    };
  }
  return { ...base, principal, fingerprint: verified.fingerprint, keyType: verified.keyType, counts: true };
}

/** Joins the run's initiator (a `initiator:` node) to every key and principal recorded as theirs at start. */
export function linkInitiator(graph: PersonGraph, identity: Run['initiatorIdentity']): void {
  if (!identity) return;
  const started = identity.signedStart?.fingerprint;
  if (started) graph.link(INITIATOR, keyNode(started), `the initiator signed the start with key ${started}`);
  for (const p of identity.principals) graph.link(INITIATOR, nameNode(p), `the initiator is ${p}`);
  // Keys the graph already ties to them explain themselves through it; link only the rest.
  for (const fp of identity.fingerprints) if (!graph.same(INITIATOR, keyNode(fp))) graph.link(INITIATOR, keyNode(fp), `key ${fp} was recorded as the initiator's at start`);
}

/** Evaluates every collected approval of `run` against the bar it recorded; never reads the current config. */
export async function evaluateApprovals(run: Run, input: GateInput): Promise<GateResult> {
  const bar = run.plan.approvals;
  const blockers = [...runBlockers(run), ...chainBlockers(run, input.chain)];
  const initiatorProblem = initiatorBlocker(run);
  if (initiatorProblem) blockers.push(initiatorProblem);
  const identity = run.initiatorIdentity;
  const result = (verdicts: ApprovalVerdict[], signersCounted: string[], merges: Merge[]): GateResult => {
    const quorum = bar?.quorum ?? 0;
    const satisfied = blockers.length === 0 && bar !== undefined && signersCounted.length >= quorum;
    return {
      runId: run.id,
      keyring: run.keyring,
      quorum,
      planDigest: run.planDigest,
      ...(run.evidenceDigest === undefined ? {} : { evidenceDigest: run.evidenceDigest }),
      ...(bar ? { allowedSignersSha256: bar.allowedSignersSha256 } : {}),
      initiator: { label: run.initiator, tied: identity?.tied ?? false, basis: identity?.basis ?? [] },
      approvals: verdicts,
      signers: signersCounted,
      merges,
      blockers,
      satisfied,
      missing: satisfied ? 0 : Math.max(bar === undefined ? 1 : quorum - signersCounted.length, 0),
    };
  };

  const fileProblems: ApprovalVerdict[] = input.collected.problems.map((p, i) => ({
    number: input.collected.approvals.length + i + 1,
    source: p.source,
    signer: '(unreadable)',
    counts: false,
    rejection: 'malformed',
    reason: p.reason,
  }));
  if (!bar) {
    const verdicts = input.collected.approvals.map((c, i): ApprovalVerdict => ({
      number: i + 1, source: c.source, signer: c.approval.signer, counts: false, rejection: 'no-bar', reason: 'the run recorded no approval bar to judge it against',
    }));
    return result([...verdicts, ...fileProblems], [], []);
  }
  let signers: AllowedSigner[];
  try {
    signers = parseAllowedSigners(bar.allowedSigners, `${bar.allowedSignersFile} (as recorded at start)`);
  } catch (error) {
    blockers.push(`the allowed_signers the run recorded cannot be read: ${(error as Error).message}`);
    return result(fileProblems, [], []);
  }

  // Pass 1: signatures (who signed, with which key) and the payload's meaning.
  const judged = await withPrivateFiles({ allowed_signers: bar.allowedSigners }, async ({ allowed_signers: file }) => {
    const out: Array<Judged & { payload?: ApprovalPayload }> = [];
    for (const { approval } of input.collected.approvals) {
      const signature = await judgeSignature(approval, signers, file!, bar.allowedSigners, input.now, input.ssh);
      if (!signature.counts || !signature.payload) {
        out.push(signature);
        continue;
      }
      const problem = judgePayload(signature.payload, run, bar, input.chain, input.now);
      out.push(problem ? { ...signature, counts: false, ...problem } : signature);
    }
    return out;
  });

  // Who is who: the recorded allowed_signers and people, the initiator, and what each verified signature proves.
  const graph = PersonGraph.fromBar(signers, bar.people);
  linkInitiator(graph, identity);
  for (const [i, j] of judged.entries()) {
    if (j.fingerprint && j.principal && (j.counts || j.rejection !== 'malformed')) {
      graph.link(keyNode(j.fingerprint), nameNode(j.principal), `an approval signed as ${j.principal} with key ${j.fingerprint}`);
      const names = await certifiedPrincipals(input.collected.approvals[i]!.approval.signature, input.ssh);
      linkCertifiedNames(graph, j.fingerprint, names, `approval #${i + 1} (as ${j.principal})`);
    }
  }

  // Pass 2: the initiator never counts; one person counts once.
  const verdicts: ApprovalVerdict[] = [];
  const merges: Merge[] = [];
  const counted = new Map<string, number>(); // person root → verdict number
  const signersCounted: string[] = [];
  judged.forEach((j, i) => {
    const number = i + 1;
    const { principal: _p, payload: _payload, ...shown } = j;
    const verdict: ApprovalVerdict = { number, source: input.collected.approvals[i]!.source, ...shown };
    if (!j.counts || !j.fingerprint) {
      verdicts.push(verdict);
      return;
    }
    const node = keyNode(j.fingerprint);
    if (!identity?.tied) {
      verdicts.push({ ...verdict, counts: false, rejection: 'initiator-unknown', reason: `the run's initiator (${run.initiator}) is not tied to a person, so ${j.signer} cannot be shown to be someone else` });
      return;
    }
    if (graph.same(node, INITIATOR) || labelNamesApprover(j.signer, run.initiator)) {
      const why = graph.same(node, INITIATOR) ? graph.explain(node, INITIATOR) : `the run's initiator label ${run.initiator} names ${j.signer}`;
      verdicts.push({ ...verdict, counts: false, rejection: 'initiator', reason: `${j.signer} is the run's initiator (${why}); the initiator never counts, under any name` });
      return;
    }
    const root = graph.find(node);
    const first = counted.get(root);
    if (first !== undefined) {
      const kept = verdicts[first - 1]!;
      const why = kept.fingerprint === j.fingerprint
        ? `signed with the same key ${j.fingerprint} as approval #${first} (as ${kept.signer})${j.keyType?.includes('CERT') || kept.keyType?.includes('CERT') ? ': a certificate counts once per certified key' : ''}`
        : `the same person as approval #${first} (${kept.signer}): ${graph.explain(node, keyNode(kept.fingerprint!))}`;
      merges.push({ kept: first, merged: number, why });
      verdicts.push({ ...verdict, counts: false, rejection: 'same-person', reason: `merged with #${first}: ${why}`, mergedInto: first });
      return;
    }
    counted.set(root, number);
    signersCounted.push(j.signer);
    verdicts.push(verdict);
  });
  return result([...verdicts, ...fileProblems], signersCounted, merges);
}

/** One paragraph: who signed, how many more are needed, what blocks, which were merged and why the rest do not count. */
export function describeGateResult(result: GateResult): string {
  const lines: string[] = [];
  const who = result.signers.length > 0 ? result.signers.join(', ') : 'nobody';
  if (result.satisfied) {
    lines.push(`approval quorum holds for run ${result.runId}: ${result.signers.length} of ${result.quorum} (${who})`);
  } else {
    lines.push(
      `approval quorum NOT met for run ${result.runId} (key ring ${result.keyring}): ${result.signers.length} of ${result.quorum} distinct approvers — signed by ${who}` +
        (result.missing > 0 ? `; ${result.missing} more needed` : ''),
    );
  }
  for (const blocker of result.blockers) lines.push(`  blocked: ${blocker}`);
  for (const m of result.merges) lines.push(`  merged: #${m.merged} into #${m.kept}: ${m.why}`);
  for (const v of result.approvals) {
    if (!v.counts && v.rejection !== 'same-person') lines.push(`  not counted: #${v.number} ${v.signer} (${v.rejection}): ${v.reason}${v.source === 'run' ? '' : ` [${v.source}]`}`);
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
          : `${result.missing} more approver(s), not the initiator, run \`rotate approve ${result.runId} --signing-key <key>\` and hand in the file it writes; then \`rotate gate ${result.runId}\``,
    });
  }
}

/** evaluateApprovals, throwing QuorumNotMetError unless the quorum holds. */
export async function assertQuorum(run: Run, input: GateInput): Promise<GateResult> {
  const result = await evaluateApprovals(run, input);
  if (!result.satisfied) throw new QuorumNotMetError(result);
  return result;
}
