/**
 * Shared by the run commands: the engine for a session, driving it with the right view (live on a
 * terminal, plain lines elsewhere, nothing but the final JSON with --json), and Ctrl-C handling.
 */
import { Engine, type ProgressEvent } from '../../../pipeline/engine/engine';
import { approvalsDirFor } from '../../../pipeline/approvals/files';
import { initiatorResolver, type StartSigner } from '../../../pipeline/approvals/initiator';
import type { KeyRingConfig } from '../../../pipeline/config/types';
import type { Run } from '../../../pipeline/state/types';
import type { CliContext } from '../context';
import type { Session } from '../session';
import { drawWithListr, plainProgress } from '../progress';
import { renderRun } from '../run-view';

/**
 * The first Ctrl-C asks the engine to stop at its next recorded point (the run stays resumable
 * and `rotate status` explains where it stopped); a second one exits at once.
 */
function interruptOnSigint(): { signal: AbortSignal; dispose(): void } {
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
}

export async function engineFor(ctx: CliContext, session: Session, keyring: KeyRingConfig, onEvent?: (e: ProgressEvent) => void, extras: EngineExtras = {}): Promise<Engine> {
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
      now: () => new Date(),
    }),
    progress: onEvent ?? (ctx.global.json ? undefined : plainProgress(ctx.io)),
    options: { extraApprovalsDir: approvalsDirFor(session.config.baseDir, { flag: extras.approvalsDir, env: ctx.env, cwd: ctx.cwd }) },
    ...(extras.signal ? { signal: extras.signal } : {}),
  });
}

/**
 * Runs one engine call (advance, rollback, delete …) with a view that only draws its events, and
 * prints the run at the end. `stages` are the stage names the live view lists.
 */
export async function driveAndReport(
  ctx: CliContext,
  session: Session,
  keyring: KeyRingConfig,
  stages: readonly string[],
  call: (engine: Engine) => Promise<Run>,
  extras: EngineExtras = {},
): Promise<Run> {
  const interrupt = interruptOnSigint();
  const withSignal = { ...extras, signal: interrupt.signal };
  try {
    let result: Run;
    if (ctx.io.interactive && !ctx.global.json && stages.length > 0) {
      result = await drawWithListr(stages, async (onEvent) => call(await engineFor(ctx, session, keyring, onEvent, withSignal)));
    } else {
      result = await call(await engineFor(ctx, session, keyring, undefined, withSignal));
    }
    printRun(ctx, result);
    return result;
  } finally {
    interrupt.dispose();
  }
}

/** The stages `advance` may still run, for the live view. */
export function remainingStages(run: Run): string[] {
  return run.stages.filter((s) => s.status !== 'done' && s.status !== 'skipped').map((s) => s.name);
}

export function printRun(ctx: CliContext, run: Run): void {
  ctx.io.out(ctx.global.json ? JSON.stringify(run, null, 2) : renderRun(run));
}

/** Opens the session (config, store, clients) for one command and always closes the store. */
export async function withSession(ctx: CliContext, body: (session: Session) => Promise<number>): Promise<number> {
  const { openSession } = await import('../session');
  const session = await openSession(ctx);
  try {
    return await body(session);
  } finally {
    await session.close();
  }
}
