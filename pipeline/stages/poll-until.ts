/**
 * Waiting for an asynchronous AWS change a stage started (a replica leaving `Creating`, an
 * on-demand rotation appearing in ListKeyRotations) on the schedule the Identity Center switch uses
 * (pipeline/identity-center/poll-schedule.ts: a wait proportional to the time already waited,
 * between a floor and a cap), with the engine's injectable sleep. Time is counted as the sum of the
 * waits asked for, so a test's instant sleep still reaches the timeout.
 */
import { StageError } from '../errors';
import type { StageContext } from '../engine/types';
import { DEFAULT_SWITCH_TIMEOUT_MS } from '../identity-center/ensure-encryption';
import { nextPollDelayMs, resolvePollSchedule } from '../identity-center/poll-schedule';

export interface PollUntilSpec<T> {
  readonly stage: string;
  /** What is awaited, for progress lines and the timeout message ("replica in eu-west-1 to be Enabled"). */
  readonly what: string;
  readonly read: () => Promise<T>;
  readonly done: (value: T) => boolean;
  /** The value in words, for the timeout message. */
  readonly describe: (value: T) => string;
}

/** Reads until `done`; the first read is immediate. Throws a retryable StageError after the poll timeout. */
export async function pollUntil<T>(ctx: StageContext, spec: PollUntilSpec<T>): Promise<T> {
  const poll = ctx.options.poll ?? {};
  const schedule = resolvePollSchedule({ floorMs: poll.initialMs, capMs: poll.maxMs });
  const timeoutMs = poll.timeoutMs ?? DEFAULT_SWITCH_TIMEOUT_MS;
  let waited = 0;
  let announced = false;
  for (;;) {
    const value = await spec.read();
    if (spec.done(value)) return value;
    const delay = nextPollDelayMs(waited, schedule);
    if (waited + delay > timeoutMs) {
      throw new StageError(spec.stage, `gave up waiting for ${spec.what} after ${Math.round(waited / 1000)} s (last seen: ${spec.describe(value)})`, {
        fault: 'aws',
        retryable: true,
        nextStep: `run \`rotate advance ${ctx.run().id}\` again: the stage resumes the wait without repeating what it already did`,
      });
    }
    if (!announced) ctx.progress(`waiting for ${spec.what} (now ${spec.describe(value)})`);
    announced = true;
    await ctx.sleep(delay);
    waited += delay;
  }
}
