/**
 * Views of the engine's events. The engine alone drives a run; a view only draws what it reports:
 * on a terminal, one live line per stage (view/live.ts); elsewhere (CI, pipes, tests, --json)
 * plain lines on stderr, one per event. Errors are not drawn here: the command prints each error
 * once, with its next step.
 */
import type { ProgressEvent } from '../../pipeline/engine/engine';
import type { CliContext } from './context';
import { MARK, statusWords } from './view/marks';
import { ArnShortener, fitText, normalizeTimes } from './view/text';
import { LiveView } from './view/live';

export interface ProgressView {
  onEvent(event: ProgressEvent): void;
  /** Draws the final state (the live view stops redrawing). */
  finish(): void;
}

/** Why a stage runs again, in words: a routine re-check of a waiting stage is not a retry. */
export function startWords(event: Extract<ProgressEvent, { type: 'stage-start' }>): string {
  if (event.recheck) return ' (checking again)';
  if (event.resumed) return ` (resumed: attempt ${event.attempt})`;
  return '';
}

export function plainProgress(write: (line: string) => void, options: { wide?: boolean } = {}): ProgressView {
  const arns = new ArnShortener(Boolean(options.wide));
  const say = (line: string): void => write(fitText(arns.shorten(normalizeTimes(line)), Boolean(options.wide)));
  return {
    onEvent(event) {
      switch (event.type) {
        case 'stage-start':
          say(`▶ ${event.stage}${startWords(event)}`);
          break;
        case 'message':
          say(`  ${event.stage}: ${event.message}`);
          break;
        case 'call':
          if (event.phase === 'intent') say(`  ${event.stage}: → ${event.operation} ${event.target}`);
          else if (event.phase === 'reconciled') say(`  ${event.stage}: reconciled an unfinished ${event.operation}: ${event.note ?? ''}`);
          break;
        case 'stage-end':
          say(`${MARK[event.status]} ${event.stage} ${statusWords(event.status, event.waitingFor)}${event.status === 'failed' ? '' : `: ${event.summary}`}`);
          break;
        case 'stopped':
          break;
      }
    },
    finish() {},
  };
}

/**
 * The view for one engine call: live lines for `stages` when stderr is a terminal (and the output
 * is not --json), plain lines on stderr otherwise.
 */
export function progressViewFor(ctx: CliContext, stages: readonly string[]): ProgressView {
  if (ctx.io.terminal && !ctx.global.json && stages.length > 0) return new LiveView(ctx.io.terminal, stages, { wide: ctx.global.wide });
  return plainProgress(ctx.io.err, { wide: ctx.global.wide });
}
