/**
 * Fleet runs: one engine operation per selected key ring, run concurrently. Each key ring keeps its
 * own run, lease, execution lock and audit entries — the fleet is only a way of driving many runs
 * at once, never a run of its own — so a failure in one key ring is recorded as that key ring's
 * outcome and never stops, waits for or touches another.
 *
 * Concurrency does not outrun AWS: every client of one account and Region draws on the process's
 * one shared rate limiter (pipeline/aws/rate-limiter.ts `sharedRateLimiter`), which spaces the
 * quota-bound calls of all key rings at the KMS request quotas; key rings in other accounts or
 * Regions draw on other buckets and proceed in parallel.
 */
import type { KeyRingConfig } from '../config/types';
import type { Engine, ProgressEvent } from '../engine/engine';
import type { StartableKind } from '../engine/stage-lists';
import { exitCodeFor, ExitCode, fleetExitCode as exitCodeOfFleet, KeyringBusyError, KeyrotorError, RunBusyError } from '../errors';
import { processIsAlive } from '../state/file-lock';
import { isOpenRun, runLockBlocks } from '../state/store-rules';
import type { Run, StateStore } from '../state/types';

export type FleetAction = 'start' | 'advance' | 'delete' | 'status' | 'run';

/** Where one key ring stands after the fleet command. */
export type FleetOutcomeKind =
  | 'completed'
  | 'waiting' // for time (soak) or people (approvals, the deletion's confirmation)
  | 'open' // stages remain and nothing blocks them (e.g. after `fleet start`)
  | 'failed'
  | 'ended' // rolled back or cancelled (a refused preflight ends its run)
  | 'busy' // another process acts on it (a second fleet command, an operator): not this command's failure
  | 'skipped'; // nothing for this command to do on this key ring

export interface KeyRingOutcome {
  readonly keyring: string;
  readonly account: string;
  readonly region: string;
  readonly outcome: FleetOutcomeKind;
  readonly runId?: string;
  /** The stage the run is at (or ended on). */
  readonly stage?: string;
  readonly waitingFor?: 'time' | 'people';
  /** What it did, what it waits for, or why it failed. */
  readonly summary: string;
  readonly nextStep?: string;
  /** What `rotate advance --detailed-exitcode` on this key ring alone would exit with (pipeline/errors.ts). */
  readonly exitCode: number;
  /** The run as saved, when there is one. */
  readonly run?: Run;
}

export interface FleetDeps {
  readonly store: StateStore;
  /** A fresh engine for a key ring, reporting its events to `onEvent`. */
  readonly engineFor: (keyring: KeyRingConfig, onEvent: (event: ProgressEvent) => void) => Promise<Engine>;
  /** Live events, tagged with the key ring (the fleet view draws them). */
  readonly onEvent?: (keyring: string, event: ProgressEvent) => void;
  /** Key rings in flight at once. Default: all of them. */
  readonly concurrency?: number;
}

/** What a run means for the fleet summary. */
export function outcomeOfRun(keyring: KeyRingConfig, run: Run): KeyRingOutcome {
  const base = { keyring: keyring.name, account: keyring.account, region: keyring.region, runId: run.id, run, exitCode: ExitCode.ok as number };
  const failed = run.stages.find((s) => s.status === 'failed');
  const waiting = run.stages.find((s) => s.status === 'waiting');
  const next = run.stages.find((s) => s.status !== 'done' && s.status !== 'skipped');
  switch (run.status) {
    case 'completed':
      return { ...base, outcome: 'completed', stage: run.stages[run.stages.length - 1]?.name, summary: `run ${run.id} completed` };
    case 'rolled-back':
    case 'cancelled':
      return { ...base, outcome: 'ended', stage: (failed ?? next)?.name, summary: `run ${run.id} ${run.status}${run.endReason ? `: ${run.endReason}` : ''}`, exitCode: ExitCode.runEnded };
    case 'failed':
      return {
        ...base,
        outcome: 'failed',
        stage: failed?.name,
        summary: failed?.error?.message ?? `run ${run.id} failed`,
        ...(failed?.error?.nextStep ? { nextStep: failed.error.nextStep } : {}),
        // A failure found by reading (fleet status) is not this command's failure.
      };
    case 'waiting':
      return {
        ...base,
        outcome: 'waiting',
        stage: waiting?.name,
        ...(waiting?.waitingFor ? { waitingFor: waiting.waitingFor } : {}),
        summary: waiting?.summary ?? 'waiting',
        exitCode: waiting?.waitingFor === 'time' ? ExitCode.waitingTime : ExitCode.waitingPeople,
      };
    default:
      return { ...base, outcome: 'open', stage: next?.name, summary: next ? `next stage: ${next.name}` : 'no stage left' };
  }
}

function failure(keyring: KeyRingConfig, error: unknown, run: Run | undefined): KeyRingOutcome {
  const e = error instanceof KeyrotorError ? error : undefined;
  const stage = run?.stages.find((s) => s.status === 'failed' || s.status === 'running')?.name;
  return {
    keyring: keyring.name,
    account: keyring.account,
    region: keyring.region,
    outcome: 'failed',
    ...(run ? { runId: run.id, run } : {}),
    ...(stage ? { stage } : {}),
    summary: error instanceof Error ? error.message : String(error),
    ...(e?.nextStep ? { nextStep: e.nextStep } : {}),
    exitCode: exitCodeFor(error),
  };
}

/**
 * Another process got there first: it opened the key ring's run between this command's look and
 * its start, or it holds the run's execution lock now. The key ring is in hands, not failed; its
 * code is what a lone `rotate advance` would say (busy, retry later).
 */
function busy(keyring: KeyRingConfig, error: KeyringBusyError | RunBusyError, run: Run | undefined): KeyRingOutcome {
  const runId = error instanceof KeyringBusyError ? error.holder.id : error.runId;
  return {
    keyring: keyring.name,
    account: keyring.account,
    region: keyring.region,
    outcome: 'busy',
    runId,
    ...(run && run.id === runId ? { run } : {}),
    summary: error.message,
    nextStep: `\`rotate fleet status --name ${keyring.name}\` shows where it stands; run this command again once the other one has finished`,
    exitCode: exitCodeFor(error),
  };
}

function skipped(keyring: KeyRingConfig, summary: string, run?: Run, nextStep?: string): KeyRingOutcome {
  return {
    keyring: keyring.name,
    account: keyring.account,
    region: keyring.region,
    outcome: 'skipped',
    ...(run ? { runId: run.id, run, stage: run.stages.find((s) => s.status !== 'done' && s.status !== 'skipped')?.name } : {}),
    summary,
    ...(nextStep ? { nextStep } : {}),
    exitCode: ExitCode.ok,
  };
}

/** The open run of each key ring (one listing for the whole fleet). */
export async function openRunsByKeyring(store: Pick<StateStore, 'listRuns'>): Promise<Map<string, Run>> {
  const runs = await store.listRuns({ open: true });
  const byKeyring = new Map<string, Run>();
  for (const run of runs) if (isOpenRun(run)) byKeyring.set(run.keyring, run);
  return byKeyring;
}

/** Runs `work` on every item with at most `limit` in flight; never rejects (work must not throw). */
export async function inPool<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  return results;
}

export interface FleetRequest {
  readonly action: FleetAction;
  readonly keyrings: readonly KeyRingConfig[];
  /** `start` and `run`. */
  readonly kind?: StartableKind;
  /** `run` only. */
  readonly follow?: FollowOptions;
}

/**
 * `fleet run`: each key ring goes as far as it can on its own, without waiting for the others —
 * start (when it has no open run), advance, and then, while it waits for people: for approvals,
 * watch its approval files (cheaply: a directory listing) and re-check the gate when new ones
 * arrive; once ready to delete, schedule the deletion in a call of its own (never in the call that
 * switched, as `rotate delete` does) when the operator asked for deletions. Waits for time (a
 * soak) end the key ring's part: they last hours, not a command.
 */
export interface FollowOptions {
  /** How long, from the command's start, key rings waiting at their gate are watched for approvals. */
  readonly waitForPeopleMs: number;
  /** Schedule each old key's deletion as soon as its run is ready for it (confirmed once, for all). */
  readonly deleteWhenReady: boolean;
  /** The approvals directory the gate reads (`<dir>/<run id>/` holds a run's files). */
  readonly approvalsDir: string;
  /** Between two looks at a waiting run's approval files (a directory listing). Default 100 ms. */
  readonly pollMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

async function approvalFiles(dir: string, runId: string): Promise<number> {
  const { readdir } = await import('node:fs/promises');
  return readdir(`${dir}/${runId}`).then((names) => names.filter((n) => n.endsWith('.json')).length, () => 0);
}

async function follow(engine: Engine, keyring: KeyRingConfig, runId: string, options: FollowOptions, deadline: number): Promise<KeyRingOutcome> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  // Counted before each advance: a file that lands while the gate is being evaluated is seen as new.
  let seen = await approvalFiles(options.approvalsDir, runId);
  let current = await engine.advance(runId);
  for (;;) {
    const outcome = outcomeOfRun(keyring, current);
    if (outcome.outcome !== 'waiting') return outcome;
    if (outcome.stage === 'schedule-deletion') {
      if (!options.deleteWhenReady) return outcome;
      current = await engine.advance(runId, { allowDeletion: true });
      continue;
    }
    if (outcome.stage !== 'approval-gate' || now() >= deadline) return outcome;
    // Re-checking the gate verifies every signature: do it only when a new approval file is in.
    let files = await approvalFiles(options.approvalsDir, runId);
    while (files <= seen) {
      if (now() >= deadline) return outcome;
      await sleep(Math.min(options.pollMs ?? 100, Math.max(1, deadline - now())));
      files = await approvalFiles(options.approvalsDir, runId);
    }
    seen = files;
    current = await engine.advance(runId);
  }
}

/** At most `limit` callers inside `work` at once, the rest queued in arrival order. */
export function semaphore(limit: number): <R>(work: () => Promise<R>) => Promise<R> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (work) => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active += 1;
    try {
      return await work();
    } finally {
      active -= 1;
      waiting.shift()?.();
    }
  };
}

/**
 * Key rings of one account and Region opened at once by `fleet run`. Opening (a signed start,
 * preflight) is CPU-bound work in this one process; fifty at once would delay the group's first
 * CreateKey until all fifty had opened, while a few at a time keep its quota-bound calls flowing
 * from the first second. Groups open side by side, since their quotas are separate.
 */
const OPENING_AT_ONCE = 4;

/** Drives every selected key ring; resolves to one outcome per key ring, in selection order. */
export async function runFleet(deps: FleetDeps, request: FleetRequest): Promise<KeyRingOutcome[]> {
  const open = await openRunsByKeyring(deps.store);
  const limit = deps.concurrency ?? request.keyrings.length;
  const openingByGroup = new Map<string, ReturnType<typeof semaphore>>();
  const opening = (keyring: KeyRingConfig): ReturnType<typeof semaphore> => {
    const group = `${keyring.account}/${keyring.region}`;
    let gate = openingByGroup.get(group);
    if (!gate) openingByGroup.set(group, (gate = semaphore(OPENING_AT_ONCE)));
    return gate;
  };
  const deadline = (request.follow?.now ?? Date.now)() + (request.follow?.waitForPeopleMs ?? 0);
  return inPool(request.keyrings, limit, async (keyring) => {
    const existing = open.get(keyring.name);
    let run: Run | undefined = existing;
    const onEvent = (event: ProgressEvent): void => deps.onEvent?.(keyring.name, event);
    try {
      switch (request.action) {
        case 'status': {
          if (!existing) return skipped(keyring, 'no open run', undefined, `\`rotate fleet start --name ${keyring.name}\` opens one`);
          // A run some process is acting on right now says who, so no one starts a second command on it.
          const lock = await deps.store.getRunLock(existing);
          if (lock && runLockBlocks(lock, new Date(), processIsAlive)) {
            const base = outcomeOfRun(keyring, existing);
            const holder = lock.holder;
            const acting = `being acted on by ${holder.actor} (${holder.command ? `\`rotate ${holder.command}\`, ` : ''}pid ${holder.pid} on ${holder.host}) since ${lock.acquiredAt}`;
            return { ...base, outcome: 'busy', summary: `run ${existing.id} at ${base.stage ?? 'its start'}: ${acting}`, exitCode: ExitCode.ok };
          }
          return outcomeOfRun(keyring, existing);
        }
        case 'start': {
          if (existing) return skipped(keyring, `already has open run ${existing.id} (${existing.status})`, existing, `\`rotate fleet advance --name ${keyring.name}\``);
          const engine = await deps.engineFor(keyring, onEvent);
          run = await engine.start(keyring.name, request.kind ?? 'rotate');
          // Preflight only: it changes nothing, and a refusal ends the run and frees the key ring.
          return outcomeOfRun(keyring, await engine.advance(run.id, { stageLimit: 1 }));
        }
        case 'advance': {
          if (!existing) return skipped(keyring, 'no open run', undefined, `\`rotate fleet start --name ${keyring.name}\` opens one`);
          const engine = await deps.engineFor(keyring, onEvent);
          return outcomeOfRun(keyring, await engine.advance(existing.id));
        }
        case 'run': {
          if (!request.follow) throw new KeyrotorError('fleet run needs its follow options', { fault: 'internal' });
          const engine = await deps.engineFor(keyring, onEvent);
          run =
            existing ??
            (await opening(keyring)(async () => {
              const opened = await engine.start(keyring.name, request.kind ?? 'rotate');
              run = opened;
              await engine.advance(opened.id, { stageLimit: 1 }); // preflight
              return opened;
            }));
          return await follow(engine, keyring, run.id, request.follow, deadline);
        }
        case 'delete': {
          if (!existing) return skipped(keyring, 'no open run');
          const next = existing.stages.find((s) => s.status !== 'done' && s.status !== 'skipped');
          if (next?.name !== 'schedule-deletion') return skipped(keyring, `not ready to delete: run ${existing.id} is at ${next?.name ?? 'its end'}`, existing, `\`rotate fleet advance --name ${keyring.name}\``);
          const engine = await deps.engineFor(keyring, onEvent);
          return outcomeOfRun(keyring, await engine.advance(existing.id, { allowDeletion: true }));
        }
      }
    } catch (error) {
      // The key ring's own record of what happened (the engine saved it) explains the failure.
      const saved = run ? await deps.store.getRun(run.id).catch(() => undefined) : undefined;
      if (error instanceof KeyringBusyError || error instanceof RunBusyError) return busy(keyring, error, saved ?? run);
      return failure(keyring, error, saved ?? run);
    }
  });
}

/**
 * The fleet command's exit code (pipeline/errors.ts fleetExitCode) from its key rings' failures:
 * like a plain `rotate advance`, a key ring that waits or ended is not a failure of the command, nor
 * one another process is acting on (it is in hands).
 */
export function fleetExitCode(outcomes: readonly KeyRingOutcome[]): number {
  return exitCodeOfFleet(outcomes.map((o) => (o.outcome === 'failed' ? o.exitCode : ExitCode.ok)));
}
