/**
 * Where a fleet command's time went, for `--json` and the fleet bench. Concurrent key rings
 * overlap, so each category is measured as busy wall time (the union of its intervals: "some key
 * ring was waiting on the rate limiter / sleeping between polls / inside a state store call"), not
 * as a sum, and the categories may overlap each other.
 */
import type { StateStore } from '../state/types';

/** Accumulates the wall time during which at least one interval of a category is open. */
export class BusyTime {
  private open = 0;
  private since = 0;
  private total = 0;
  private intervals = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Opens an interval; call the returned function to close it. */
  begin(): () => void {
    if (this.open++ === 0) this.since = this.now();
    this.intervals += 1;
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      if (--this.open === 0) this.total += this.now() - this.since;
    };
  }

  async time<T>(work: () => Promise<T>): Promise<T> {
    const end = this.begin();
    try {
      return await work();
    } finally {
      end();
    }
  }

  /** Busy wall milliseconds so far (an open interval counts up to now). */
  ms(): number {
    return this.total + (this.open > 0 ? this.now() - this.since : 0);
  }

  count(): number {
    return this.intervals;
  }
}

/** The store, with every call's time added to `busy` (state reads and writes of all key rings). */
export function timedStore(store: StateStore, busy: BusyTime): StateStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function' || property === 'close') return value;
      return (...args: unknown[]) => {
        const end = busy.begin();
        return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args).finally(end);
      };
    },
  });
}
