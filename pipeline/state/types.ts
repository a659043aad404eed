/**
 * Durable state: ledgers, runs and the audit log, behind one interface with two implementations
 * (file store: default, embedded; DynamoDB store: teams). Every write is conditional on the
 * version the caller read, so two operators can never silently overwrite each other.
 */
import type { Ledger } from '../ledger/types';

export type RunKind = 'rotate' | 'migrate-to-cmk' | 'migrate-to-aws-owned' | 'rollback' | 'cancel-deletion' | 'adopt' | 'retire-key';

export type RunStatus =
  | 'open' // stages remain
  | 'waiting' // a stage waits for time (soak) or people (approvals)
  | 'failed' // a stage failed; `advance` retries it or `rollback` undoes
  | 'completed'
  | 'rolled-back'
  | 'cancelled';

export type StageStatus = 'pending' | 'running' | 'waiting' | 'done' | 'failed' | 'undone' | 'skipped';

/** One AWS mutation a stage made, recorded before the stage moves on (for status, audit, undo). */
export interface MutationRecord {
  readonly operation: string; // e.g. "kms:CreateKey"
  readonly target: string; // key ARN, alias name, instance ARN
  readonly at: string;
  readonly detail?: Readonly<Record<string, string>>;
}

export interface StageRecord {
  readonly name: string;
  readonly status: StageStatus;
  readonly startedAt?: string;
  readonly endedAt?: string;
  readonly attempts: number;
  readonly mutations: readonly MutationRecord[];
  /** Human summary of what the stage did or waits for. */
  readonly summary?: string;
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
  readonly stages: readonly string[];
  /** cancel-deletion only: EnableKey after CancelKeyDeletion (otherwise the key stays Disabled). */
  readonly enableAfterCancel?: boolean;
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
  readonly initiator: string; // caller ARN (STS) or operator identity
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

export interface StateStore {
  /** Human description for messages, e.g. "file store at ./state". */
  readonly description: string;

  getLedger(keyring: string): Promise<Ledger | undefined>;
  /** Writes if the stored version equals `ledger.version` (0 = must not exist); returns the stored ledger with version+1. */
  putLedger(ledger: Ledger): Promise<Ledger>;
  listLedgers(): Promise<Ledger[]>;

  getRun(id: string): Promise<Run | undefined>;
  /** Same conditional-write rule as putLedger. */
  putRun(run: Run): Promise<Run>;
  listRuns(filter?: { keyring?: string; open?: boolean }): Promise<Run[]>;

  /**
   * One open run per key ring. Succeeds if the lease is free, expired, or already held by this run;
   * otherwise throws StateError naming the holder and the run.
   */
  acquireLease(keyring: string, runId: string, holder: string, ttlMs: number): Promise<Lease>;
  releaseLease(keyring: string, runId: string): Promise<void>;
  getLease(keyring: string): Promise<Lease | undefined>;

  appendAudit(entry: NewAuditEntry): Promise<AuditEntry>;
  readAudit(): Promise<AuditEntry[]>;
  verifyAudit(): Promise<AuditVerification>;

  close(): Promise<void>;
}
