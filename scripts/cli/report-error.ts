import { CommanderError } from 'commander';
import { KeyrotorError, exitCodeFor, ExitCode } from '../../pipeline/errors';
import type { CliIo } from './context';

/** Prints an error the way an operator needs it (what failed, whose fault, what next) and returns its exit code. */
export function reportError(io: CliIo, error: unknown): number {
  if (error instanceof CommanderError) {
    // commander already printed the message; help/version are not errors.
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') {
      return ExitCode.ok;
    }
    return ExitCode.operatorError;
  }
  if (error instanceof KeyrotorError) {
    io.err(`error: ${error.message}`);
    // Mapped AWS errors already end their message with the next step; say it once.
    if (error.nextStep && !error.message.includes(error.nextStep)) io.err(`next: ${error.nextStep}`);
    if (error.retryable) io.err('(this may succeed if retried later)');
    return exitCodeFor(error);
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  io.err(`internal error (a bug in keyrotor, please report it): ${message}`);
  return ExitCode.internalError;
}
