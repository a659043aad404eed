/**
 * `rotate advance RUN --wait [--timeout D]`: advance, and while the run waits, wait with it — until
 * the soak's recorded end for time, with backoff (30 s doubling to 10 min) for people — then
 * advance again, until the run completes, fails, ends, or the timeout passes. Progress goes to
 * stderr. The exit code comes from the engine's last `stopped` reason (exitCodeForStop). Time
 * comes from the CLI's clock, so tests never sleep.
 */
import { exitCodeForStop, ExitCode, KeyrotorError } from '../../pipeline/errors';
import type { Run } from '../../pipeline/state/types';
import type { CliContext } from './context';
import type { Driven } from './commands/run-support';
import { formatDuration, formatTime, normalizeTimes } from './view/text';

export const PEOPLE_POLL_FIRST_MS = 30_000;
export const PEOPLE_POLL_MAX_MS = 10 * 60_000;
/** A long soak is slept in slices, each ending with a progress line (and under setTimeout's limit). */
export const TIME_SLICE_MAX_MS = 60 * 60_000;

const UNIT_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `30m`, `2h`, `1d`, `1h30m`: a duration with units; names the option when it is not one. */
export function parseDuration(option: string, raw: string): number {
  const parts = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(raw.trim());
  if (!parts || raw.trim() === '') {
    throw new KeyrotorError(`${option} must be a duration such as 90s, 30m, 2h, 1d or 1h30m, got "${raw}"`, { fault: 'operator', nextStep: `e.g. \`${option} 2h\`` });
  }
  const [, d, h, m, s] = parts;
  return Number(d ?? 0) * UNIT_MS.d! + Number(h ?? 0) * UNIT_MS.h! + Number(m ?? 0) * UNIT_MS.m! + Number(s ?? 0) * UNIT_MS.s!;
}

function soakUntil(run: Run): number | undefined {
  const waiting = run.stages.find((s) => s.status === 'waiting' && s.waitingFor === 'time');
  const until = waiting?.outputs?.soakUntil;
  return typeof until === 'string' ? Date.parse(until) : undefined;
}

export interface WaitResult {
  readonly driven: Driven;
  readonly exitCode: number;
}

/** Advances until the run no longer waits (or the timeout passes); `advanceOnce` is one `rotate advance`. */
export async function advanceAndWait(ctx: CliContext, advanceOnce: () => Promise<Driven>, timeoutMs: number | undefined): Promise<WaitResult> {
  const { clock } = ctx;
  const deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : clock.now().getTime() + timeoutMs;
  let peopleDelay = PEOPLE_POLL_FIRST_MS;
  for (;;) {
    const driven = await advanceOnce();
    const reason = driven.stop?.reason;
    if (reason === undefined) return { driven, exitCode: ExitCode.ok };
    const code = exitCodeForStop(reason);
    if (reason === 'not-with-switch') continue; // the next advance reaches the deletion's own wait at once
    if (reason !== 'waiting-time' && reason !== 'waiting-people' && reason !== 'ready-to-delete') return { driven, exitCode: code };
    const now = clock.now().getTime();
    const left = deadline - now;
    if (left <= 0) {
      ctx.io.err(`wait: gave up after ${formatDuration(timeoutMs ?? 0)} (--timeout); the run still waits: ${normalizeTimes(driven.stop?.message ?? '')}`);
      return { driven, exitCode: code };
    }
    let delay: number;
    let why: string;
    const until = reason === 'waiting-time' ? soakUntil(driven.run) : undefined;
    if (until !== undefined) {
      delay = Math.min(Math.max(1000, until - now), TIME_SLICE_MAX_MS);
      why = `soak ends at ${formatTime(new Date(until))}`;
      peopleDelay = PEOPLE_POLL_FIRST_MS;
    } else {
      delay = peopleDelay;
      peopleDelay = Math.min(peopleDelay * 2, PEOPLE_POLL_MAX_MS);
      why = reason === 'ready-to-delete' ? `waiting for someone to run \`rotate delete ${driven.run.id}\`` : 'waiting for approvals';
    }
    delay = Math.min(delay, left);
    ctx.io.err(`wait: ${why}; next check at ${formatTime(new Date(now + delay))} (in ${formatDuration(delay)})`);
    await clock.sleep(delay);
  }
}
