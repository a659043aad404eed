/**
 * The contract between the engine and its stages. A stage is three functions — `run` (idempotent:
 * it first checks whether its work is already done, the Secrets Manager rotation pattern),
 * `verify` (reads back from AWS) and `undo` (for rollback) — and never writes state itself except
 * through the context, so the engine records every intent, call and outcome before it moves on.
 * Stage modules are loaded lazily from the catalog in stage-lists.ts, which also holds each
 * stage's description, so listing a plan loads no AWS SDK.
 */
import type { Config, KeyRingConfig } from '../config/types';
import type { Ledger } from '../ledger/types';
import type { Run, StageRecord, StateStore } from '../state/types';
import type { AwsClients } from '../aws/clients';

/** What a waiting stage waits for: the clock (soak) or people (approvals, a deletion confirmation). */
export type WaitingFor = 'time' | 'people';

export type StageOutcome =
  /** The stage's work is complete (or was already complete). */
  | { readonly status: 'done'; readonly summary: string; readonly outputs?: Readonly<Record<string, unknown>> }
  /** The stage needs time or people; `advance` stops here and says what it waits for. */
  | {
      readonly status: 'waiting';
      readonly waitingFor: WaitingFor;
      readonly summary: string;
      readonly nextStep: string;
      readonly outputs?: Readonly<Record<string, unknown>>;
    }
  /** Nothing to do for this key ring (e.g. no Identity Center attachment). */
  | { readonly status: 'skipped'; readonly summary: string };

/** Points where the crash-safety tests inject a failure: before and after an AWS call, before a state write. */
export interface CrashPoints {
  hit(point: string): void;
}

export interface StageContext {
  readonly config: Config;
  readonly keyring: KeyRingConfig;
  readonly clients: AwsClients;
  /**
   * Clients for the key ring's account in `region` (a multi-Region key ring's replica Regions);
   * `clients` for the key ring's own Region. Throws an internal error when the engine was given no
   * way to reach other Regions (EngineDeps.clientsForRegion).
   */
  clientsIn(region: string): AwsClients;
  readonly store: StateStore;
  /** Who is acting (recorded in the audit log). */
  readonly actor: string;
  now(): Date;
  /** The run as last saved. */
  run(): Run;
  /** This stage's record as last saved (attempts > 1 means a resume after a crash or failure). */
  record(): StageRecord;
  /** The key ring's ledger as last saved. */
  ledger(): Promise<Ledger>;
  /**
   * Performs one AWS mutation, written ahead: the intent is recorded (run + audit) before the call
   * is sent, and the outcome after AWS answered, so a crash at any point leaves a record that a
   * resume reconciles by reading AWS. `call` must be a single AWS request; `describe` turns its
   * answer into the facts worth keeping (e.g. the created key's ARN).
   */
  mutate<T>(
    operation: string,
    target: string,
    call: () => Promise<T>,
    detail?: Record<string, string>,
    describe?: (result: T) => Record<string, string>,
  ): Promise<T>;
  /** Saves stage outputs (e.g. the new key ARN) durably, before the stage goes on. */
  saveOutputs(outputs: Readonly<Record<string, unknown>>): Promise<void>;
  /** Conditional ledger update; `change` receives the freshest ledger and returns the next one (or the same to skip). */
  updateLedger(change: (ledger: Ledger) => Ledger): Promise<Ledger>;
  /** Updates run-level fields the stage owns (plan.newKeyArn, evidence). */
  updateRun(change: (run: Run) => Run): Promise<Run>;
  /** Progress line for the operator. */
  progress(message: string): void;
  /** Sleep (injectable so tests and polling never busy-wait); rejects when the command is interrupted. */
  sleep(ms: number): Promise<void>;
  /** Options that tune the run without changing its meaning. */
  readonly options: EngineOptions;
}

export interface StageDefinition {
  readonly name: string;
  run(ctx: StageContext): Promise<StageOutcome>;
  /** Reads back from AWS that the stage's effect holds; throws StageError when it does not. */
  verify(ctx: StageContext): Promise<void>;
  /** Reverses the stage's effect (rollback); returns what it did. Absent → nothing to undo. */
  undo?(ctx: StageContext): Promise<string>;
}

/** A stage as the catalog knows it: enough to plan and print without loading its module. */
export interface StageCatalogEntry {
  readonly name: string;
  /** One line for `rotate plan` and `rotate status`. */
  readonly description: string;
  /** Whether rollback has anything to undo for this stage. */
  readonly undoable: boolean;
  load(): Promise<StageDefinition>;
}

export interface EngineOptions {
  /** Identity Center poll overrides (tests, demo): shortest and longest wait (ms), overall timeout; defaults in pipeline/identity-center/poll-schedule.ts. */
  readonly poll?: { readonly initialMs?: number; readonly maxMs?: number; readonly timeoutMs?: number };
  /**
   * The approvals directory the gate reads (`rotate approve` writes `<dir>/<run id>/<fingerprint>.json`),
   * as `approvalsDirFor` resolves it: --approvals-dir, $KEYROTOR_APPROVALS_DIR, else approvals/ beside the config.
   */
  readonly extraApprovalsDir?: string;
  readonly crashPoints?: CrashPoints;
  /** Execution-lock lifetime without a heartbeat (default 2 min; renewed every third of it). */
  readonly lockTtlMs?: number;
}
