import { CommanderError } from 'commander';
import { describeError, exitCodeFor, ExitCode } from '../../pipeline/errors';
import type { CliIo } from './context';

/** Prints an error the way an operator needs it (what failed, whose fault, what next) and returns its exit code. */
export function reportError(io: CliIo, error: unknown, json = false): number {
  if (error instanceof CommanderError) {
    // commander already printed the message; help/version are not errors.
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') {
      return ExitCode.ok;
    }
    return ExitCode.operatorError;
  }
  const code = exitCodeFor(error);
  if (json) {
    const e = error as { message?: string; nextStep?: string; fault?: string; retryable?: boolean; name?: string };
    io.out(JSON.stringify({ error: { name: e.name ?? 'Error', message: e.message ?? String(error), fault: e.fault ?? 'internal', retryable: e.retryable ?? false, nextStep: e.nextStep ?? null, exitCode: code } }, null, 2));
  }
  for (const line of describeError(error)) io.err(line);
  return code;
}
