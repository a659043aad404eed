import { CommanderError } from 'commander';
import { describeError, exitCodeFor, ExitCode, KeyrotorError } from '../../pipeline/errors';
import type { CliIo, CliTrace } from './context';
import { jsonEnvelope } from './json/output';
import { runJson } from './json/run-json';

/** The `next:` step describeError gives an error that carries none of its own (an SDK error). */
function nextLineOf(error: unknown): string | null {
  const line = describeError(error).find((l) => l.startsWith('next: '));
  return line ? line.slice('next: '.length) : null;
}

export interface ErrorTarget {
  readonly io: CliIo;
  readonly global: { readonly json: boolean; readonly wide?: boolean };
  readonly command: string;
  readonly trace: CliTrace;
}

/**
 * Prints an error once, the way an operator needs it (`error:`, then `next:`, then whether a retry
 * can help) on stderr, whole, and with --json also as the versioned error document on stdout (with the
 * run as it stood, when a run command failed). Returns its exit code (the one mapping in errors.ts).
 */
export function reportError(target: ErrorTarget, error: unknown): number {
  let code: number;
  if (error instanceof CommanderError) {
    // commander already printed the message; help and version are not errors.
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return ExitCode.ok;
    code = ExitCode.operatorError;
  } else {
    code = exitCodeFor(error);
    // Errors are printed whole (never wrapped or shortened): they are searched for and pasted into tickets.
    for (const line of describeError(error)) target.io.err(line);
  }
  if (target.global.json) {
    const e = error as { message?: string; name?: string };
    const keyrotor = error instanceof KeyrotorError ? error : undefined;
    const fault = keyrotor?.fault ?? (error instanceof CommanderError ? 'operator' : code === ExitCode.awsError ? 'aws' : 'internal');
    target.io.out(
      JSON.stringify(
        jsonEnvelope(target, {
          error: {
            name: error instanceof CommanderError ? 'UsageError' : (e.name ?? 'Error'),
            message: (e.message ?? String(error)).replace(/^error: /, ''),
            fault,
            retryable: keyrotor?.retryable ?? false,
            nextStep: keyrotor?.nextStep ?? (error instanceof CommanderError ? 'run `rotate COMMAND --help` for its usage' : nextLineOf(error)),
            exitCode: code,
          },
          ...(target.trace.failedRun ? { run: runJson(target.trace.failedRun) } : {}),
        }),
        null,
        2,
      ),
    );
  }
  return code;
}
