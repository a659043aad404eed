import type { Clock } from '../../pipeline/aws';

/** A clock that only moves when someone sleeps: each sleep advances it by exactly the time asked. */
export class SteppingClock implements Clock {
  time = 0;
  readonly sleeps: number[] = [];
  now(): number {
    return this.time;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.time += ms;
  }
}

/** A clock that stands still and records when each sleeper would wake (for concurrent callers). */
export class FrozenClock implements Clock {
  readonly wakeTimes: number[] = [];
  constructor(public time = 0) {}
  now(): number {
    return this.time;
  }
  async sleep(ms: number): Promise<void> {
    this.wakeTimes.push(this.time + ms);
  }
}
