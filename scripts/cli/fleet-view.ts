/**
 * One view for a fleet: per key ring, the stage it is at, what it waits for, or why it failed.
 * On a terminal, listr2 draws one live line per key ring (all at once); elsewhere one plain line
 * per stage start and end goes to stderr, prefixed with the key ring; --json draws nothing live.
 * At the end, a summary table with each key ring's outcome, next step and exit code.
 */
import type { ProgressEvent } from '../../pipeline/engine/engine';
import type { KeyRingOutcome } from '../../pipeline/fleet/fleet-run';
import type { CliContext } from './context';
import { nextStep } from './run-view';

export interface FleetView {
  /** The engine events of one key ring. */
  readonly onEvent: (keyring: string, event: ProgressEvent) => void;
  /** Runs `drive` (which resolves to one outcome per key ring) under the view. */
  run(drive: () => Promise<KeyRingOutcome[]>): Promise<KeyRingOutcome[]>;
}

function line(event: ProgressEvent): string | undefined {
  switch (event.type) {
    case 'stage-start':
      return `▶ ${event.stage}${event.resumed ? ' (resumed)' : ''}`;
    case 'stage-end':
      return event.status === 'waiting'
        ? `⏸ ${event.stage}: waiting for ${event.waitingFor ?? 'something'}: ${event.summary}`
        : `${event.status === 'failed' ? '✖' : event.status === 'done' ? '✔' : '·'} ${event.stage} ${event.status}${event.status === 'failed' ? `: ${event.summary}` : ''}`;
    case 'message':
      return `  ${event.stage}: ${event.message}`;
    default:
      return undefined;
  }
}

function plainView(ctx: CliContext, width: number): FleetView {
  return {
    onEvent: (keyring, event) => {
      const text = line(event);
      if (text) ctx.io.err(`[${keyring.padEnd(width)}] ${text}`);
    },
    run: (drive) => drive(),
  };
}

/** listr2: one concurrent task per key ring whose title follows its run. */
function liveView(keyrings: readonly string[]): FleetView {
  const titles = new Map<string, (text: string) => void>();
  const finishers = new Map<string, (outcome: KeyRingOutcome | undefined) => void>();
  const finished = new Map<string, Promise<KeyRingOutcome | undefined>>();
  for (const name of keyrings) finished.set(name, new Promise((resolve) => finishers.set(name, resolve)));
  return {
    onEvent: (keyring, event) => {
      const text = line(event);
      if (text && event.type !== 'message') titles.get(keyring)?.(`${keyring}: ${text}`);
    },
    run: async (drive) => {
      const { Listr } = await import('listr2');
      const tasks = new Listr(
        keyrings.map((name) => ({
          title: name,
          task: async (_: unknown, task: { title: string; skip: (message?: string) => void }) => {
            titles.set(name, (text) => (task.title = text));
            const outcome = await finished.get(name)!;
            if (!outcome) return task.skip(`${name}: not reached`);
            if (outcome.outcome === 'failed') throw new Error(`${name}: ${outcome.stage ? `${outcome.stage}: ` : ''}${outcome.summary}`);
            if (outcome.outcome === 'skipped') return task.skip(`${name}: ${outcome.summary}`);
            task.title = `${name}: ${describeOutcome(outcome)}`;
          },
        })),
        { concurrent: true, exitOnError: false, rendererOptions: { collapseErrors: false } },
      );
      const drawing = tasks.run().catch(() => undefined);
      let outcomes: KeyRingOutcome[] = [];
      try {
        outcomes = await drive();
        return outcomes;
      } finally {
        for (const name of keyrings) finishers.get(name)!(outcomes.find((o) => o.keyring === name));
        await drawing;
      }
    },
  };
}

export function fleetView(ctx: CliContext, keyrings: readonly string[]): FleetView {
  if (ctx.global.json) return { onEvent: () => undefined, run: (drive) => drive() };
  if (ctx.io.interactive) return liveView(keyrings);
  return plainView(ctx, Math.max(...keyrings.map((k) => k.length)));
}

/** One phrase: the stage and what it waits for, or the failure. */
export function describeOutcome(o: KeyRingOutcome): string {
  const at = o.stage ? `${o.stage}: ` : '';
  switch (o.outcome) {
    case 'waiting':
      return `${at}waiting for ${o.waitingFor ?? 'something'} — ${o.summary}`;
    case 'failed':
      return `${at}FAILED — ${o.summary}`;
    default:
      return `${o.outcome}${o.stage && o.outcome !== 'completed' ? ` at ${o.stage}` : ''} — ${o.summary}`;
  }
}

/** What to do next for one key ring (the run's own next step when there is a run). */
export function nextStepOf(o: KeyRingOutcome): string {
  if (o.nextStep) return o.nextStep;
  if (o.run && o.outcome !== 'failed') return nextStep(o.run);
  return '';
}

const COUNTED: readonly KeyRingOutcome['outcome'][] = ['completed', 'waiting', 'open', 'failed', 'ended', 'skipped'];

/** The end-of-command summary: counts, then one block per key ring. */
export function renderSummary(outcomes: readonly KeyRingOutcome[], exitCode: number): string {
  const counts = COUNTED.map((kind) => [kind, outcomes.filter((o) => o.outcome === kind).length] as const).filter(([, n]) => n > 0);
  const lines = [`fleet: ${outcomes.length} key ring(s): ${counts.map(([kind, n]) => `${n} ${kind}`).join(', ')}; exit ${exitCode}`];
  const width = Math.max(...outcomes.map((o) => o.keyring.length));
  for (const o of outcomes) {
    lines.push(`  ${o.outcome === 'failed' ? '✖' : o.outcome === 'waiting' ? '⏸' : o.outcome === 'completed' ? '✔' : '·'} ${o.keyring.padEnd(width)}  ${o.runId ?? '-'}  ${describeOutcome(o)}  [exit ${o.exitCode}]`);
    const next = nextStepOf(o);
    if (next) lines.push(`      next: ${next}`);
  }
  return lines.join('\n');
}
