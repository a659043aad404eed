import {
  IDENTITY_CENTER_POLL_SCHEDULE,
  nextPollDelayMs,
  predictDetection,
  promisedOvershootMs,
  resolvePollSchedule,
} from '../../pipeline/identity-center/poll-schedule';
import { KeyrotorError } from '../../pipeline/errors';
import { JITTER_SOURCES, seededRandom } from './seeded-random';

const schedule = IDENTITY_CENTER_POLL_SCHEDULE;
const withoutJitter = { ...schedule, jitter: 0 };

/**
 * One wait's polls on the model clock, walked once: the returned function answers "when is a
 * switch of T ms seen, after how many polls" for increasing T. The poll times do not depend on T
 * (the schedule only looks at the time waited), and T is seen by the first poll sent at or after it.
 */
function makeWalk(random: () => number, roundTripMs: number): (T: number) => { detectedAtMs: number; polls: number } {
  let sentAt = nextPollDelayMs(0, schedule, random);
  let polls = 1;
  return (T) => {
    while (sentAt < T) {
      sentAt += roundTripMs + nextPollDelayMs(sentAt + roundTripMs, schedule, random);
      polls += 1;
    }
    return { detectedAtMs: sentAt + roundTripMs, polls };
  };
}

describe('the Identity Center poll schedule (pure, model clock)', () => {
  test('GIVEN no jitter WHEN asked for the next wait THEN it is 15% of the time waited, between 500 ms and 15 s', () => {
    expect(schedule).toEqual({ floorMs: 500, capMs: 15_000, ratio: 0.15, jitter: 0.1 });
    expect(nextPollDelayMs(0, withoutJitter)).toBe(500);
    expect(nextPollDelayMs(3_000, withoutJitter)).toBe(500);
    expect(nextPollDelayMs(10_000, withoutJitter)).toBe(1_500);
    expect(nextPollDelayMs(60_000, withoutJitter)).toBe(9_000);
    expect(nextPollDelayMs(100_000, withoutJitter)).toBe(15_000);
    expect(nextPollDelayMs(3_600_000, withoutJitter)).toBe(15_000);
  });

  test('GIVEN jitter WHEN asked for the next wait THEN it is shortened by at most 10% and never below the floor', () => {
    expect(nextPollDelayMs(60_000, schedule, () => 0)).toBe(9_000);
    expect(nextPollDelayMs(60_000, schedule, () => 0.5)).toBe(8_550);
    expect(nextPollDelayMs(60_000, schedule, () => 0.999_999)).toBe(8_100);
    expect(nextPollDelayMs(1_000, schedule, () => 0.999_999)).toBe(500);
  });

  // The schedule's promise (README): a switch lasting T in [1 s, 60 s] is seen at most
  // max(0.2 T, 2 s) late, counting each DescribeInstance's round trip up to 200 ms. Checked for
  // every millisecond of T, with each jitter extreme and a random one (one walk along the polls
  // answers every T; the next test checks the walk against predictDetection).
  describe.each(JITTER_SOURCES)('WHEN a switch of every T from 1 s to 60 s (1 ms steps) is waited for, %s', (_name, makeRandom) => {
    test.each([0, 200])('THEN it is seen within max(0.2 T, 2 s), with %i ms per DescribeInstance round trip', (roundTripMs) => {
      const walk = makeWalk(makeRandom(), roundTripMs);
      const broken: { T: number; detectedAtMs: number; promisedMs: number }[] = [];
      for (let T = 1_000; T <= 60_000; T += 1) {
        const { detectedAtMs } = walk(T);
        if (detectedAtMs - T > promisedOvershootMs(T)) broken.push({ T, detectedAtMs, promisedMs: promisedOvershootMs(T) });
      }
      // One expect for the whole sweep; a failure lists the first switch durations that broke it.
      expect(broken.slice(0, 5)).toEqual([]);
    });
  });

  test('GIVEN a random jitter WHEN a switch is predicted THEN predictDetection agrees with the walk along the poll times', () => {
    const walk = makeWalk(seededRandom(7), 100);
    for (let T = 1_000; T <= 60_000; T += 250) {
      expect(predictDetection(T, schedule, { roundTripMs: 100, random: seededRandom(7) })).toEqual(walk(T));
    }
  });

  test('GIVEN any time waited and any jitter WHEN asked for the next wait THEN it is between the floor and the cap (never more than 2 DescribeInstance calls a second, a tenth of the 20 TPS Identity Center throttle limit)', () => {
    const outside: { elapsed: number; delay: number }[] = [];
    for (const [, makeRandom] of JITTER_SOURCES) {
      const random = makeRandom();
      for (let elapsed = 0; elapsed <= 3_600_000; elapsed += 997) {
        const delay = nextPollDelayMs(elapsed, schedule, random);
        if (delay < 500 || delay > 15_000) outside.push({ elapsed, delay });
      }
    }
    expect(outside.slice(0, 5)).toEqual([]);
  });

  test('GIVEN the default schedule without jitter THEN a 5 s, 20 s and 60 s switch take 10, 20 and 28 polls (the README figures)', () => {
    expect(predictDetection(5_000, withoutJitter)).toEqual({ detectedAtMs: 5_322, polls: 10 });
    expect(predictDetection(20_000, withoutJitter)).toEqual({ detectedAtMs: 21_519, polls: 20 });
    expect(predictDetection(60_000, withoutJitter)).toEqual({ detectedAtMs: 65_817, polls: 28 });
  });

  test('GIVEN the schedule the stage used before (500 ms doubling to 15 s) THEN it broke the promise the new one keeps', () => {
    // Why the shape changed: doubling saw a 20 s switch at 30.5 s (+52%), the report.
    let clock = 0;
    let delay = 500;
    while (clock < 20_000) {
      clock += delay;
      delay = Math.min(delay * 2, 15_000);
    }
    expect(clock - 20_000).toBeGreaterThan(promisedOvershootMs(20_000));
    expect(predictDetection(20_000, schedule, { random: () => 0 }).detectedAtMs - 20_000).toBeLessThanOrEqual(promisedOvershootMs(20_000));
  });
});

describe('resolvePollSchedule', () => {
  test('GIVEN overrides with unset fields WHEN resolved THEN the unset ones keep the defaults', () => {
    expect(resolvePollSchedule({ floorMs: 10, capMs: undefined })).toEqual({ ...schedule, floorMs: 10 });
    expect(resolvePollSchedule()).toEqual(schedule);
  });

  test.each([
    [{ floorMs: 0 }, /floorMs 0 must be a positive number/],
    [{ floorMs: Number.NaN }, /floorMs NaN must be a positive number/],
    [{ floorMs: 100, capMs: 50 }, /capMs 50 must be .* no smaller than floorMs 100/],
    [{ ratio: 0 }, /ratio 0 must be in \(0, 1\]/],
    [{ ratio: 2 }, /ratio 2 must be in \(0, 1\]/],
    [{ jitter: 1 }, /jitter 1 must be in \[0, 1\)/],
    [{ jitter: -0.1 }, /jitter -0.1 must be in \[0, 1\)/],
  ])('GIVEN the bad override %p WHEN resolved THEN it is refused, naming the field', (override, message) => {
    const attempt = () => resolvePollSchedule(override);
    expect(attempt).toThrow(KeyrotorError);
    expect(attempt).toThrow(message);
  });
});
