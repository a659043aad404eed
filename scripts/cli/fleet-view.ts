/**
 * One view for a fleet: per key ring, the stage it is at, what it waits for, or why it failed.
 * On a terminal, the CLI's live view (view/live.ts) draws one line per key ring — each key ring's
 * engine events are re-told as that line's — elsewhere one plain line per stage start and end goes
 * to stderr, prefixed with the key ring; --json draws nothing live. At the end, a summary with
 * each key ring's outcome, next step and exit code.
 */
import type { ProgressEvent } from '../../pipeline/engine/engine';
import type { KeyRingOutcome } from '../../pipeline/fleet/fleet-run';
import type { StageStatus } from '../../pipeline/state/types';
import type { CliContext } from './context';
import { startWords } from './progress';
import { MARK, statusWords } from './view/marks';
import { nextStep } from './view/next-step';
import { ArnShortener, fitText, normalizeTimes } from './view/text';
import { LiveView } from './view/live';

export interface FleetView {
  /** The engine events of one key ring. */
  readonly onEvent: (keyring: string, event: ProgressEvent) => void;
  /** Runs `drive` (which resolves to one outcome per key ring) under the view. */
  run(drive: () => Promise<KeyRingOutcome[]>): Promise<KeyRingOutcome[]>;
}

/** A key ring's engine event as an event of its line in the live view (the line is named after the key ring). */
function asLineEvent(keyring: string, event: ProgressEvent): ProgressEvent | undefined {
  switch (event.type) {
    case 'stage-start':
      return { type: 'message', stage: keyring, message: `${event.stage}${startWords(event)}` };
    case 'message':
      return { type: 'message', stage: keyring, message: `${event.stage}: ${event.message}` };
    case 'call':
      return event.phase === 'intent' ? { type: 'message', stage: keyring, message: `${event.stage}: → ${event.operation} ${event.target}` } : undefined;
    case 'stage-end':
      // Waiting and failing end the key ring's part: its line shows them; other ends move on.
      if (event.status === 'waiting' || event.status === 'failed') return { ...event, stage: keyring, summary: `${event.stage}: ${event.summary}` };
      return { type: 'message', stage: keyring, message: `${event.stage} ${event.status}` };
    default:
      return undefined;
  }
}

const OUTCOME_STATUS: Readonly<Record<KeyRingOutcome['outcome'], StageStatus>> = {
  completed: 'done',
  waiting: 'waiting',
  open: 'pending',
  failed: 'failed',
  ended: 'undone',
  busy: 'running',
  skipped: 'skipped',
};

function liveView(ctx: CliContext, keyrings: readonly string[]): FleetView {
  const view = new LiveView(ctx.io.terminal!, keyrings, { wide: ctx.global.wide });
  return {
    onEvent: (keyring, event) => {
      if (event.type === 'stage-start') view.onEvent({ ...event, stage: keyring });
      const line = asLineEvent(keyring, event);
      if (line) view.onEvent(line);
    },
    run: async (drive) => {
      try {
        const outcomes = await drive();
        for (const o of outcomes) {
          view.onEvent({ type: 'stage-end', stage: o.keyring, status: OUTCOME_STATUS[o.outcome], summary: describeOutcome(o), ...(o.waitingFor ? { waitingFor: o.waitingFor } : {}) });
        }
        return outcomes;
      } finally {
        view.finish();
      }
    },
  };
}

function plainView(ctx: CliContext, width: number): FleetView {
  const arns = new ArnShortener(ctx.global.wide);
  const say = (keyring: string, text: string): void => ctx.io.err(fitText(`[${keyring.padEnd(width)}] ${arns.shorten(normalizeTimes(text))}`, ctx.global.wide));
  return {
    onEvent: (keyring, event) => {
      if (event.type === 'stage-start') say(keyring, `▶ ${event.stage}${startWords(event)}`);
      else if (event.type === 'message') say(keyring, `  ${event.stage}: ${event.message}`);
      else if (event.type === 'stage-end') say(keyring, `${MARK[event.status]} ${event.stage} ${statusWords(event.status, event.waitingFor)}${event.status === 'done' ? '' : `: ${event.summary}`}`);
    },
    run: (drive) => drive(),
  };
}

export function fleetView(ctx: CliContext, keyrings: readonly string[]): FleetView {
  if (ctx.global.json) return { onEvent: () => undefined, run: (drive) => drive() };
  if (ctx.io.terminal) return liveView(ctx, keyrings);
  return plainView(ctx, Math.max(...keyrings.map((k) => k.length)));
}

/** One phrase: the stage and what it waits for, or the failure. */
export function describeOutcome(o: KeyRingOutcome): string {
  const at = o.stage ? `${o.stage}: ` : '';
  switch (o.outcome) {
    case 'waiting':
      return `${at}waiting for ${o.waitingFor ?? 'something'}: ${o.summary}`;
    case 'failed':
      return `${at}FAILED: ${o.summary}`;
    default:
      return `${o.outcome}${o.stage && o.outcome !== 'completed' ? ` at ${o.stage}` : ''}: ${o.summary}`;
  }
}

/** What to do next for one key ring (the run's own next step when there is a run). */
export function nextStepOf(o: KeyRingOutcome): string {
  if (o.nextStep) return o.nextStep;
  if (o.run && o.outcome !== 'failed') return nextStep(o.run);
  return '';
}

const COUNTED: readonly KeyRingOutcome['outcome'][] = ['completed', 'waiting', 'open', 'failed', 'ended', 'busy', 'skipped'];

/** The end-of-command summary: counts, then one block per key ring (fitted to 100 columns unless --wide). */
export function renderSummary(outcomes: readonly KeyRingOutcome[], exitCode: number, wide = false): string {
  const arns = new ArnShortener(wide);
  const fit = (line: string): string => fitText(arns.shorten(normalizeTimes(line)), wide);
  const counts = COUNTED.map((kind) => [kind, outcomes.filter((o) => o.outcome === kind).length] as const).filter(([, n]) => n > 0);
  const lines = [`fleet: ${outcomes.length} key ring(s): ${counts.map(([kind, n]) => `${n} ${kind}`).join(', ')}; exit ${exitCode}`];
  for (const o of outcomes) {
    lines.push(fit(`  ${MARK[OUTCOME_STATUS[o.outcome]]} ${o.keyring}  ${o.runId ?? '-'}  [exit ${o.exitCode}]`));
    lines.push(fit(`      ${describeOutcome(o)}`));
    const next = nextStepOf(o);
    if (next) lines.push(fit(`      next: ${next}`));
  }
  return lines.join('\n');
}
