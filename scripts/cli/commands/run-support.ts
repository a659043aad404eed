/**
 * Shared by the run commands: building the engine for a session and advancing with progress.
 */
import { Engine, type ProgressEvent } from '../../../pipeline/engine/engine';
import { approvalsDirFor } from '../../../pipeline/approvals/files';
import { initiatorResolver, type StartSigner } from '../../../pipeline/approvals/initiator';
import type { KeyRingConfig } from '../../../pipeline/config/types';
import type { Run } from '../../../pipeline/state/types';
import type { CliContext } from '../context';
import type { Session } from '../session';
import { advanceWithListr, plainProgress } from '../progress';
import { renderRun } from '../run-view';

export interface EngineExtras {
  /** `rotate start --signing-key`: the operator signs the start (who started the run, in approver terms). */
  readonly startSigner?: StartSigner;
  /** `--approvals-dir` (else $KEYROTOR_APPROVALS_DIR, else approvals/ beside the config: approvalsDirFor). */
  readonly approvalsDir?: string;
}

export async function engineFor(ctx: CliContext, session: Session, keyring: KeyRingConfig, onEvent?: (e: ProgressEvent) => void, extras: EngineExtras = {}): Promise<Engine> {
  const actor = await session.actorFor(keyring);
  return new Engine({
    config: session.config,
    store: session.store,
    clientsFor: session.clientsFor,
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
  });
}

/** Advances with a live view on a terminal and plain lines elsewhere; prints the run at the end. */
export async function advanceAndReport(ctx: CliContext, session: Session, keyring: KeyRingConfig, run: Run, stageLimit?: number, extras: EngineExtras = {}): Promise<Run> {
  let result: Run;
  if (ctx.io.interactive && !ctx.global.json) {
    const sink: { onEvent?: (e: ProgressEvent) => void } = {};
    const engine = await engineFor(ctx, session, keyring, (e) => sink.onEvent?.(e), extras);
    result = await advanceWithListr(engine, run, sink, stageLimit);
  } else {
    const engine = await engineFor(ctx, session, keyring, undefined, extras);
    result = await engine.advance(run.id, stageLimit === undefined ? {} : { stageLimit });
  }
  printRun(ctx, result);
  return result;
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
