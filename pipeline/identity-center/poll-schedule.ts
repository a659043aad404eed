/**
 * When to ask Identity Center again whether an encryption switch has finished. One schedule for
 * the pipeline's switch stage and the Terraform helper (both through ensure-encryption.ts).
 *
 * The wait after a poll is a fixed fraction of the time already waited, between a floor and a cap:
 *
 *     delay(elapsed) = min(capMs, max(floorMs, ratio × elapsed)), shortened by up to `jitter` at random
 *
 * Why that shape: a switch that ends at T is seen at the first poll after T, so it is seen late by
 * less than the delay chosen at the last poll before T, i.e. less than max(floorMs, ratio × T)
 * (jitter only shortens delays, the cap only lowers them). With the defaults that is under
 * max(0.15 × T, 0.5 s): inside the promise of max(0.2 × T, 2 s), with the rest left for
 * DescribeInstance round trips. Doubling delays (the old schedule) cannot keep a ratio bound: a
 * switch ending just after a poll waits as long again as everything before it.
 *
 * Politeness: IAM Identity Center APIs share one throttle limit of 20 transactions per second per
 * account (Identity Center user guide, "Quotas", throttle limits). The floor keeps one waiter at 2
 * DescribeInstance calls per second at most (a tenth of that budget), and only for the first
 * 3.3 s; after a minute it is one call per 8–9 s, and from 100 s on one per 13.5–15 s (the cap,
 * less jitter).
 */
import { KeyrotorError } from '../errors';

export interface PollSchedule {
  /** Shortest wait between two DescribeInstance calls (ms). */
  readonly floorMs: number;
  /** Longest wait between two DescribeInstance calls (ms). */
  readonly capMs: number;
  /** The wait as a fraction of the time already waited (0 < ratio ≤ 1). */
  readonly ratio: number;
  /**
   * Up to this fraction is taken off each wait at random (0 ≤ jitter < 1), never below the floor,
   * so waiters started together do not poll in step. It only shortens waits, so it never loosens
   * the detection bound.
   */
  readonly jitter: number;
}

/** The defaults: the only place they live. */
export const IDENTITY_CENTER_POLL_SCHEDULE: PollSchedule = Object.freeze({ floorMs: 500, capMs: 15_000, ratio: 0.15, jitter: 0.1 });

/** The promise the default schedule keeps (README): a switch of T ms is seen at most this late, for T in [1 s, 60 s]. */
export function promisedOvershootMs(switchMs: number): number {
  return Math.max(0.2 * switchMs, 2_000);
}

function invalid(message: string): never {
  throw new KeyrotorError(`Identity Center poll schedule: ${message}`, {
    fault: 'internal',
    nextStep: 'fix the poll option passed to the Identity Center driver (EngineOptions.poll, or the caller\'s schedule override)',
  });
}

/**
 * The default schedule with `overrides` applied (undefined fields keep the default), checked: a
 * bad value would otherwise mean a busy loop (floor 0) or no polling at all (NaN).
 */
export function resolvePollSchedule(overrides: Partial<PollSchedule> = {}): PollSchedule {
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined)) as Partial<PollSchedule>;
  const schedule = { ...IDENTITY_CENTER_POLL_SCHEDULE, ...defined };
  const { floorMs, capMs, ratio, jitter } = schedule;
  if (!(Number.isFinite(floorMs) && floorMs > 0)) invalid(`floorMs ${floorMs} must be a positive number of milliseconds`);
  if (!(Number.isFinite(capMs) && capMs >= floorMs)) invalid(`capMs ${capMs} must be a number of milliseconds no smaller than floorMs ${floorMs}`);
  if (!(ratio > 0 && ratio <= 1)) invalid(`ratio ${ratio} must be in (0, 1]`);
  if (!(jitter >= 0 && jitter < 1)) invalid(`jitter ${jitter} must be in [0, 1)`);
  return schedule;
}

/**
 * How long to wait before the next DescribeInstance, given how long the wait has lasted so far.
 * Pure: `random` (in [0, 1)) is the only source of variation.
 */
export function nextPollDelayMs(elapsedMs: number, schedule: PollSchedule, random: () => number = Math.random): number {
  const base = Math.min(schedule.capMs, Math.max(schedule.floorMs, schedule.ratio * Math.max(0, elapsedMs)));
  const jittered = Math.floor(base * (1 - schedule.jitter * random()));
  return Math.max(schedule.floorMs, jittered);
}

export interface PredictedDetection {
  /** When the switch is seen ENABLED, from the start of the wait (ms). */
  readonly detectedAtMs: number;
  /** DescribeInstance calls from the start of the wait to that one, inclusive (not the read before UpdateInstance). */
  readonly polls: number;
}

/**
 * What the schedule does for a switch finishing `switchMs` after the wait starts, on a model
 * clock: each DescribeInstance takes `roundTripMs` and sees ENABLED when it is sent at or after
 * `switchMs`. The tests check the driver against this, and the bench prints it next to what it
 * measured.
 */
export function predictDetection(switchMs: number, schedule: PollSchedule, options: { roundTripMs?: number; random?: () => number } = {}): PredictedDetection {
  const roundTrip = options.roundTripMs ?? 0;
  let clock = 0;
  let polls = 0;
  for (;;) {
    clock += nextPollDelayMs(clock, schedule, options.random);
    const sentAt = clock;
    clock += roundTrip;
    polls += 1;
    if (sentAt >= switchMs) return { detectedAtMs: clock, polls };
  }
}
