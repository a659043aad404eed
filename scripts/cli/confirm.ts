/**
 * Confirmation before the changes that are hard to take back: switching Identity Center, rolling
 * back, scheduling a deletion. On a terminal the operator reads what will change and types `yes`;
 * without a terminal the command refuses unless `--yes` (CI) says the decision was made elsewhere
 * (a reviewed dispatch, a protected environment).
 */
import { KeyrotorError } from '../../pipeline/errors';
import type { CliContext } from './context';
import { fitText } from './view/text';

export interface Confirmation {
  /** What will change, as a list of lines (each names the resource and the values). */
  readonly changes: readonly string[];
  /** The command, as typed, for the `--yes` hint. */
  readonly command: string;
  /** `--yes` was given. */
  readonly yes: boolean;
}

/** Thrown when nobody could confirm and --yes was not given (exit 2; nothing was changed). */
export class ConfirmationNeededError extends KeyrotorError {
  constructor(readonly command: string, changes: readonly string[]) {
    super(`\`${command}\` needs confirmation: it would\n  - ${changes.join('\n  - ')}`, {
      fault: 'operator',
      nextStep: `run it on a terminal to confirm, or add --yes where no one can answer a prompt (CI): \`${command} --yes\``,
    });
  }
}

/**
 * True when the operator confirmed (or --yes); false when they declined on the terminal (the
 * caller exits 1, having changed nothing). Throws ConfirmationNeededError without a terminal.
 */
export async function confirm(ctx: CliContext, confirmation: Confirmation): Promise<boolean> {
  if (confirmation.yes) return true;
  if (!ctx.io.interactive) throw new ConfirmationNeededError(confirmation.command, confirmation.changes);
  ctx.io.err(fitText(`\`${confirmation.command}\` will:\n${confirmation.changes.map((c) => `  - ${c}`).join('\n')}`, ctx.global.wide));
  const answer = await ctx.io.readLine('Type yes to continue: ');
  if (answer?.trim().toLowerCase() === 'yes') return true;
  ctx.io.err('not confirmed; nothing was changed');
  return false;
}
