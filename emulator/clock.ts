/**
 * The emulator's clock: the dates it reports and the time-based changes it makes (a key's
 * deletion at the end of its waiting period, automatic key rotation, temporary credentials'
 * expiry). It reads a base clock (real time unless `EmulatorOptions.now` is given) plus an offset
 * that tests and child processes move forward with `advanceClock` or `POST /_emulator/clock`, so a
 * 30-day waiting period passes without anybody waiting.
 *
 * Short asynchronous workflows (an UpdateInstance switch, a replica's Creating state, an on-demand
 * rotation, an Identity Center Region workflow) use real milliseconds instead, as AWS's take seconds.
 */
export class EmulatorClock {
  private offsetMs = 0;

  constructor(private readonly base: () => Date = () => new Date()) {}

  now(): Date {
    return new Date(this.base().getTime() + this.offsetMs);
  }

  get offset(): number {
    return this.offsetMs;
  }

  /** Sets the offset back (restoring a snapshot); the only way the emulator clock moves back. */
  restoreOffset(offsetMs: number): void {
    this.offsetMs = offsetMs;
  }

  /** Moves the clock forward by `ms` (never back: AWS time does not run backwards). */
  advance(ms: number): Date {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`advanceClock: ${ms} ms must be a finite number of zero or more`);
    this.offsetMs += ms;
    return this.now();
  }
}
