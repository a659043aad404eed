/**
 * The staged engine: the one owner of a run's lifecycle. It opens runs, advances them stage by
 * stage, rolls them back and cancels them. Stages declare the work; the engine holds the run's
 * fenced execution lock while it acts, records each stage's start and end, every AWS intent and
 * outcome (written ahead), reconciles unfinished intents on resume, and emits the events that the
 * views (live, plain, JSON) draw. A crash at any point leaves a run that `advance` (or `rollback`)
 * continues from.
 */
import type { AwsClients } from '../aws/clients';
import type { Config, KeyRingConfig } from '../config/types';
import { FenceLostError, InterruptedError, KeyrotorError, KeyringBusyError, RunBusyError, StageError, StateError } from '../errors';
import type { InitiatorIdentity, MutationOutcome, Run, RunLock, StageRecord, StageStatus, StateStore } from '../state/types';
import { assertBarUnchanged, barInputs } from '../approvals/bar';
import { startAuditDetail } from '../approvals/chain';
import type { ReplanResult } from '../approvals/replan';
import { isOpenRun } from '../state/store-rules';
import { SimulatedCrash } from './crash';
import { DEFAULT_LOCK_TTL_MS, thisProcessIdentity, withExecutionLock, type ExecutionIdentity } from './execution';
import { findKeyring, findKeyringOfRun, loadRun } from './lookup';
import { buildPlan, kindNeedsApprovals, newRun, newRunId } from './run-factory';
import { RunWriter } from './run-writer';
import { buildStageContext } from './stage-context';
import { DELETION_STAGE, SWITCHING_STAGES, isStartableKind, stageEntry, type StartableKind } from './stage-lists';
import { resolveTarget, type TargetSelector } from './targets';
import type { EngineOptions, StageCatalogEntry, StageContext, StageOutcome, WaitingFor } from './types';

export { findKeyring, loadRun } from './lookup';
export { SimulatedCrash } from './crash';

/** Runs keep their key ring's lease this long without an `advance`; soak and approvals can take days. */
export const LEASE_TTL_MS = 30 * 24 * 3600 * 1000;

export interface EngineDeps {
  readonly config: Config;
  readonly store: StateStore;
  /** AWS clients for a key ring's account and Region. */
  readonly clientsFor: (keyring: KeyRingConfig) => AwsClients;
  /**
   * AWS clients for a key ring's account in another Region (the replica Regions of a multi-Region
   * key ring, `ctx.clientsIn`). Absent: single-Region key rings only.
   */
  readonly clientsForRegion?: (keyring: KeyRingConfig, region: string) => AwsClients;
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
  /** This process, as execution locks name it. Default: this host and pid (tests give each engine its own). */
  readonly identity?: ExecutionIdentity;
  /** Aborted by Ctrl-C: the engine stops at the next recorded point. */
  readonly signal?: AbortSignal;
}

/** Why `advance` returned. */
export type StopReason =
  | 'completed'
  | 'waiting-time'
  | 'waiting-people'
  | 'ready-to-delete'
  | 'not-with-switch'
  | 'stage-limit'
  | 'rolled-back'
  | 'cancelled';

export type ProgressEvent =
  /** `resumed`: work a crash or failure interrupted is continued; `recheck`: a waiting stage (soak, gate) is looked at again. */
  | { readonly type: 'stage-start'; readonly stage: string; readonly attempt: number; readonly resumed: boolean; readonly recheck: boolean }
  | { readonly type: 'stage-end'; readonly stage: string; readonly status: StageStatus; readonly summary: string; readonly waitingFor?: WaitingFor }
  | { readonly type: 'message'; readonly stage: string; readonly message: string }
  | { readonly type: 'call'; readonly stage: string; readonly operation: string; readonly target: string; readonly phase: 'intent' | 'ok' | 'failed' | 'reconciled'; readonly note?: string }
  | { readonly type: 'stopped'; readonly reason: StopReason; readonly message: string; readonly nextStep?: string };

const TERMINAL: readonly Run['status'][] = ['completed', 'rolled-back', 'cancelled'];

export function isTerminal(run: Pick<Run, 'status'>): boolean {
  return TERMINAL.includes(run.status);
}

/**
 * A key ring renamed in the config while the state still tracks it under its old name would get a
 * second lease and a second run on the same alias or Identity Center instance: refused, naming it.
 */
async function assertNotRenamed(config: Config, store: StateStore, keyring: KeyRingConfig): Promise<void> {
  const { renamedFrom, describeUndeclared, UNDECLARED_NEXT_STEP, undeclaredKeyrings } = await import('../runs/undeclared');
  const old = renamedFrom(keyring, await undeclaredKeyrings(config, store, { ledgersFirst: true }));
  if (!old) return;
  throw new KeyrotorError(`key ring ${keyring.name} looks like ${old.name} renamed (the same alias ${keyring.alias} in ${keyring.account}/${keyring.region}, or the same Identity Center instance): ${describeUndeclared(old)}`, {
    fault: 'operator',
    nextStep: UNDECLARED_NEXT_STEP,
  });
}

/** Rollback is for runs in flight: never after completion, never once deletion is scheduled. */
export function assertRollbackAllowed(run: Run): void {
  if (run.status === 'completed' || run.status === 'cancelled') {
    throw new KeyrotorError(`run ${run.id} is ${run.status}; there is nothing to roll back`, {
      fault: 'operator',
      nextStep:
        run.status === 'completed' && run.plan.oldKeyArn && (run.kind === 'rotate' || run.kind === 'migrate-to-aws-owned' || run.kind === 'retire-key')
          ? `if the old key is pending deletion, run \`rotate cancel-deletion ${run.keyring} --key ${run.plan.oldKeyArn}\``
          : `start a new run if the key ring needs another change (\`rotate plan ${run.keyring}\`)`,
    });
  }
  const deletion = run.stages.find((s) => s.name === DELETION_STAGE);
  if (deletion && (deletion.status === 'done' || deletion.mutations.length > 0)) {
    throw new KeyrotorError(`run ${run.id} already scheduled the old key's deletion; rollback cannot undo that`, {
      fault: 'operator',
      nextStep: `run \`rotate cancel-deletion ${run.keyring} --key ${run.plan.oldKeyArn ?? 'ARN'}\` to cancel the deletion`,
    });
  }
}

/** A stage that waits without having run (the deletion stage before `rotate delete`) did nothing; rollback skips it (and `rollback --dry-run` lists the rest). */
export function didWork(record: StageRecord): boolean {
  return !(record.status === 'pending' || record.status === 'skipped' || record.status === 'undone' || (record.status === 'waiting' && record.attempts === 0));
}

export class Engine {
  private readonly now: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly identity: ExecutionIdentity;
  private readonly lockTtlMs: number;

  constructor(private readonly deps: EngineDeps) {
    this.now = deps.now ?? (() => new Date());
    const baseSleep = deps.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    this.sleep = (ms) => interruptible(baseSleep(ms), deps.signal);
    this.identity = deps.identity ?? thisProcessIdentity();
    this.lockTtlMs = deps.options?.lockTtlMs ?? DEFAULT_LOCK_TTL_MS;
  }

  /**
   * Opens a run (stored first, then its key ring's lease) without running any stage. Targets
   * (`--key`/`--generation`) are validated before anything is written; a run that loses the race
   * for the lease is ended at once and the error names the run that holds the key ring.
   */
  async start(keyringName: string, kind: StartableKind, selector: TargetSelector = {}): Promise<Run> {
    const { store, actor } = this.deps;
    const { keyring, run: drafted } = await this.draft(keyringName, kind, selector);
    const plan = drafted.plan;
    const initiatorIdentity = await this.deps.identifyInitiator?.({ runId: drafted.id, plan, planDigest: drafted.planDigest });
    const run = initiatorIdentity ? { ...drafted, initiatorIdentity } : drafted;
    const writer = this.writer(run, () => undefined);
    // Write-ahead: the gate holds the run's initiator and plan against this entry
    // (pipeline/approvals/chain.ts), so it precedes the run.
    await writer.audit('run.start', startAuditDetail(run));
    writer.crash('before-write:run');
    const saved = await store.putRun(run);
    try {
      writer.crash('before-write:lease');
      await store.acquireLease(keyring.name, saved.id, actor, LEASE_TTL_MS);
    } catch (error) {
      if (error instanceof SimulatedCrash || !(error instanceof StateError)) throw error;
      const busy = await this.keyringBusyError(keyring.name, error);
      await store.putRun({ ...saved, status: 'cancelled', endReason: `not opened: ${busy.message}`, updatedAt: this.now().toISOString() });
      await writer.audit('run.cancelled', { reason: 'lost the key ring lease to another run' });
      throw busy;
    }
    await store.sync();
    return saved;
  }

  /**
   * Performs every read-only check `start` and its preflight would, and changes nothing: the plan
   * it would store and preflight's findings (or its refusal).
   */
  async dryRun(keyringName: string, kind: StartableKind, selector: TargetSelector = {}): Promise<{ run: Run; preflight: string }> {
    const { config, store, actor } = this.deps;
    const { keyring, run } = await this.draft(keyringName, kind, selector);
    const readOnly: StateStore = readOnlyStore(store);
    const writer = new RunWriter({ config, store: readOnly, clientsFor: this.deps.clientsFor, actor, now: this.now, fence: () => undefined }, run);
    const entry = stageEntry(kind, run.stages[0]!.name);
    const stage = await entry.load();
    const outcome = await stage.run(this.context(writer, keyring, 0));
    return { run, preflight: outcome.summary };
  }

  /**
   * Runs stages until one needs time or people, one fails, or the run completes. The deletion
   * stage runs only with `allowDeletion` (`rotate delete`), never in the same call that switched
   * the alias or Identity Center. Returns the run as saved; a stage failure is recorded and rethrown.
   */
  async advance(runId: string, options: { stageLimit?: number; allowDeletion?: boolean } = {}): Promise<Run> {
    const initial = await loadRun(this.deps.store, runId);
    if (isTerminal(initial)) {
      // A crash between finishing the run and releasing its lease (or its execution lock) leaves
      // them behind: tidy both (taking a dead holder's lock over releases it).
      if (await this.deps.store.getRunLock(initial)) await this.act(initial, 'advance', async () => undefined);
      await this.deps.store.releaseLease(initial.keyring, initial.id);
      this.stoppedEnded(initial);
      return initial;
    }
    assertNotRollingBack(initial);
    const keyring = findKeyringOfRun(this.deps.config, initial);
    return this.act(initial, 'advance', async (writer) => {
      if (isTerminal(writer.run())) {
        await this.deps.store.releaseLease(initial.keyring, initial.id);
        this.stoppedEnded(writer.run());
        return writer.run();
      }
      assertNotRollingBack(writer.run());
      // A run keeps the bar its approvers sign for: a changed config stops it (exit 2) until replanned.
      await assertBarUnchanged(writer.run(), this.deps.config, keyring);
      // The key ring's ledger is read (and validated) before anything acts, even when the next
      // stage would not need it: a hand-edited ledger stops every command, not only some.
      await this.deps.store.getLedger(keyring.name);
      await this.holdLease(writer.run());
      const executed: string[] = [];
      for (;;) {
        const run = writer.run();
        const index = run.stages.findIndex((s) => s.status !== 'done' && s.status !== 'skipped');
        if (index < 0) return this.complete(writer);
        if (options.stageLimit !== undefined && executed.length >= options.stageLimit) {
          this.stopped('stage-limit', `stopped after ${executed.length} stage(s) as asked`, `rotate advance ${run.id}`);
          return run;
        }
        const entry = stageEntry(kindOf(run), run.stages[index]!.name);
        if (entry.name === DELETION_STAGE) {
          // Rules that never bend: the switch and the deletion never happen in one step, and the
          // deletion happens only when someone asks for it by name.
          if (executed.some((name) => SWITCHING_STAGES.includes(name))) {
            this.stopped('not-with-switch', 'the deletion never runs in the same step as the switch', `rotate advance ${run.id}`);
            return run;
          }
          if (!options.allowDeletion) return this.readyToDelete(writer, index);
        }
        writer.checkInterrupted(`before stage ${entry.name}`);
        executed.push(entry.name);
        const outcome = await this.runStage(writer, keyring, entry, index);
        if (outcome.status === 'waiting') return writer.run();
      }
    });
  }

  /** Undoes completed (and failed or waiting) stages in reverse; refuses once deletion is scheduled. */
  async rollback(runId: string): Promise<Run> {
    const initial = await loadRun(this.deps.store, runId);
    if (initial.status === 'rolled-back') return initial;
    assertRollbackAllowed(initial);
    const keyring = findKeyringOfRun(this.deps.config, initial);
    return this.act(initial, 'rollback', async (writer) => {
      if (writer.run().status === 'rolled-back') return writer.run();
      assertRollbackAllowed(writer.run());
      // The key ring's ledger is read (and validated) before anything acts, even when the next
      // stage would not need it: a hand-edited ledger stops every command, not only some.
      await this.deps.store.getLedger(keyring.name);
      await this.holdLease(writer.run());
      for (let index = writer.run().stages.length - 1; index >= 0; index -= 1) {
        const record = writer.run().stages[index]!;
        if (!didWork(record)) continue;
        const entry = stageEntry(kindOf(writer.run()), record.name);
        writer.checkInterrupted(`before undoing stage ${record.name}`);
        const stage = await entry.load();
        const ctx = this.context(writer, keyring, index);
        let done = 'nothing to undo';
        try {
          await this.reconcile(writer, ctx, index);
          if (stage.undo) done = await stage.undo(ctx);
        } catch (error) {
          if (error instanceof SimulatedCrash || error instanceof InterruptedError || error instanceof FenceLostError) throw error;
          const failure = concreteFailure(record.name, error, `rotate rollback ${writer.run().id}`);
          await writer.saveStage(index, { error: { message: `undo failed: ${failure.message}`, nextStep: failure.nextStep } });
          await writer.audit('stage.undo-failed', { stage: record.name, error: failure.message });
          this.emit({ type: 'stage-end', stage: record.name, status: 'failed', summary: `undo failed: ${failure.message}` });
          throw failure;
        }
        await writer.saveStage(index, { status: 'undone', endedAt: this.now().toISOString(), summary: `undone: ${done}`, error: undefined });
        await writer.audit('stage.undone', { stage: record.name, summary: done });
        this.emit({ type: 'stage-end', stage: record.name, status: 'undone', summary: done });
      }
      await writer.saveRun({ ...writer.run(), status: 'rolled-back' });
      await writer.audit('run.rolled-back', {});
      writer.crash('before-write:lease');
      await this.deps.store.releaseLease(writer.run().keyring, writer.run().id);
      this.stopped('rolled-back', 'every completed stage was undone', undefined);
      return writer.run();
    });
  }

  /**
   * Re-binds an open run to the current config's approval bar (`rotate replan`), under the run's
   * execution lock: the chain records the new plan digest first, then the run. Earlier approvals
   * become stale.
   */
  async replan(runId: string): Promise<ReplanResult> {
    const initial = await loadRun(this.deps.store, runId);
    const keyring = findKeyringOfRun(this.deps.config, initial);
    return this.act(initial, 'replan', async (writer) => {
      const { planReplan } = await import('../approvals/replan');
      const result = await planReplan(this.deps.config, keyring, writer.run());
      if (result.changes.length === 0) return result;
      await writer.audit('run.replan', {
        planDigest: result.run.planDigest,
        previousPlanDigest: writer.run().planDigest,
        changes: result.changes.map((c) => `${c.field}: ${c.signed} -> ${c.current}`),
        reopened: result.reopened,
      });
      await writer.saveRun(result.run);
      return { ...result, run: writer.run() };
    });
  }

  /** Abandons a run that has changed nothing in AWS (its lease is released); anything else must roll back. */
  async cancel(runId: string, reason = 'cancelled by the operator'): Promise<Run> {
    const initial = await loadRun(this.deps.store, runId);
    if (initial.status === 'cancelled') return initial;
    return this.act(initial, 'cancel', async (writer) => {
      const run = writer.run();
      if (run.status === 'cancelled') return run;
      if (isTerminal(run)) {
        throw new KeyrotorError(`run ${run.id} is ${run.status}; only an open run can be cancelled`, { fault: 'operator', nextStep: `\`rotate status ${run.id}\`` });
      }
      const changed = run.stages.flatMap((s) => s.mutations.map((m) => `${s.name}: ${m.operation} ${m.target}`));
      if (changed.length > 0) {
        throw new KeyrotorError(`run ${run.id} has already changed AWS (${changed.join('; ')}), so it cannot simply be cancelled`, {
          fault: 'operator',
          nextStep: `undo its changes with \`rotate rollback ${run.id}\``,
        });
      }
      const stages = run.stages.map((s) => (s.status === 'pending' ? s : { ...s, status: 'skipped' as const }));
      await writer.saveRun({ ...run, stages, status: 'cancelled', endReason: reason });
      await writer.audit('run.cancelled', { reason });
      await this.deps.store.releaseLease(run.keyring, run.id);
      this.stopped('cancelled', reason, undefined);
      return writer.run();
    });
  }

  // ---- internals -------------------------------------------------------------------------

  /**
   * The run `start` would store, and every check made before anything is written: the key ring,
   * the target, the plan (with the approval bar for kinds with a gate) and a free key ring.
   */
  private async draft(keyringName: string, kind: StartableKind, selector: TargetSelector): Promise<{ keyring: KeyRingConfig; run: Run }> {
    const { config, store, actor } = this.deps;
    const keyring = findKeyring(config, keyringName);
    await assertNotRenamed(config, store, keyring);
    const ledger = await store.getLedger(keyring.name);
    const target = resolveTarget(kind, keyring, ledger, selector);
    // Runs that delete through the gate record the bar their approvers sign for (allowed_signers contents included).
    const plan = buildPlan(kind, keyring, ledger, target, kindNeedsApprovals(kind) ? await barInputs(config, keyring) : undefined);
    await this.assertKeyringFree(keyring.name);
    const now = this.now();
    return { keyring, run: newRun(newRunId(keyring.name, now), plan, actor, now) };
  }

  /** Runs `body` holding the run's execution lock, with a writer fenced by it. */
  private async act<T>(run: Run, command: string, body: (writer: RunWriter) => Promise<T>): Promise<T> {
    return withExecutionLock(this.deps.store, run, { identity: this.identity, actor: this.deps.actor, command }, this.lockTtlMs, async (execution) => {
      // Read again under the lock: the run may have moved since the unlocked look.
      const writer = this.writer(await loadRun(this.deps.store, run.id), () => execution.lock(), (now) => execution.confirm(now));
      try {
        return await body(writer);
      } catch (error) {
        if (error instanceof InterruptedError) {
          await writer.audit('run.interrupted', { where: error.message });
        }
        throw error;
      }
    });
  }

  private writer(run: Run, fence: () => RunLock | undefined, confirmFence?: (now: Date) => Promise<void>): RunWriter {
    return new RunWriter(
      {
        config: this.deps.config,
        store: this.deps.store,
        clientsFor: this.deps.clientsFor,
        actor: this.deps.actor,
        now: this.now,
        fence,
        ...(confirmFence ? { confirmFence } : {}),
        ...(this.deps.options?.crashPoints ? { crashPoints: this.deps.options.crashPoints } : {}),
        ...(this.deps.signal ? { signal: this.deps.signal } : {}),
      },
      run,
    );
  }

  private context(writer: RunWriter, keyring: KeyRingConfig, index: number): StageContext {
    const stage = (): string => writer.run().stages[index]!.name;
    return buildStageContext({
      writer,
      keyring,
      index,
      options: this.deps.options ?? {},
      ...(this.deps.clientsForRegion ? { clientsForRegion: this.deps.clientsForRegion } : {}),
      sleep: this.sleep,
      onMessage: (message) => this.emit({ type: 'message', stage: stage(), message }),
      onCall: (event) => this.emit({ type: 'call', stage: stage(), ...event }),
    });
  }

  private async runStage(writer: RunWriter, keyring: KeyRingConfig, entry: StageCatalogEntry, index: number): Promise<StageOutcome> {
    const stage = await entry.load();
    const previous = writer.run().stages[index]!;
    // A stage that already waits is re-checked read-only: nothing is written unless it moves on.
    const recheck = previous.status === 'waiting' && previous.attempts > 0;
    const ctx = this.context(writer, keyring, index);
    await this.reconcile(writer, ctx, index);
    if (!recheck) {
      const runStatus = writer.run().status === 'failed' || writer.run().status === 'waiting' ? 'open' : undefined;
      // Recorded with the stage's first write (an intent, its outputs, or its end), not by a write
      // of its own: a fleet makes one run write fewer per stage per key ring.
      writer.patchStage(index, { status: 'running', attempts: previous.attempts + 1, startedAt: previous.startedAt ?? this.now().toISOString(), error: undefined }, runStatus);
    }
    this.emit({ type: 'stage-start', stage: entry.name, attempt: writer.run().stages[index]!.attempts, resumed: previous.attempts > 0 && !recheck, recheck });
    let outcome: StageOutcome;
    try {
      outcome = await stage.run(ctx);
      if (outcome.status === 'done') await stage.verify(ctx);
    } catch (error) {
      if (error instanceof SimulatedCrash || error instanceof InterruptedError || error instanceof FenceLostError) throw error;
      const failure = concreteFailure(entry.name, error, `rotate advance ${writer.run().id}`);
      if (entry.name === 'preflight') return this.refuseAtPreflight(writer, index, failure);
      await writer.saveStage(index, { status: 'failed', endedAt: this.now().toISOString(), error: { message: failure.message, ...(failure.nextStep ? { nextStep: failure.nextStep } : {}) } }, 'failed');
      await writer.audit('stage.failed', { stage: entry.name, error: failure.message });
      this.emit({ type: 'stage-end', stage: entry.name, status: 'failed', summary: failure.message });
      throw failure;
    }
    if (outcome.status === 'waiting') {
      if (!recheck) {
        await writer.saveStage(index, { status: 'waiting', summary: outcome.summary, waitingFor: outcome.waitingFor, outputs: merge(writer.run().stages[index]!.outputs, outcome.outputs) }, 'waiting');
        await writer.audit('stage.waiting', { stage: entry.name, summary: outcome.summary });
      }
      this.emit({ type: 'stage-end', stage: entry.name, status: 'waiting', summary: outcome.summary, waitingFor: outcome.waitingFor });
      this.stopped(outcome.waitingFor === 'time' ? 'waiting-time' : 'waiting-people', outcome.summary, outcome.nextStep);
      return outcome;
    }
    const outputs = outcome.status === 'done' ? merge(writer.run().stages[index]!.outputs, outcome.outputs) : writer.run().stages[index]!.outputs;
    await writer.saveStage(index, { status: outcome.status, endedAt: this.now().toISOString(), summary: outcome.summary, outputs, waitingFor: undefined }, 'open');
    await writer.audit(`stage.${outcome.status}`, { stage: entry.name, summary: outcome.summary });
    this.emit({ type: 'stage-end', stage: entry.name, status: outcome.status, summary: outcome.summary });
    return outcome;
  }

  /**
   * Records what AWS says about every intent of the stage whose outcome was never written (the
   * process died between sending and recording it).
   */
  private async reconcile(writer: RunWriter, ctx: StageContext, index: number): Promise<void> {
    const unfinished = writer.run().stages[index]!.mutations.map((m, i) => ({ m, i })).filter(({ m }) => m.outcome === undefined);
    if (unfinished.length === 0) return;
    const { reconcileMutation } = await import('../stages/reconcile');
    for (const { m, i } of unfinished) {
      const found = await reconcileMutation(ctx, m);
      const outcome: MutationOutcome = found.done ? 'reconciled-done' : 'reconciled-not-done';
      // Audit first, as for any outcome: a crash before the run write reconciles (and audits) again.
      await writer.audit(`aws.${outcome}`, { stage: writer.run().stages[index]!.name, operation: m.operation, target: m.target, note: found.note });
      const mutations = writer.run().stages[index]!.mutations.map((x, j) => (j === i ? { ...x, outcome, outcomeAt: this.now().toISOString(), note: found.note } : x));
      const outputs = found.outputs ? merge(writer.run().stages[index]!.outputs, found.outputs) : undefined;
      await writer.saveStage(index, { mutations, ...(outputs ? { outputs } : {}) });
      this.emit({ type: 'call', stage: writer.run().stages[index]!.name, operation: m.operation, target: m.target, phase: 'reconciled', note: found.note });
    }
  }

  /** Preflight changed nothing, so a refused preflight ends the run and frees its key ring. */
  private async refuseAtPreflight(writer: RunWriter, index: number, failure: KeyrotorError): Promise<never> {
    const run = writer.run();
    const retry = run.plan.kind === 'rotate' ? '' : ` --kind ${run.plan.kind}`;
    const nextStep = `${failure.nextStep ? `${failure.nextStep.replace(/`rotate advance [^`]*`/g, 'a new run')}; then ` : ''}start a new run: \`rotate start ${run.keyring}${retry}\``;
    const stages = run.stages.map((s, i) => (i === index ? { ...s, status: 'failed' as const, endedAt: this.now().toISOString(), error: { message: failure.message, nextStep } } : s));
    await writer.saveRun({ ...run, stages, status: 'cancelled', endReason: `preflight refused: ${failure.message}` });
    await writer.audit('run.refused', { stage: 'preflight', error: failure.message });
    writer.crash('before-write:lease');
    await this.deps.store.releaseLease(run.keyring, run.id);
    this.emit({ type: 'stage-end', stage: 'preflight', status: 'failed', summary: failure.message });
    throw new StageError('preflight', `${failure.message.replace(/^stage preflight: /, '')} — run ${run.id} changed nothing and was ended`, {
      fault: failure.fault,
      retryable: failure.retryable,
      nextStep,
      cause: failure,
    });
  }

  private async readyToDelete(writer: RunWriter, index: number): Promise<Run> {
    const run = writer.run();
    const summary = `ready to schedule the deletion of ${run.plan.oldKeyArn ?? 'the old key'}: it runs only when asked by name`;
    const nextStep = `rotate delete ${run.id}`;
    if (run.stages[index]!.status !== 'waiting') {
      await writer.saveStage(index, { status: 'waiting', waitingFor: 'people', summary }, 'waiting');
      await writer.audit('stage.waiting', { stage: DELETION_STAGE, summary });
    }
    this.emit({ type: 'stage-end', stage: DELETION_STAGE, status: 'waiting', summary, waitingFor: 'people' });
    this.stopped('ready-to-delete', summary, nextStep);
    return writer.run();
  }

  private async complete(writer: RunWriter): Promise<Run> {
    if (writer.run().status !== 'completed') {
      await writer.saveRun({ ...writer.run(), status: 'completed' });
      await writer.audit('run.completed', {});
    }
    writer.crash('before-write:lease');
    await this.deps.store.releaseLease(writer.run().keyring, writer.run().id);
    this.stopped('completed', `run ${writer.run().id} completed`, undefined);
    return writer.run();
  }

  /** The run's own lease (idempotent); refused only if another open run holds the key ring. */
  private async holdLease(run: Run): Promise<void> {
    try {
      await this.deps.store.acquireLease(run.keyring, run.id, this.deps.actor, LEASE_TTL_MS);
    } catch (error) {
      if (!(error instanceof StateError)) throw error;
      throw await this.keyringBusyError(run.keyring, error);
    }
  }

  private async assertKeyringFree(keyring: string): Promise<void> {
    const lease = await this.deps.store.getLease(keyring);
    if (!lease || Date.parse(lease.expiresAt) <= this.now().getTime()) return;
    const holder = await this.deps.store.getRun(lease.runId);
    if (holder && isOpenRun(holder)) throw await this.keyringBusyError(keyring, undefined);
  }

  private async keyringBusyError(keyring: string, cause: StateError | undefined): Promise<KeyrotorError> {
    const lease = await this.deps.store.getLease(keyring);
    const holder = lease ? await this.deps.store.getRun(lease.runId) : undefined;
    if (!holder) return cause ?? new StateError(`key ring ${keyring} is busy`, { fault: 'operator', retryable: true });
    return new KeyringBusyError(keyring, holder, cause);
  }

  private emit(event: ProgressEvent): void {
    this.deps.progress?.(event);
  }

  /** An advance of a run that has already ended still says why it stopped (views derive exit codes from it). */
  private stoppedEnded(run: Run): void {
    const reason: StopReason = run.status === 'completed' ? 'completed' : run.status === 'rolled-back' ? 'rolled-back' : 'cancelled';
    this.stopped(reason, `run ${run.id} is ${run.status}`, undefined);
  }

  private stopped(reason: StopReason, message: string, nextStep: string | undefined): void {
    this.emit({ type: 'stopped', reason, message, ...(nextStep ? { nextStep } : {}) });
  }
}

function kindOf(run: Run): StartableKind {
  if (!isStartableKind(run.kind)) throw new KeyrotorError(`run ${run.id} has kind ${run.kind}, which this version cannot act on`, { fault: 'internal' });
  return run.kind;
}

function assertNotRollingBack(run: Run): void {
  if (run.stages.some((s) => s.status === 'undone')) {
    throw new KeyrotorError(`run ${run.id} is part-way through a rollback; it cannot go forward again`, {
      fault: 'operator',
      nextStep: `finish the rollback with \`rotate rollback ${run.id}\`, then start a new run`,
    });
  }
}

function merge(a: Readonly<Record<string, unknown>> | undefined, b: Readonly<Record<string, unknown>> | undefined): Readonly<Record<string, unknown>> | undefined {
  if (!a) return b;
  if (!b) return a;
  return { ...a, ...b };
}

/**
 * The error a stage failure is reported as: it names the stage, keeps whose fault it is, and its
 * next step names a command that works in this context (the command that failed, run again,
 * unless the error already names a better one).
 */
function concreteFailure(stage: string, error: unknown, retryCommand: string): KeyrotorError {
  if (error instanceof KeyrotorError) {
    const names = error.nextStep !== undefined && /`rotate [a-z-]+/.test(error.nextStep);
    const nextStep = names ? error.nextStep : `${error.nextStep ? `${error.nextStep.replace(/run the same command again/, `run \`${retryCommand}\` again`)}` : `run \`${retryCommand}\` again`}`;
    if (error instanceof StageError || error instanceof RunBusyError) return names ? error : new StageError(stage, error.message.replace(/^stage [a-z-]+: /, ''), { fault: error.fault, retryable: error.retryable, nextStep, cause: error });
    return new StageError(stage, error.message, { fault: error.fault, retryable: error.retryable, nextStep, cause: error });
  }
  return new StageError(stage, error instanceof Error ? error.message : String(error), {
    fault: 'internal',
    nextStep: `this is likely a keyrotor bug: report it; \`${retryCommand}\` retries the stage`,
    cause: error,
  });
}

/** A store for dry runs: every read goes through, any write is a bug. */
function readOnlyStore(store: StateStore): StateStore {
  const refuse = (): never => {
    throw new KeyrotorError('a dry run tried to write state', { fault: 'internal' });
  };
  return {
    ...store,
    description: store.description,
    getLedger: (k) => store.getLedger(k),
    listLedgers: () => store.listLedgers(),
    getRun: (id) => store.getRun(id),
    listRuns: (f) => store.listRuns(f),
    getLease: (k) => store.getLease(k),
    getRunLock: (r) => store.getRunLock(r),
    auditHead: () => store.auditHead(),
    readAudit: (r) => store.readAudit(r),
    verifyAudit: (r) => store.verifyAudit(r),
    putLedger: refuse,
    putRun: refuse,
    sync: () => Promise.resolve(),
    acquireLease: refuse,
    releaseLease: refuse,
    acquireRunLock: refuse,
    renewRunLock: refuse,
    releaseRunLock: refuse,
    appendAudit: refuse,
    close: () => Promise.resolve(),
  };
}

/** A sleep that ends early, with InterruptedError, when the command is interrupted. */
function interruptible(sleeping: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return sleeping;
  if (signal.aborted) return Promise.reject(new InterruptedError(undefined, 'while waiting'));
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(new InterruptedError(undefined, 'while waiting'));
    signal.addEventListener('abort', onAbort, { once: true });
    sleeping.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
