/**
 * The one error family of keyrotor. Modelled on the AWS SDK v3 / Smithy errors: every error says
 * whose fault it is and whether retrying can help, and carries the next command to run, so the CLI
 * can map it to an exit code and a next step without parsing messages.
 */
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

/** An AWS call failed; the message names the operation and the resource. */
export class AwsCallError extends KeyrotorError {
  constructor(
    message: string,
    readonly operation: string,
    readonly awsCode: string | undefined,
    options: KeyrotorErrorOptions,
  ) {
    super(message, options);
  }
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
} as const;

export function exitCodeFor(error: unknown): number {
  if (error instanceof KeyrotorError) {
    if (error.fault === 'operator') return ExitCode.operatorError;
    if (error.fault === 'aws') return ExitCode.awsError;
    return ExitCode.internalError;
  }
  return ExitCode.internalError;
}
