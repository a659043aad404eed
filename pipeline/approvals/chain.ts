/**
 * What the gate holds a run against in the audit chain, and how approvals anchor the chain.
 *
 * - The run's initiator must equal what its `run.start` entry recorded, its plan digest what the
 *   latest `run.start` / `run.plan` / `run.replan` entry recorded, and its evidence digest what the
 *   latest `run.evidence` entry recorded: editing the run file alone is caught.
 * - Each approval signs the audit head (seq and hash) its approver saw. The gate and
 *   `rotate audit verify` check that the chain still has that hash at that seq, so recomputing the
 *   chain wholesale (which the hash links alone cannot reveal) breaks every later approval.
 *
 * Audit entries this module relies on (the engine writes them): `run.start`
 * {initiator, initiatorIdentityDigest, planDigest}; `run.plan` / `run.replan` {planDigest};
 * `run.evidence` {evidenceDigest}; `approval.counted` {signer, fingerprint, signatureSha256, auditHead}.
 */
import { digestOf } from '../canonical-json';
import { verifyAuditChain } from '../state/audit-chain';
import type { AuditEntry, AuditVerification, Run, StateStore } from '../state/types';

export interface AuditHeadRef {
  readonly seq: number;
  readonly hash: string;
}

export interface ChainView {
  readonly entries: readonly AuditEntry[];
  readonly verification: AuditVerification;
}

/**
 * What one process has read and verified of each store's chain: later reads take only the new
 * entries, verified against the last one already verified. A process verifies the whole chain once
 * (its first read), every later process again; a cached entry found changed on re-read, or any
 * problem, falls back to a full read.
 */
const verifiedPrefix = new WeakMap<object, ChainView>();

/**
 * The chain as the gate sees it: every entry, verified. The head is read first (entries appended
 * after it only lengthen the log) and the entries once: the verification is computed from the
 * entries read, exactly as the store's own `verifyAudit()` computes it, without reading the log a
 * second time. A log with an unreadable line fails the read, naming the file and line.
 */
export async function readChain(store: Pick<StateStore, 'readAudit' | 'auditHead'>): Promise<ChainView> {
  const known = verifiedPrefix.get(store);
  const last = known?.entries[known.entries.length - 1];
  const head = await store.auditHead();
  if (known && last && known.verification.ok) {
    // From the last verified entry on: it must be unchanged, and everything after must chain from it.
    const tail = await store.readAudit({ fromSeq: last.seq });
    const added = tail.slice(1);
    const verification = verifyAuditChain(added, head, last);
    if (tail[0]?.seq === last.seq && tail[0].hash === last.hash && verification.ok) {
      const view = { entries: [...known.entries, ...added], verification: { ...verification, entries: known.entries.length + added.length } };
      runIndex.set(view, indexByRun(added, runIndexOf(known)));
      verifiedPrefix.set(store, view);
      return view;
    }
  }
  const entries = await store.readAudit();
  const view = { entries, verification: verifyAuditChain(entries, head) };
  verifiedPrefix.set(store, view);
  return view;
}

/**
 * The current head of the chain ({seq: 0, hash: genesis} for an empty log).
 * LEAD: derived from readAudit() (O(n)); swap for `store.auditHead()` once the store has it.
 */
export async function auditHeadOf(store: Pick<StateStore, 'readAudit'>): Promise<AuditHeadRef> {
  return headOf(await store.readAudit());
}

export function headOf(entries: readonly AuditEntry[]): AuditHeadRef {
  const last = entries[entries.length - 1];
  return last ? { seq: last.seq, hash: last.hash } : { seq: 0, hash: '0'.repeat(64) };
}

const PLAN_ACTIONS = new Set(['run.start', 'run.plan', 'run.replan']);

/** What the `run.start` entry records about the run, so the gate can hold the run against it later. */
export function startAuditDetail(run: Run): Record<string, unknown> {
  const identity = run.initiatorIdentity;
  return {
    kind: run.kind,
    planDigest: run.planDigest,
    oldKeyArn: run.plan.oldKeyArn,
    initiator: run.initiator,
    initiatorIdentityDigest: digestOf(identity ?? null),
    ...(identity ? { initiatorTied: identity.tied, initiatorFingerprints: identity.fingerprints, initiatorPrincipals: identity.principals } : {}),
  };
}

/** What a `run.evidence` entry records: the digest and the values it covers. */
export function evidenceAuditDetail(run: Pick<Run, 'evidence' | 'evidenceDigest'>): Record<string, unknown> {
  return { evidenceDigest: run.evidenceDigest, evidence: run.evidence };
}

/**
 * Each view's entries by run id, built once per view (extended from the previous view's on an
 * incremental read): the gate looks up one run's entries without scanning the whole chain.
 */
const runIndex = new WeakMap<ChainView, ReadonlyMap<string, readonly AuditEntry[]>>();

function indexByRun(entries: readonly AuditEntry[], base?: ReadonlyMap<string, readonly AuditEntry[]>): Map<string, readonly AuditEntry[]> {
  const index = new Map<string, readonly AuditEntry[]>(base);
  // A run touched here gets a new array (copied once, then appended to): the base view's index
  // never changes after it was handed out.
  const copied = new Map<string, AuditEntry[]>();
  for (const entry of entries) {
    if (entry.runId === undefined) continue;
    let list = copied.get(entry.runId);
    if (!list) {
      list = [...(index.get(entry.runId) ?? [])];
      copied.set(entry.runId, list);
      index.set(entry.runId, list);
    }
    list.push(entry);
  }
  return index;
}

function runIndexOf(chain: ChainView): ReadonlyMap<string, readonly AuditEntry[]> {
  let index = runIndex.get(chain);
  if (!index) {
    index = indexByRun(chain.entries);
    runIndex.set(chain, index);
  }
  return index;
}

function entriesOf(chain: ChainView, runId: string): readonly AuditEntry[] {
  return runIndexOf(chain).get(runId) ?? [];
}

function detailOf(entry: AuditEntry | undefined, field: string): unknown {
  return entry?.detail?.[field];
}

/** The latest entry of `run` that recorded its evidence digest (the evidence approvers saw). */
export function evidenceEntry(chain: ChainView, run: Pick<Run, 'id'>): AuditEntry | undefined {
  return entriesOf(chain, run.id).filter((e) => e.action === 'run.evidence').pop();
}

/**
 * Problems with the run against the chain; each one blocks the gate (no approval can fix it).
 * `strict` (the gate): a fact the chain does not record at all is a problem too, since it cannot be
 * checked. Not strict (`rotate audit verify` over old runs): only contradictions are reported.
 */
export function chainBlockers(run: Run, chain: ChainView, strict = true): string[] {
  const blockers: string[] = [];
  if (!chain.verification.ok) {
    const p = chain.verification.problem;
    blockers.push(`the audit chain is broken at entry ${p?.seq ?? '?'} (${p?.reason ?? 'unknown'}); run \`rotate audit verify\``);
  }
  const mine = entriesOf(chain, run.id);
  const start = mine.find((e) => e.action === 'run.start');
  if (!start) {
    if (strict) blockers.push(`the audit chain has no run.start entry for run ${run.id}, so who started it cannot be checked`);
  } else {
    const recorded = detailOf(start, 'initiator');
    if (recorded === undefined || detailOf(start, 'initiatorIdentityDigest') === undefined) {
      if (strict) blockers.push(`the run.start entry (seq ${start.seq}) does not record the initiator (run started by an older keyrotor); start a new run`);
    } else {
      if (recorded !== run.initiator) {
        blockers.push(`the run says it was started by ${run.initiator}, but its run.start audit entry (seq ${start.seq}) says ${String(recorded)}: the run was edited outside keyrotor`);
      }
      if (detailOf(start, 'initiatorIdentityDigest') !== digestOf(run.initiatorIdentity ?? null)) {
        blockers.push(`the run's initiator identity differs from the one its run.start audit entry (seq ${start.seq}) recorded: the run was edited outside keyrotor`);
      }
    }
  }
  const planEntry = mine.filter((e) => PLAN_ACTIONS.has(e.action) && typeof detailOf(e, 'planDigest') === 'string').pop();
  if (start && planEntry && detailOf(planEntry, 'planDigest') !== run.planDigest) {
    blockers.push(`the run's plan digest ${run.planDigest.slice(0, 12)}… is not the one the audit chain last recorded (${String(detailOf(planEntry, 'planDigest')).slice(0, 12)}…, ${planEntry.action} seq ${planEntry.seq}): the plan was edited outside keyrotor`);
  }
  if (run.evidenceDigest !== undefined) {
    const evidence = evidenceEntry(chain, run);
    if (!evidence) {
      if (strict) blockers.push('the audit chain has no run.evidence entry for the run\'s evidence: it did not come from a stage (edited outside keyrotor?)');
    } else if (detailOf(evidence, 'evidenceDigest') !== run.evidenceDigest) {
      blockers.push(`the run's evidence digest ${run.evidenceDigest.slice(0, 12)}… is not the one the audit chain recorded (${String(detailOf(evidence, 'evidenceDigest')).slice(0, 12)}…, seq ${evidence.seq}): the evidence was edited outside keyrotor`);
    }
  }
  return blockers;
}

/**
 * Why a signed audit head does not anchor in the chain, or undefined when it does: the chain must
 * hold that hash at that seq, and the head must be at or after the entry that recorded the evidence
 * the approver signed (they saw it).
 */
export function anchorProblem(head: AuditHeadRef, chain: ChainView, run: Pick<Run, 'id'>, afterCurrentEvidence = true): string | undefined {
  const entry = chain.entries[head.seq - 1];
  if (head.seq < 1 || !entry || entry.seq !== head.seq) {
    return `signed at audit head #${head.seq}, but this state store's audit chain has ${chain.entries.length} entries: entries were removed, or the approval was made against another state store`;
  }
  if (entry.hash !== head.hash) {
    return `signed at audit head #${head.seq} with hash ${head.hash.slice(0, 12)}…, but entry #${head.seq} now has hash ${entry.hash.slice(0, 12)}…: the audit chain was rewritten after signing (or the approval comes from another state store)`;
  }
  const evidence = afterCurrentEvidence ? evidenceEntry(chain, run) : undefined;
  if (evidence && head.seq < evidence.seq) {
    return `signed at audit head #${head.seq}, before the run's current evidence was recorded (#${evidence.seq}): the approver cannot have seen it`;
  }
  return undefined;
}
