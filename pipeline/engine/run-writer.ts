/**
 * The engine's record keeping for one command acting on one run: the run as last saved, and the
 * only path by which the run, its key ring's ledger and the audit chain are written while the
 * command holds the run's execution lock. Every write carries the lock as its fence, so a process
 * that lost the run (paused past the lock's expiry, then taken over) changes nothing more.
 */
import type { AwsClients } from '../aws/clients';
import type { Config, KeyRingConfig } from '../config/types';
import { InterruptedError } from '../errors';
import type { Ledger } from '../ledger/types';
import type { Run, RunLock, StageRecord, StateStore } from '../state/types';
import type { CrashPoints } from './types';

export interface RunWriterDeps {
  readonly config: Config;
  readonly store: StateStore;
  readonly clientsFor: (keyring: KeyRingConfig) => AwsClients;
  readonly actor: string;
  readonly now: () => Date;
  /** The execution lock writes are fenced with; undefined only before a run exists (start). */
  readonly fence: () => RunLock | undefined;
  /** Proves the execution lock is still held right before an AWS call (Execution.confirm); absent before a run exists. */
  readonly confirmFence?: (now: Date) => Promise<void>;
  readonly crashPoints?: CrashPoints;
  readonly signal?: AbortSignal;
}

export class RunWriter {
  readonly config: Config;
  readonly store: StateStore;
  readonly actor: string;
  readonly clientsFor: (keyring: KeyRingConfig) => AwsClients;
  private current: Run;

  constructor(
    private readonly deps: RunWriterDeps,
    run: Run,
  ) {
    this.config = deps.config;
    this.store = deps.store;
    this.actor = deps.actor;
    this.clientsFor = deps.clientsFor;
    this.current = run;
  }

  now(): Date {
    return this.deps.now();
  }

  run(): Run {
    return this.current;
  }

  async saveRun(run: Run): Promise<Run> {
    this.crash('before-write:run');
    this.current = await this.store.putRun({ ...run, updatedAt: this.now().toISOString() }, this.deps.fence());
    return this.current;
  }

  /** Patches one stage record (and optionally the run's status); `undefined` fields are removed. */
  async saveStage(index: number, patch: Partial<StageRecord>, status?: Run['status']): Promise<Run> {
    this.patchStage(index, patch, status);
    return this.saveRun(this.current);
  }

  /**
   * Patches one stage record in memory only: it is written with the run's next write, which every
   * stage makes (its first intent, its outputs, or its end). A stage's "running" mark costs no
   * write of its own this way; a crash before that next write leaves the stage as it was on disk,
   * and the resume runs it again, exactly as it would a stage marked running.
   */
  patchStage(index: number, patch: Partial<StageRecord>, status?: Run['status']): void {
    const stages = this.current.stages.map((s, i) => (i === index ? withoutUndefined({ ...s, ...patch }) : s));
    this.current = { ...this.current, stages, ...(status ? { status } : {}) };
  }

  async audit(action: string, detail: Record<string, unknown>): Promise<void> {
    this.crash('before-write:audit');
    await this.store.appendAudit({
      actor: this.actor,
      action,
      keyring: this.current.keyring,
      runId: this.current.id,
      detail: withoutUndefined(detail),
      at: this.now().toISOString(),
    });
  }

  async ledger(keyring: string): Promise<Ledger> {
    return (await this.store.getLedger(keyring)) ?? emptyLedger(keyring, this.now());
  }

  /** Conditional, fenced ledger update; `change` returning the same object writes nothing. */
  async updateLedger(keyring: string, change: (ledger: Ledger) => Ledger, stage: string): Promise<Ledger> {
    const before = await this.ledger(keyring);
    const after = change(before);
    if (after === before) return before;
    this.crash('before-write:ledger');
    const saved = await this.store.putLedger({ ...after, version: before.version, updatedAt: this.now().toISOString() }, this.deps.fence());
    await this.audit('ledger.update', { stage, generations: saved.generations.map((g) => `${g.generation}:${g.state}`).join(','), identityCenter: describeTarget(saved) });
    return saved;
  }

  /** Right before an AWS call: this process still holds the run (see Execution.confirm). */
  async confirmFence(): Promise<void> {
    await this.deps.confirmFence?.(this.now());
  }

  crash(point: string): void {
    this.deps.crashPoints?.hit(point);
  }

  /** Stops between steps when the operator pressed Ctrl-C; the run is left at a recorded point. */
  checkInterrupted(where: string): void {
    if (this.deps.signal?.aborted) throw new InterruptedError(this.current.id, where);
  }
}

function describeTarget(ledger: Ledger): string | undefined {
  const target = ledger.identityCenter;
  if (!target) return undefined;
  return target.keyType === 'CUSTOMER_MANAGED_KEY' ? target.kmsKeyArn : target.keyType;
}

export function emptyLedger(keyring: string, now: Date): Ledger {
  return { keyring, version: 0, generations: [], updatedAt: now.toISOString() };
}

export function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
