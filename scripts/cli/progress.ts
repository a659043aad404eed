/**
 * Progress for stage work. On a terminal, listr2 draws one live line per stage; elsewhere (CI,
 * pipes, tests) plain lines go through the CLI's output, one per event, so logs stay readable.
 */
import type { Engine, ProgressEvent } from '../../pipeline/engine/engine';
import type { Run } from '../../pipeline/state/types';
import type { CliIo } from './context';

export function plainProgress(io: CliIo): (event: ProgressEvent) => void {
  return (event) => {
    if (event.type === 'stage-start') io.err(`▶ ${event.stage}${event.attempt > 1 ? ` (attempt ${event.attempt})` : ''}`);
    else if (event.type === 'message') io.err(`  ${event.stage}: ${event.message}`);
    else io.err(`${event.status === 'failed' ? '✖' : event.status === 'waiting' ? '⏸' : '✔'} ${event.stage} ${event.status}: ${event.summary}`);
  };
}

/** Runs the remaining stages one task each under listr2 (terminal only). */
export async function advanceWithListr(engine: Engine, run: Run, sink: { onEvent?: (event: ProgressEvent) => void }, stageLimit?: number): Promise<Run> {
  const { Listr } = await import('listr2');
  let current = run;
  const remaining = run.stages.filter((s) => s.status !== 'done' && s.status !== 'skipped').slice(0, stageLimit ?? Infinity);
  let stop = false;
  const tasks = new Listr(
    remaining.map((stage) => ({
      title: stage.name,
      skip: () => stop,
      task: async (_: unknown, task: { title: string; output: string }) => {
        sink.onEvent = (event) => {
          if (event.type === 'message') task.output = event.message;
          if (event.type === 'stage-end') task.title = `${event.stage}: ${event.summary}`;
        };
        current = await engine.advance(run.id, { stageLimit: 1 });
        const record = current.stages.find((s) => s.name === stage.name);
        if (record?.status === 'waiting') stop = true;
      },
    })),
    { exitOnError: true, rendererOptions: { collapseErrors: false } },
  );
  await tasks.run();
  return current;
}
