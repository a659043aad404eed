/**
 * Shared by the run commands: the engine for a session, driving it with the right view (live on a
 * terminal, plain lines on stderr elsewhere and with --json), the result (the run as text, or the
 * versioned JSON), and Ctrl-C handling.
 */
import { Engine, type ProgressEvent, type StopReason } from '../../../pipeline/engine/engine';
import { approvalsDirFor } from '../../../pipeline/approvals/files';
import { initiatorResolver, type StartSigner } from '../../../pipeline/approvals/initiator';
import type { KeyRingConfig } from '../../../pipeline/config/types';
import type { Run } from '../../../pipeline/state/types';
import type { CliContext } from '../context';
import type { Session } from '../session';
import { progressViewFor } from '../progress';
import { renderRun } from '../run-view';
import { emitJson } from '../json/output';
import { runJson } from '../json/run-json';

/**
 * The first Ctrl-C asks the engine to stop at its next recorded point (the run stays resumable
 * and `rotate status` explains where it stopped); a second one exits at once.
 */
export function interruptOnSigint(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\ninterrupt: stopping at the next recorded point (press Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', onSigint) };
}

export interface EngineExtras {
  /** `rotate start --signing-key`: the operator signs the start (who started the run, in approver terms). */
  readonly startSigner?: StartSigner;
  /** `--approvals-dir` (else $KEYROTOR_APPROVALS_DIR, else approvals/ beside the config: approvalsDirFor). */
  readonly approvalsDir?: string;
  /** Ctrl-C: the engine stops at its next recorded point. */
  readonly signal?: AbortSignal;
  /** The engine's sleep (polling); the fleet times it. Default: a real timer. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Why the engine returned, as its `stopped` event said. */
export interface Stop {
  readonly reason: StopReason;
  readonly message: string;
  readonly nextStep?: string;
}

/** The engine for one command. Says first which AWS it talks to (the banner, once). */
export async function engineFor(ctx: CliContext, session: Session, keyring: KeyRingConfig, onEvent?: (e: ProgressEvent) => void, extras: EngineExtras = {}): Promise<Engine> {
  await session.announce(keyring);
  const actor = await session.actorFor(keyring);
  return new Engine({
    config: session.config,
    store: session.store,
    clientsFor: session.clientsFor,
    clientsForRegion: session.clientsForRegion,
    actor,
    identifyInitiator: initiatorResolver({
      keyring,
      people: session.config.people ?? [],
      label: actor,
      awsCaller: () => session.callerArn(keyring),
      env: ctx.env,
      ...(extras.startSigner ? { signer: extras.startSigner } : {}),
      now: () => ctx.clock.now(),
    }),
    now: () => ctx.clock.now(),
    ...(onEvent ? { progress: onEvent } : {}),
    options: { extraApprovalsDir: approvalsDirFor(session.config.baseDir, { flag: extras.approvalsDir, env: ctx.env, cwd: ctx.cwd }) },
    ...(extras.signal ? { signal: extras.signal } : {}),
    ...(extras.sleep ? { sleep: extras.sleep } : {}),
  });
}

export interface Driven {
  readonly run: Run;
  /** The engine's last `stopped` event (absent when the call was not an advance, e.g. a rollback's). */
  readonly stop?: Stop;
}

/**
 * Runs one engine call (advance, rollback, delete …) with a view that only draws its events.
 * `stages` are the stage names the live view lists. On a failure the run as it stands is kept for
 * the error report (the command prints the error once, with its next step).
 */
export async function drive(
  ctx: CliContext,
  session: Session,
  keyring: KeyRingConfig,
  stages: readonly string[],
  call: (engine: Engine) => Promise<Run>,
  extras: EngineExtras = {},
  runId?: string,
): Promise<Driven> {
  const interrupt = interruptOnSigint();
  let stop: Stop | undefined;
  // The banner comes before the live view starts drawing.
  await session.announce(keyring);
  const view = progressViewFor(ctx, stages);
  const onEvent = (event: ProgressEvent): void => {
    if (event.type === 'stopped') stop = { reason: event.reason, message: event.message, ...(event.nextStep ? { nextStep: event.nextStep } : {}) };
    view.onEvent(event);
  };
  try {
    const run = await call(await engineFor(ctx, session, keyring, onEvent, { ...extras, signal: interrupt.signal }));
    view.finish();
    return { run, ...(stop ? { stop } : {}) };
  } catch (error) {
    view.finish();
    if (runId) ctx.trace.failedRun = await session.store.getRun(runId).catch(() => undefined);
    if (ctx.trace.failedRun && !ctx.global.json) ctx.io.out(renderRun(ctx.trace.failedRun, { wide: ctx.global.wide, forError: true }));
    throw error;
  } finally {
    interrupt.dispose();
  }
}

/** The stages `advance` may still run, for the live view. */
export function remainingStages(run: Run): string[] {
  return run.stages.filter((s) => s.status !== 'done' && s.status !== 'skipped').map((s) => s.name);
}

/** The result of a run command: the run as text, or the JSON document (with why it stopped). */
export function printRun(ctx: CliContext, run: Run, extra: { stop?: Stop; exitCode?: number } = {}): void {
  if (ctx.global.json) {
    emitJson(ctx, { run: runJson(run), ...(extra.stop ? { stopped: extra.stop } : {}), ...(extra.exitCode !== undefined ? { exitCode: extra.exitCode } : {}) });
    return;
  }
  ctx.io.out(renderRun(run, { wide: ctx.global.wide }));
}

/** Opens the session (config, store, clients) for one command and always closes it. */
export async function withSession(ctx: CliContext, body: (session: Session) => Promise<number>): Promise<number> {
  const { openSession } = await import('../session');
  const session = await openSession(ctx);
  try {
    return await body(session);
  } finally {
    await session.close();
  }
}
