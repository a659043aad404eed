/**
 * Confirmation before the changes that are hard to take back: switching Identity Center, rolling
 * back, scheduling a deletion. On a terminal the operator reads what will change and types `yes`.
 * Without a terminal (CI) nobody can answer: a deletion then needs `--yes` (the one change no
 * rollback undoes); a switch or a rollback goes ahead — the dispatch that ran it was the decision —
 * after saying what it changes. `--yes` says so explicitly and skips the question.
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
  /** Refuse without a terminal unless --yes (the deletion). */
  readonly yesRequiredWithoutTerminal?: boolean;
}

/** Thrown when nobody could confirm a deletion and --yes was not given (exit 2; nothing was changed). */
export class ConfirmationNeededError extends KeyrotorError {
  constructor(readonly command: string, changes: readonly string[]) {
    super(`\`${command}\` needs confirmation: it would\n  - ${changes.join('\n  - ')}`, {
      fault: 'operator',
      nextStep: `run it on a terminal to confirm, or add --yes where no one can answer a prompt (CI): \`${command} --yes\``,
    });
  }
}

/**
 * True when the command may go ahead (confirmed on the terminal, --yes, or no terminal for a
 * reversible change); false when the operator declined (the caller exits 1, having changed nothing).
 */
export async function confirm(ctx: CliContext, confirmation: Confirmation): Promise<boolean> {
  if (confirmation.yes) return true;
  const list = `\`${confirmation.command}\` will:\n${confirmation.changes.map((c) => `  - ${c}`).join('\n')}`;
  if (!ctx.io.interactive) {
    if (confirmation.yesRequiredWithoutTerminal) throw new ConfirmationNeededError(confirmation.command, confirmation.changes);
    ctx.io.err(fitText(`${list}\n(no terminal to confirm on: going ahead; --yes says so explicitly)`, ctx.global.wide));
    return true;
  }
  ctx.io.err(fitText(list, ctx.global.wide));
  const answer = await ctx.io.readLine('Type yes to continue: ');
  if (answer?.trim().toLowerCase() === 'yes') return true;
  ctx.io.err('not confirmed; nothing was changed');
  return false;
}
