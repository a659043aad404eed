/**
 * Durable state: ledgers, runs and the audit log, behind one interface with two implementations
 * (file store: default, embedded; DynamoDB store: teams). Every write is conditional on the
 * version the caller read, so two operators can never silently overwrite each other.
 */
import type { Ledger } from '../ledger/types';

export type RunKind = 'rotate' | 'migrate-to-cmk' | 'migrate-to-aws-owned' | 'rollback' | 'cancel-deletion' | 'adopt' | 'retire-key' | 'rotate-material';

export type RunStatus =
  | 'open' // stages remain
  | 'waiting' // a stage waits for time (soak) or people (approvals)
  | 'failed' // a stage failed; `advance` retries it or `rollback` undoes
  | 'completed'
  | 'rolled-back'
  | 'cancelled';

export type StageStatus = 'pending' | 'running' | 'waiting' | 'done' | 'failed' | 'undone' | 'skipped';

/**
 * One AWS mutation a stage made. Written ahead: the record (and an audit entry) exists before the
 * call is sent, without an outcome; the outcome is added after AWS answered. A record without an
 * outcome after a crash is reconciled on resume by reading AWS (`reconciled-done` /
 * `reconciled-not-done`).
 */
export interface MutationRecord {
  readonly operation: string; // e.g. "kms:CreateKey"
  readonly target: string; // key ARN, alias name, instance ARN
  /** When the intent was recorded, before the call. */
  readonly at: string;
  readonly outcome?: MutationOutcome;
  readonly outcomeAt?: string;
  readonly detail?: Readonly<Record<string, string>>;
  /** The AWS error of a failed call, or what a reconciliation read found. */
  readonly note?: string;
}

export type MutationOutcome = 'ok' | 'failed' | 'reconciled-done' | 'reconciled-not-done';

export interface StageRecord {
  readonly name: string;
  readonly status: StageStatus;
  readonly startedAt?: string;
  readonly endedAt?: string;
  readonly attempts: number;
  readonly mutations: readonly MutationRecord[];
  /** Human summary of what the stage did or waits for. */
  readonly summary?: string;
  /** While waiting: for the clock (soak) or for people (approvals, the deletion's confirmation). */
  readonly waitingFor?: 'time' | 'people';
  readonly error?: { readonly message: string; readonly nextStep?: string };
  /** Stage-specific outputs (e.g. new key ARN); JSON-serializable. */
  readonly outputs?: Readonly<Record<string, unknown>>;
}

/** What the run will do; its canonical digest is what approvers sign. Fixed at `start`. */
export interface RunPlan {
  readonly kind: RunKind;
  readonly keyring: string;
  readonly account: string;
  readonly region: string;
  readonly alias: string;
  /** The generation being retired (absent for migrate-to-cmk from an AWS-owned key). */
  readonly oldKeyArn?: string;
  /** Filled once create-key ran (a key ARN cannot be known earlier); part of the approval payload. */
  readonly newKeyArn?: string;
  readonly identityCenterInstanceArn?: string;
  readonly deletionWindowDays: number;
  readonly minimumSoakHours: number;
  /** Whether the soak disables the old key (absent on runs without an approval gate). */
  readonly disableOldKeyDuringSoak?: boolean;
  /**
   * The bar approvers sign for, fixed at `start` (runs with an approval gate only): the gate and
   * schedule-deletion read it from here, never from the current config, so a later edit of the
   * config can never weaken an open run (the engine stops the run instead; `rotate replan`).
   */
  readonly approvals?: ApprovalBar;
  readonly stages: readonly string[];
  /** cancel-deletion only: EnableKey after CancelKeyDeletion (otherwise the key stays Disabled). */
  readonly enableAfterCancel?: boolean;
  /**
   * Multi-Region key rings, kinds that create a key (rotate, migrate-to-cmk): the Regions the new
   * key is replicated to, from the config at start. Absent for single-Region key rings.
   */
  readonly replicaRegions?: readonly string[];
  /** rotate-material only: on-demand rotations the run must leave unused (the config's reserve at start). */
  readonly onDemandRotationReserve?: number;
}

/** What a run's approvals must meet, as recorded in its plan at start. */
export interface ApprovalBar {
  /** Distinct people (by key) needed, the initiator excluded. */
  readonly quorum: number;
  /** Longest validity an approval may have, in hours. */
  readonly lifetimeHours: number;
  /** The allowed_signers file as the config named it, relative to the config's directory (for messages). */
  readonly allowedSignersFile: string;
  /** sha256 hex of `allowedSigners`. */
  readonly allowedSignersSha256: string;
  /** The allowed_signers contents at start: the gate verifies against these, never the current file. */
  readonly allowedSigners: string;
  /** `people` entries with allowed_signers principals (name, principals), sorted by name: who counts as one person. */
  readonly people: ReadonlyArray<{ readonly name: string; readonly signers: readonly string[] }>;
}

/**
 * Who started a run, in a form the gate can hold against signing keys (pipeline/approvals/initiator.ts
 * decides it). Claims only ever widen the exclusion; `tied` is true only on verified evidence.
 */
export interface InitiatorIdentity {
  /** The display label (`initiator`): $KEYROTOR_OPERATOR or the STS caller ARN. */
  readonly label: string;
  /** STS GetCallerIdentity ARN of the credentials that started the run. */
  readonly awsCaller?: string;
  /** GitHub Actions: GITHUB_ACTOR and GITHUB_TRIGGERING_ACTOR, and the login the pipeline role's session name proves. */
  readonly github?: { readonly actor?: string; readonly triggeringActor?: string; readonly runId?: string; readonly verifiedActor?: string };
  /** The initiator signed the start (SSHSIG, namespace keyrotor-start@v1) with this key. */
  readonly signedStart?: {
    readonly fingerprint: string;
    readonly principal?: string;
    readonly payload: string;
    readonly signature: string;
  };
  /** `people` entries the verified identities matched. */
  readonly people: readonly string[];
  /** allowed_signers principals that are the initiator (verified ones and claims). */
  readonly principals: readonly string[];
  /** Key fingerprints that are the initiator (the start's key, keys listed under `principals`). */
  readonly fingerprints: readonly string[];
  /** True when verified evidence ties the initiator to a person; otherwise no approval counts. */
  readonly tied: boolean;
  /** How the initiator was identified, or why not, in words. */
  readonly basis: readonly string[];
}

/** A stored approval (SSHSIG over the canonical payload). The approvals module owns its meaning. */
export interface StoredApproval {
  readonly signer: string;
  /** Canonical JSON payload exactly as signed. */
  readonly payload: string;
  /** Armored SSH signature (`-----BEGIN SSH SIGNATURE-----`). */
  readonly signature: string;
  readonly recordedAt: string;
}

export interface Run {
  readonly id: string;
  readonly kind: RunKind;
  readonly keyring: string;
  readonly initiator: string; // caller ARN (STS) or operator identity: a display label
  /** Who started the run, as the gate holds it against signing keys (absent on runs started before it existed). */
  readonly initiatorIdentity?: InitiatorIdentity;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly status: RunStatus;
  readonly plan: RunPlan;
  /** sha256 hex of the canonical plan. */
  readonly planDigest: string;
  readonly stages: readonly StageRecord[];
  /** Check results and the old key's last use; its digest is what approvers sign with the plan. */
  readonly evidence?: Readonly<Record<string, unknown>>;
  readonly evidenceDigest?: string;
  readonly approvals: readonly StoredApproval[];
  /** Why the run ended without completing (cancelled, refused at preflight, lost the lease race). */
  readonly endReason?: string;
  /** Optimistic-concurrency version; the store bumps it on every write. */
  readonly version: number;
}

export interface AuditEntry {
  readonly seq: number; // 1, 2, 3 …
  readonly at: string;
  readonly actor: string;
  readonly action: string; // e.g. "run.start", "stage.done", "kms:CreateKey", "approval.recorded"
  readonly keyring?: string;
  readonly runId?: string;
  readonly detail?: Readonly<Record<string, unknown>>;
  /** sha256 hex of the previous entry's `hash` ("0"*64 for the first). */
  readonly prevHash: string;
  /** sha256 hex over the canonical JSON of every field above plus prevHash. */
  readonly hash: string;
}

export type NewAuditEntry = Omit<AuditEntry, 'seq' | 'prevHash' | 'hash' | 'at'> & { readonly at?: string };

export interface AuditVerification {
  readonly ok: boolean;
  readonly entries: number;
  /** First broken entry and why (edited, reordered, removed, bad link). */
  readonly problem?: { readonly seq: number; readonly reason: string };
}

export interface Lease {
  readonly keyring: string;
  readonly runId: string;
  readonly holder: string;
  readonly expiresAt: string;
}

/** Who holds a run's execution lock: enough for an operator to find the process. */
export interface LockHolder {
  readonly host: string;
  readonly pid: number;
  /** The holder's PID namespace (Linux), so a same-named host in another container is not probed by pid. */
  readonly pidNamespace?: string;
  /** Operator identity of the holder. */
  readonly actor: string;
  /** The command it runs (`advance`, `rollback` …), for the refusal message. */
  readonly command?: string;
}

/**
 * A run's execution lock: one process acts on a run at a time. The token fences that process's
 * writes: a store write made with a lock whose token is no longer current is refused, so a
 * process that lost its lock (paused past expiry, then taken over) can change nothing.
 */
export interface RunLock {
  readonly runId: string;
  readonly keyring: string;
  /** Random 128-bit hex; new on every acquisition. */
  readonly token: string;
  readonly holder: LockHolder;
  readonly acquiredAt: string;
  /** Renewed by the holder's heartbeat; after it, another process may take the lock over. */
  readonly expiresAt: string;
}

/** The last audit entry as the store recorded it apart from the log (detects a removed tail). */
export interface AuditHead {
  readonly seq: number;
  readonly hash: string;
}

/** A contiguous part of the audit chain, by seq (inclusive); absent ends mean "from the first" / "to the last". */
export interface AuditRange {
  readonly fromSeq?: number;
  readonly toSeq?: number;
}

export interface StateStore {
  /** Human description for messages, e.g. "file store at ./state". */
  readonly description: string;

  getLedger(keyring: string): Promise<Ledger | undefined>;
  /**
   * Writes if the stored version equals `ledger.version` (0 = must not exist); returns the stored
   * ledger with version+1. With `fence`, also only while that run lock is current.
   */
  putLedger(ledger: Ledger, fence?: RunLock): Promise<Ledger>;
  listLedgers(): Promise<Ledger[]>;

  getRun(id: string): Promise<Run | undefined>;
  /** Same conditional-write rule as putLedger. */
  putRun(run: Run, fence?: RunLock): Promise<Run>;
  listRuns(filter?: { keyring?: string; open?: boolean }): Promise<Run[]>;

  /**
   * One open run per key ring. The run must already be stored. Succeeds if the lease is free,
   * already this run's, expired, or held by a run that has ended; otherwise throws StateError
   * naming the holder. A lease whose run cannot be found is never taken over.
   */
  acquireLease(keyring: string, runId: string, holder: string, ttlMs: number): Promise<Lease>;
  releaseLease(keyring: string, runId: string): Promise<void>;
  getLease(keyring: string): Promise<Lease | undefined>;

  /**
   * Takes the run's execution lock, or throws RunBusyError (exit 2) at once naming the holder. A
   * lock is taken over only when it expired or its holder's process is gone (same host).
   */
  acquireRunLock(run: RunRef, holder: LockHolder, ttlMs: number): Promise<RunLock>;
  /** Extends the lock; throws FenceLostError when it is no longer this token's. */
  renewRunLock(lock: RunLock, ttlMs: number): Promise<RunLock>;
  /** Releases the lock if it is still this token's (idempotent). */
  releaseRunLock(lock: RunLock): Promise<void>;
  getRunLock(run: RunRef): Promise<RunLock | undefined>;

  /** Appends in constant time (the tail comes from the head record, which is checked). */
  appendAudit(entry: NewAuditEntry): Promise<AuditEntry>;
  auditHead(): Promise<AuditHead | undefined>;
  readAudit(range?: AuditRange): Promise<AuditEntry[]>;
  /** Checks the whole chain, or one range of it linked to the entry before it. */
  verifyAudit(range?: AuditRange): Promise<AuditVerification>;

  /**
   * Makes every write so far durable (a power cut cannot undo it). The engine calls it before each
   * AWS mutation and at the end of each command; `close` calls it too.
   */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** What the store needs to find a run's records (its key ring names the lock it is written under). */
export interface RunRef {
  readonly id: string;
  readonly keyring: string;
}
