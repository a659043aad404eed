/**
 * The one error family of keyrotor. Modelled on the AWS SDK v3 / Smithy errors: every error says
 * whose fault it is and whether retrying can help, and carries the next command to run, so the CLI
 * can map it to an exit code and a next step without parsing messages.
 */
import type { StopReason } from './engine/engine';

export type Fault = 'operator' | 'aws' | 'internal';

export interface KeyrotorErrorOptions {
  /** Whose fault: `operator` (bad input, bad config, missing approval), `aws` (service side), `internal` (a bug). */
  readonly fault: Fault;
  /** True when re-running the same command later may succeed (throttling, a lock held, a 5xx). */
  readonly retryable?: boolean;
  /** What to run or do next, in words an operator can follow. */
  readonly nextStep?: string;
  readonly cause?: unknown;
}

export class KeyrotorError extends Error {
  readonly fault: Fault;
  readonly retryable: boolean;
  readonly nextStep?: string;

  constructor(message: string, options: KeyrotorErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.fault = options.fault;
    this.retryable = options.retryable ?? false;
    this.nextStep = options.nextStep;
  }
}

/** The declared config (keyrings.json) is malformed or breaks a rule. `issues` name path, value and rule. */
export class ConfigError extends KeyrotorError {
  constructor(
    readonly file: string,
    readonly issues: readonly string[],
    nextStep = `fix ${file} and run \`rotate lint\` again`,
  ) {
    super(`${file}: ${issues.length === 1 ? issues[0] : `${issues.length} problems:\n  - ${issues.join('\n  - ')}`}`, {
      fault: 'operator',
      nextStep,
    });
  }
}

/** A key policy breaks a lint rule. Each finding names the statement Sid and the rule. */
export class PolicyLintError extends KeyrotorError {
  constructor(readonly findings: readonly string[]) {
    super(`key policy lint failed:\n  - ${findings.join('\n  - ')}`, {
      fault: 'operator',
      nextStep: 'fix the key ring in the config (or the policy builder input) and run `rotate lint`',
    });
  }
}

/** The state store refused a write or read (version conflict, lock held, corrupt file). */
export class StateError extends KeyrotorError {}

/** Another process holds the run's execution lock; nothing was changed. */
export class RunBusyError extends StateError {
  constructor(
    readonly runId: string,
    readonly holder: { readonly host: string; readonly pid: number; readonly actor: string; readonly command?: string },
    readonly since: string,
    readonly expiresAt: string,
  ) {
    super(
      `run ${runId} is being acted on by ${holder.actor} (${holder.command ? `\`rotate ${holder.command}\`, ` : ''}pid ${holder.pid} on ${holder.host}) since ${since}; nothing was changed`,
      {
        fault: 'operator',
        retryable: true,
        nextStep: `wait for that process to finish (\`rotate status ${runId}\` shows its progress) and run the command again; if the process is gone from another host, its lock expires at ${expiresAt}`,
      },
    );
  }
}

/** The key ring already has an open run (a key ring has one open run at a time); nothing was started. */
export class KeyringBusyError extends KeyrotorError {
  constructor(
    readonly keyring: string,
    readonly holder: { readonly id: string; readonly status: string; readonly initiator: string },
    cause?: unknown,
  ) {
    super(`key ring ${keyring} already has an open run ${holder.id} (${holder.status}, started by ${holder.initiator}); a key ring has one open run at a time`, {
      fault: 'operator',
      nextStep: `finish it with \`rotate advance ${holder.id}\`, undo it with \`rotate rollback ${holder.id}\`, or cancel it if it changed nothing: \`rotate cancel ${holder.id}\``,
      ...(cause ? { cause } : {}),
    });
  }
}

/** This process's execution lock was taken over (it was paused past the lock's expiry); it must stop. */
export class FenceLostError extends StateError {
  constructor(readonly runId: string, detail: string) {
    super(`this process no longer holds run ${runId}'s execution lock (${detail}); it stopped before changing anything else`, {
      fault: 'operator',
      retryable: true,
      nextStep: `see who acts on the run now with \`rotate status ${runId}\`; run the command again once that process has finished`,
    });
  }
}

/** The operator interrupted the command (Ctrl-C); the run stopped at a recorded point. */
export class InterruptedError extends KeyrotorError {
  constructor(readonly runId: string | undefined, where: string) {
    super(`interrupted ${where}`, {
      fault: 'operator',
      retryable: true,
      nextStep: runId ? `\`rotate status ${runId}\` shows where it stopped; continue with the same command` : 'run the command again',
    });
  }
}

/** An AWS call failed; the message names the operation, the resource and AWS's request id. */
export class AwsCallError extends KeyrotorError {
  constructor(
    message: string,
    readonly operation: string,
    readonly awsCode: string | undefined,
    options: KeyrotorErrorOptions & { readonly requestId?: string },
  ) {
    super(message, options);
    this.requestId = options.requestId;
  }

  readonly requestId?: string;
}

/** A stage's precondition or read-back check failed; names the stage. */
export class StageError extends KeyrotorError {
  constructor(readonly stage: string, message: string, options: KeyrotorErrorOptions) {
    super(`stage ${stage}: ${message}`, options);
  }
}

/** An approval is invalid, or the quorum does not hold. */
export class ApprovalError extends KeyrotorError {}

/** Exit codes of the `rotate` CLI (documented in the README). */
export const ExitCode = {
  ok: 0,
  /** The command ran and the answer is "no" (gate not satisfied, lint findings, audit chain broken). */
  notSatisfied: 1,
  /** Operator error: bad input, bad config, a precondition that the operator must fix. */
  operatorError: 2,
  /** AWS-side or transient failure: retrying later may help (`rotate advance` resumes). */
  awsError: 3,
  /** A bug in keyrotor. */
  internalError: 4,
  /**
   * The run waits for the clock (a soak). Like the three below, only with `advance --wait` or
   * `--detailed-exitcode` (terraform's -detailed-exitcode): a plain `advance` exits 0 while waiting.
   */
  waitingTime: 10,
  /** The run waits for people: approvals at the gate, or someone to run `rotate delete`. */
  waitingPeople: 11,
  /** The run stopped after `--stage-limit` stages with more it could run now. */
  stageLimit: 12,
  /** The run ended without completing (rolled back or cancelled): it will never be done. */
  runEnded: 13,
  /**
   * Fleet commands: some key rings failed while the others went on (each key ring's own code is in
   * the summary; see fleetExitCode).
   */
  fleetPartial: 14,
  /** Interrupted by the operator (SIGINT, 128 + 2 as shells report it); the run stopped at a recorded point. */
  interrupted: 130,
} as const;

/**
 * The exit code of an `advance` that stopped without an error, from the engine's `stopped` event
 * (never from its text). `completed` is 0; waiting for time and for people, a stage limit and an
 * ended run each have their own code. A failed stage is an error: `exitCodeFor` maps it.
 */
export function exitCodeForStop(reason: StopReason): number {
  switch (reason) {
    case 'completed':
      return ExitCode.ok;
    case 'waiting-time':
      return ExitCode.waitingTime;
    case 'waiting-people':
    case 'ready-to-delete':
    // The deletion never runs in the step that switched; it then waits for `rotate delete`.
    case 'not-with-switch':
      return ExitCode.waitingPeople;
    case 'stage-limit':
      return ExitCode.stageLimit;
    case 'rolled-back':
    case 'cancelled':
      return ExitCode.runEnded;
  }
}

/**
 * The one mapping from any error to an exit code, used by every command, the Identity Center
 * helper, `bin/rotate.js` and main.ts. An SDK error that escaped `callAws` is still AWS's.
 */
export function exitCodeFor(error: unknown): number {
  if (error instanceof InterruptedError) return ExitCode.interrupted;
  if (error instanceof KeyrotorError) {
    if (error.fault === 'operator') return ExitCode.operatorError;
    if (error.fault === 'aws') return ExitCode.awsError;
    return ExitCode.internalError;
  }
  if (isSdkError(error)) return ExitCode.awsError;
  return ExitCode.internalError;
}

/**
 * A fleet command's exit code from its key rings' codes (each failed key ring's from exitCodeFor,
 * 0 for the others): 0 when none failed; when all failed, the most severe of theirs (bug 4 > AWS 3
 * > operator 2 > interrupted > "no" 1); when only some failed, fleetPartial.
 */
export function fleetExitCode(codes: readonly number[]): number {
  const failed = codes.filter((c) => c !== ExitCode.ok);
  if (failed.length === 0) return ExitCode.ok;
  if (failed.length < codes.length) return ExitCode.fleetPartial;
  const severity: readonly number[] = [ExitCode.internalError, ExitCode.awsError, ExitCode.operatorError, ExitCode.interrupted, ExitCode.notSatisfied];
  return severity.find((c) => failed.includes(c)) ?? failed[0]!;
}

/** An error thrown by an AWS SDK client (it carries response metadata or a fault side). */
export function isSdkError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && ('$metadata' in error || '$fault' in error);
}

/**
 * The lines an operator sees for an error, in one format everywhere: `error: …`, then `next: …`
 * (said once), then whether a retry can help. Unknown errors are reported as bugs with their stack.
 */
export function describeError(error: unknown): string[] {
  if (error instanceof KeyrotorError) {
    const lines = [`error: ${error.message}`];
    if (error.nextStep && !error.message.includes(error.nextStep)) lines.push(`next: ${error.nextStep}`);
    if (error.retryable) lines.push('(this may succeed if retried later)');
    return lines;
  }
  if (isSdkError(error)) {
    const e = error as { name?: string; message?: string; $metadata?: { requestId?: string } };
    return [`error: AWS ${e.name ?? 'error'}: ${e.message ?? ''}${e.$metadata?.requestId ? ` (request id ${e.$metadata.requestId})` : ''}`, 'next: run the command again; if it persists, check the AWS Health Dashboard'];
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return [`internal error (a bug in keyrotor, please report it): ${message}`];
}
