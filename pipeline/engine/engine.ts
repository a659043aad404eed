/**
 * The staged engine: opens runs, advances them stage by stage, and rolls them back. It records
 * each stage's start, every AWS mutation and each stage's end in the state store before moving on,
 * so a crash at any point leaves a run that `advance` (or `rollback`) continues from.
 */
import type { Config, KeyRingConfig } from '../config/types';
import type { Ledger } from '../ledger/types';
import type { InitiatorIdentity, Run, StageRecord, StateStore, MutationRecord } from '../state/types';
import type { AwsClients } from '../aws/clients';
import { KeyrotorError, StateError } from '../errors';
import { digestOf } from '../canonical-json';
import { callAws } from '../aws/call';
import { buildPlan, kindNeedsApprovals, newRun, newRunId } from './run-factory';
import { assertBarUnchanged, barInputs } from '../approvals/bar';
import { evidenceAuditDetail, startAuditDetail } from '../approvals/chain';
import { stageByName, type StartableKind } from './stage-lists';
import { findKeyring, loadRun } from './lookup';

export { findKeyring, loadRun } from './lookup';
import type { EngineOptions, StageContext, StageDefinition, StageOutcome } from './types';

/** Runs keep their key ring's lease this long without an `advance`; soak and approvals can take days. */
export const LEASE_TTL_MS = 30 * 24 * 3600 * 1000;

export interface EngineDeps {
  readonly config: Config;
  readonly store: StateStore;
  /** AWS clients for a key ring's account and Region. */
  readonly clientsFor: (keyring: KeyRingConfig) => AwsClients;
  /** Operator identity (recorded as initiator and actor). */
  readonly actor: string;
  /**
   * Who is starting a run, in approver terms (pipeline/approvals/initiator.ts): called by `start`
   * with the run's id and plan before anything is written; may sign the start with the operator's
   * key, and throws to refuse a run nobody could approve. Absent: the run records no identity and
   * its gate counts no approval.
   */
  readonly identifyInitiator?: (draft: { readonly runId: string; readonly plan: Run['plan']; readonly planDigest: string }) => Promise<InitiatorIdentity>;
  readonly now?: () => Date;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly progress?: (event: ProgressEvent) => void;
  readonly options?: EngineOptions;
}

export type ProgressEvent =
  | { readonly type: 'stage-start'; readonly stage: string; readonly attempt: number }
  | { readonly type: 'stage-end'; readonly stage: string; readonly status: StageRecord['status']; readonly summary: string }
  | { readonly type: 'message'; readonly stage: string; readonly message: string };

/** Thrown by crash points in tests; the engine treats it as the process dying (no state write). */
export class SimulatedCrash extends Error {
  constructor(readonly point: string) {
    super(`simulated crash at ${point}`);
    this.name = 'SimulatedCrash';
  }
}

const TERMINAL: readonly Run['status'][] = ['completed', 'rolled-back', 'cancelled'];
/** Stages that change what the alias or Identity Center uses. */
const SWITCHING_STAGES: readonly string[] = ['promote-alias', 'switch-identity-center', 'retire-alias'];
/** Stages whose effect cannot be undone by rollback. */
const IRREVERSIBLE_STAGES: readonly string[] = ['schedule-deletion'];

/** Rollback is for runs in flight: never after completion, never once deletion is scheduled. */
export function assertRollbackAllowed(run: Run): void {
  if (run.status === 'completed' || run.status === 'cancelled') {
    throw new KeyrotorError(`run ${run.id} is ${run.status}; there is nothing to roll back`, {
      fault: 'operator',
      nextStep: run.kind === 'rotate' || run.kind === 'migrate-to-aws-owned'
        ? `if the old key is pending deletion, run \`rotate cancel-deletion ${run.keyring} --key ${run.plan.oldKeyArn ?? 'ARN'}\``
        : 'start a new run if the key ring needs another change',
    });
  }
  const deletion = run.stages.find((s) => s.name === 'schedule-deletion');
  if (deletion && (deletion.status === 'done' || deletion.mutations.length > 0)) {
    throw new KeyrotorError(`run ${run.id} already scheduled the old key's deletion; rollback cannot undo that`, {
      fault: 'operator',
      nextStep: `run \`rotate cancel-deletion ${run.keyring} --key ${run.plan.oldKeyArn}\` to cancel the deletion`,
    });
  }
}


export class Engine {
  private readonly now: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly deps: EngineDeps) {
    this.now = deps.now ?? (() => new Date());
    this.sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Opens a run (taking the key ring's lease) without running any stage. */
  async start(keyringName: string, kind: StartableKind, target?: { keyArn?: string; enable?: boolean }): Promise<Run> {
    const { config, store, actor } = this.deps;
    const keyring = findKeyring(config, keyringName);
    const ledger = await store.getLedger(keyring.name);
    // Runs that delete through the gate record the bar their approvers sign for (allowed_signers contents included).
    const plan = buildPlan(kind, keyring, ledger, target, kindNeedsApprovals(kind) ? await barInputs(config, keyring) : undefined);
    const now = this.now();
    const drafted = newRun(newRunId(keyring.name, now), plan, actor, now);
    const initiatorIdentity = await this.deps.identifyInitiator?.({ runId: drafted.id, plan, planDigest: drafted.planDigest });
    const run = initiatorIdentity ? { ...drafted, initiatorIdentity } : drafted;
    await this.takeLease(keyring.name, run.id);
    // Write-ahead: the gate holds the run's initiator and plan against this entry (pipeline/approvals/chain.ts),
    // so it precedes the run; a crash between the two leaves an entry for a run that was never saved.
    await this.audit('run.start', run, startAuditDetail(run));
    this.crash('before-write:run');
    return store.putRun(run);
  }

  /**
   * Runs stages until one needs time or people, one fails, or the run completes. Returns the run
   * as saved. A stage failure is recorded on the run and rethrown.
   */
  async advance(runId: string, options: { stageLimit?: number } = {}): Promise<Run> {
    let run = await loadRun(this.deps.store, runId);
    if (TERMINAL.includes(run.status)) {
      // A crash between finishing the run and releasing its lease leaves the lease behind.
      await this.deps.store.releaseLease(run.keyring, run.id);
      return run;
    }
    if (run.stages.some((s) => s.status === 'undone')) {
      throw new KeyrotorError(`run ${run.id} is part-way through a rollback; it cannot go forward again`, {
        fault: 'operator',
        nextStep: `finish the rollback with \`rotate rollback ${run.id}\`, then start a new run`,
      });
    }
    const keyring = findKeyring(this.deps.config, run.keyring);
    // A run keeps the bar its approvers sign for: a changed config stops it (exit 2) until replanned.
    await assertBarUnchanged(run, this.deps.config, keyring);
    await this.takeLease(run.keyring, run.id);
    const executed: string[] = [];
    for (;;) {
      const index = run.stages.findIndex((s) => s.status !== 'done' && s.status !== 'skipped');
      if (index < 0) return this.complete(run);
      if (options.stageLimit !== undefined && executed.length >= options.stageLimit) return run;
      const stage = stageByName(run.kind as StartableKind, run.stages[index]!.name);
      // A rule that never bends: the switch and the deletion never happen in one step.
      if (IRREVERSIBLE_STAGES.includes(stage.name) && executed.some((name) => SWITCHING_STAGES.includes(name))) {
        this.deps.progress?.({ type: 'message', stage: stage.name, message: 'not in the same step as the switch: run `rotate advance` again' });
        return run;
      }
      executed.push(stage.name);
      const result = await this.runStage(run, keyring, stage, index);
      run = result.run;
      if (result.outcome.status === 'waiting') return run;
    }
  }

  /** Undoes completed (and failed or waiting) stages in reverse; refuses once deletion is scheduled. */
  async rollback(runId: string): Promise<Run> {
    let run = await loadRun(this.deps.store, runId);
    if (run.status === 'rolled-back') return run;
    assertRollbackAllowed(run);
    const keyring = findKeyring(this.deps.config, run.keyring);
    await this.takeLease(run.keyring, run.id);
    for (let index = run.stages.length - 1; index >= 0; index -= 1) {
      const record = run.stages[index]!;
      if (record.status === 'pending' || record.status === 'skipped' || record.status === 'undone') continue;
      const stage = stageByName(run.kind as StartableKind, record.name);
      let done = 'nothing to undo';
      const ctx = this.context(() => run, keyring, index, (r) => (run = r));
      try {
        if (stage.undo) done = await stage.undo(ctx);
      } catch (error) {
        if (error instanceof SimulatedCrash) throw error;
        const failure = describeFailure(record.name, error);
        run = await this.saveStage(run, index, { error: { message: `undo failed: ${failure.message}`, nextStep: `fix the cause, then \`rotate rollback ${run.id}\` again (undone stages are skipped)` } });
        await this.audit('stage.undo-failed', run, { stage: record.name, error: failure.message });
        throw error;
      }
      run = await this.saveStage(run, index, { status: 'undone', endedAt: this.now().toISOString(), summary: `undone: ${done}` });
      await this.audit('stage.undone', run, { stage: record.name, summary: done });
      this.deps.progress?.({ type: 'stage-end', stage: record.name, status: 'undone', summary: done });
    }
    run = await this.saveRun({ ...run, status: 'rolled-back' });
    await this.audit('run.rolled-back', run, {});
    await this.deps.store.releaseLease(run.keyring, run.id);
    return run;
  }

  private async runStage(run: Run, keyring: KeyRingConfig, stage: StageDefinition, index: number): Promise<{ run: Run; outcome: StageOutcome }> {
    const previous = run.stages[index]!;
    const attempt = previous.attempts + 1;
    let current = run;
    if (previous.status !== 'waiting' || previous.attempts === 0) {
      current = await this.saveStage(current, index, {
        status: 'running',
        attempts: attempt,
        startedAt: previous.startedAt ?? this.now().toISOString(),
        error: undefined,
      }, current.status === 'failed' || current.status === 'waiting' ? 'open' : undefined);
    } else {
      current = await this.saveStage(current, index, { attempts: attempt });
    }
    this.deps.progress?.({ type: 'stage-start', stage: stage.name, attempt });
    const ctx = this.context(() => current, keyring, index, (r) => (current = r));
    let outcome: StageOutcome;
    try {
      outcome = await stage.run(ctx);
      if (outcome.status === 'done') await stage.verify(ctx);
    } catch (error) {
      if (error instanceof SimulatedCrash) throw error;
      const failure = describeFailure(stage.name, error);
      current = await this.saveStage(current, index, { status: 'failed', endedAt: this.now().toISOString(), error: failure }, 'failed');
      await this.audit('stage.failed', current, { stage: stage.name, error: failure.message });
      this.deps.progress?.({ type: 'stage-end', stage: stage.name, status: 'failed', summary: failure.message });
      throw error;
    }
    const endedAt = this.now().toISOString();
    if (outcome.status === 'waiting') {
      const firstWait = previous.status !== 'waiting';
      current = await this.saveStage(current, index, { status: 'waiting', summary: outcome.summary, outputs: merge(current.stages[index]!.outputs, outcome.outputs) }, 'waiting');
      if (firstWait) await this.audit('stage.waiting', current, { stage: stage.name, summary: outcome.summary });
    } else {
      const outputs = outcome.status === 'done' ? merge(current.stages[index]!.outputs, outcome.outputs) : current.stages[index]!.outputs;
      current = await this.saveStage(current, index, { status: outcome.status, endedAt, summary: outcome.summary, outputs }, 'open');
      await this.audit(`stage.${outcome.status}`, current, { stage: stage.name, summary: outcome.summary });
    }
    this.deps.progress?.({ type: 'stage-end', stage: stage.name, status: current.stages[index]!.status, summary: outcome.summary });
    return { run: current, outcome };
  }

  private async complete(run: Run): Promise<Run> {
    if (run.status === 'completed') return run;
    const saved = await this.saveRun({ ...run, status: 'completed' });
    await this.audit('run.completed', saved, {});
    this.crash('before-write:lease');
    await this.deps.store.releaseLease(saved.keyring, saved.id);
    return saved;
  }

  private context(get: () => Run, keyring: KeyRingConfig, index: number, set: (run: Run) => void): StageContext {
    const { config, store, actor } = this.deps;
    const stageName = () => get().stages[index]!.name;
    const ctx: StageContext = {
      config,
      keyring,
      clients: this.deps.clientsFor(keyring),
      store,
      actor,
      options: this.deps.options ?? {},
      now: this.now,
      sleep: this.sleep,
      run: get,
      record: () => get().stages[index]!,
      ledger: async () => (await store.getLedger(keyring.name)) ?? emptyLedger(keyring.name, this.now()),
      mutate: async (operation, target, call, detail) => {
        const result = await callAws(operation, { target }, call);
        this.crash(`after:${operation}`);
        const mutation: MutationRecord = { operation, target, at: this.now().toISOString(), ...(detail ? { detail } : {}) };
        const record = get().stages[index]!;
        set(await this.saveStage(get(), index, { mutations: [...record.mutations, mutation] }));
        await this.audit(operation, get(), { stage: stageName(), target, ...(detail ?? {}) });
        return result;
      },
      saveOutputs: async (outputs) => {
        set(await this.saveStage(get(), index, { outputs: merge(get().stages[index]!.outputs, outputs) }));
      },
      updateLedger: async (change) => {
        const before = (await store.getLedger(keyring.name)) ?? emptyLedger(keyring.name, this.now());
        const after = change(before);
        if (after === before) return before;
        this.crash('before-write:ledger');
        const saved = await store.putLedger({ ...after, version: before.version, updatedAt: this.now().toISOString() });
        await this.audit('ledger.update', get(), { stage: stageName(), generations: saved.generations.map((g) => `${g.generation}:${g.state}`).join(',') });
        return saved;
      },
      updateRun: async (change) => {
        const next = change(get());
        if (next === get()) return next;
        const withDigest = next.plan === get().plan ? next : { ...next, planDigest: digestOf(next.plan) };
        // What the gate reads goes through the audit chain first (write-ahead): a resume redoes both.
        if (withDigest.planDigest !== get().planDigest) await this.audit('run.plan', withDigest, { stage: stageName(), planDigest: withDigest.planDigest });
        if (withDigest.evidenceDigest !== get().evidenceDigest) {
          await this.audit('run.evidence', withDigest, { stage: stageName(), ...evidenceAuditDetail(withDigest) });
        }
        set(await this.saveRun(withDigest));
        return get();
      },
      progress: (message) => this.deps.progress?.({ type: 'message', stage: stageName(), message }),
    };
    return ctx;
  }

  private async saveStage(run: Run, index: number, patch: Partial<StageRecord>, status?: Run['status']): Promise<Run> {
    const stages = run.stages.map((s, i) => (i === index ? withoutUndefined({ ...s, ...patch }) : s));
    return this.saveRun({ ...run, stages, ...(status ? { status } : {}) });
  }

  private async saveRun(run: Run): Promise<Run> {
    this.crash('before-write:run');
    return this.deps.store.putRun({ ...run, updatedAt: this.now().toISOString() });
  }

  private async audit(action: string, run: Run, detail: Record<string, unknown>): Promise<void> {
    this.crash('before-write:audit');
    await this.deps.store.appendAudit({ actor: this.deps.actor, action, keyring: run.keyring, runId: run.id, detail: withoutUndefined(detail), at: this.now().toISOString() });
  }

  /** One open run per key ring; a lease left by a run that was never saved (crash at start) is taken over. */
  private async takeLease(keyring: string, runId: string): Promise<void> {
    const { store, actor } = this.deps;
    try {
      this.crash('before-write:lease');
      await store.acquireLease(keyring, runId, actor, LEASE_TTL_MS);
    } catch (error) {
      const lease = await store.getLease(keyring);
      if (!(error instanceof StateError) || !lease || lease.runId === runId) throw error;
      const holder = await store.getRun(lease.runId);
      if (holder && !TERMINAL.includes(holder.status)) {
        throw new KeyrotorError(`key ring ${keyring} already has an open run ${holder.id} (${holder.status}, started by ${holder.initiator})`, {
          fault: 'operator',
          nextStep: `finish it with \`rotate advance ${holder.id}\` or undo it with \`rotate rollback ${holder.id}\``,
          cause: error,
        });
      }
      await store.releaseLease(keyring, lease.runId);
      await store.acquireLease(keyring, runId, actor, LEASE_TTL_MS);
    }
  }

  private crash(point: string): void {
    this.deps.options?.crashPoints?.hit(point);
  }
}

function emptyLedger(keyring: string, now: Date): Ledger {
  return { keyring, version: 0, generations: [], updatedAt: now.toISOString() };
}

function merge(a: Readonly<Record<string, unknown>> | undefined, b: Readonly<Record<string, unknown>> | undefined): Readonly<Record<string, unknown>> | undefined {
  if (!a) return b;
  if (!b) return a;
  return { ...a, ...b };
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function describeFailure(stage: string, error: unknown): { message: string; nextStep?: string } {
  if (error instanceof KeyrotorError) return { message: error.message, nextStep: error.nextStep };
  return { message: `stage ${stage}: ${error instanceof Error ? error.message : String(error)}` };
}
