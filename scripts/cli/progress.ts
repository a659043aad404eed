/**
 * Views of the engine's events. The engine alone drives a run; a view only draws what it reports:
 * on a terminal, listr2 draws one live line per stage; elsewhere (CI, pipes, tests) plain lines
 * go to stderr, one per event. Errors are not drawn here: the command prints each error once,
 * with its next step.
 */
import type { ProgressEvent } from '../../pipeline/engine/engine';
import type { Run, StageStatus } from '../../pipeline/state/types';
import type { CliIo } from './context';

const MARK: Record<StageStatus, string> = { pending: '·', running: '…', waiting: '⏸', done: '✔', failed: '✖', undone: '↶', skipped: '↷' };

export function plainProgress(io: CliIo): (event: ProgressEvent) => void {
  return (event) => {
    switch (event.type) {
      case 'stage-start':
        io.err(`▶ ${event.stage}${event.resumed ? ' (resumed)' : ''}`);
        break;
      case 'message':
        io.err(`  ${event.stage}: ${event.message}`);
        break;
      case 'call':
        if (event.phase === 'intent') io.err(`  ${event.stage}: → ${event.operation} ${event.target}`);
        else if (event.phase === 'reconciled') io.err(`  ${event.stage}: reconciled an unfinished ${event.operation}: ${event.note ?? ''}`);
        break;
      case 'stage-end':
        io.err(`${MARK[event.status]} ${event.stage} ${event.status}${event.status === 'failed' ? '' : `: ${event.summary}`}`);
        break;
      case 'stopped':
        break;
    }
  };
}

interface Deferred {
  readonly promise: Promise<{ status: StageStatus; summary: string }>;
  resolve(value: { status: StageStatus; summary: string }): void;
  reject(error: unknown): void;
}

function deferred(): Deferred {
  let resolve!: Deferred['resolve'];
  let reject!: Deferred['reject'];
  const promise = new Promise<{ status: StageStatus; summary: string }>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined); // a stage never reached must not surface as an unhandled rejection
  return { promise, resolve, reject };
}

/**
 * Draws `drive` (one engine call) live: one task per remaining stage, finished by the engine's
 * own events. A stage the engine did not reach is shown as not run.
 */
export async function drawWithListr(stages: readonly string[], drive: (onEvent: (event: ProgressEvent) => void) => Promise<Run>): Promise<Run> {
  const { Listr } = await import('listr2');
  const pending = new Map(stages.map((name) => [name, deferred()]));
  const titles = new Map<string, (text: string) => void>();
  const onEvent = (event: ProgressEvent): void => {
    if (event.type === 'message') titles.get(event.stage)?.(`${event.stage}: ${event.message}`);
    if (event.type === 'call' && event.phase === 'intent') titles.get(event.stage)?.(`${event.stage}: ${event.operation} ${event.target}`);
    if (event.type === 'stage-end') pending.get(event.stage)?.resolve({ status: event.status, summary: event.summary });
  };
  const tasks = new Listr(
    stages.map((name) => ({
      title: name,
      task: async (_: unknown, task: { title: string; output: string; skip: (message?: string) => void }) => {
        titles.set(name, (text) => (task.output = text));
        const end = await pending.get(name)!.promise;
        if (end.status === 'failed') throw new Error(`${name} failed`);
        if (end.status === 'waiting') task.title = `${MARK.waiting} ${name}: ${end.summary}`;
        else if (end.status === 'skipped' || end.status === 'pending') task.skip(`${name}: ${end.summary}`);
        else task.title = `${name}: ${end.summary}`;
      },
    })),
    { concurrent: false, exitOnError: true, rendererOptions: { collapseErrors: true, showErrorMessage: false } },
  );
  const drawing = tasks.run().catch(() => undefined);
  try {
    return await drive(onEvent);
  } finally {
    for (const d of pending.values()) d.resolve({ status: 'pending', summary: 'not run' });
    await drawing;
  }
}
