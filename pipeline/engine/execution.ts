/**
 * Holding a run's execution lock for as long as a command acts on it: taken before the first
 * read that decides anything, renewed by a heartbeat, released at the end — unless the process
 * "dies" (a simulated crash in tests), in which case it is left behind exactly as a killed process
 * would leave it, and the next process takes it over because that holder is gone.
 */
import * as os from 'node:os';
import type { Run, RunLock, StateStore } from '../state/types';
import { pidNamespace } from '../state/pid-namespace';
import { assertFence } from '../state/store-rules';
import { SimulatedCrash } from './crash';

export const DEFAULT_LOCK_TTL_MS = 120_000;

export interface ExecutionIdentity {
  readonly host: string;
  readonly pid: number;
  readonly pidNamespace?: string;
}

export function thisProcessIdentity(): ExecutionIdentity {
  const namespace = pidNamespace();
  return { host: os.hostname(), pid: process.pid, ...(namespace === undefined ? {} : { pidNamespace: namespace }) };
}

export interface Execution {
  /** The current lock (its expiry moves with each heartbeat; its token never changes). */
  lock(): RunLock;
  /**
   * Proves the lock is still this process's, right before an AWS call: the fenced run write that
   * records the intent may be long past (a process stopped, swapped out or suspended in between,
   * past the lock's expiry, while another took the run over). Renews it first when its expiry is
   * near by `now` (the renewal is fenced too); otherwise reads it back. Throws FenceLostError.
   */
  confirm(now: Date): Promise<void>;
}

export async function withExecutionLock<T>(
  store: StateStore,
  run: Pick<Run, 'id' | 'keyring'>,
  holder: { readonly identity: ExecutionIdentity; readonly actor: string; readonly command: string },
  ttlMs: number,
  body: (execution: Execution) => Promise<T>,
): Promise<T> {
  let lock = await store.acquireRunLock(run, { ...holder.identity, actor: holder.actor, command: holder.command }, ttlMs);
  let renewal: Promise<void> = Promise.resolve();
  // A failed renewal is not fatal here: the next fenced write reports who took the run over.
  const timer = setInterval(() => {
    renewal = renewal.then(
      () => store.renewRunLock(lock, ttlMs).then((renewed) => void (lock = renewed)),
    ).catch(() => undefined);
  }, Math.max(1000, Math.floor(ttlMs / 3)));
  timer.unref();
  let crashed = false;
  try {
    const confirm = async (now: Date): Promise<void> => {
      if (Date.parse(lock.expiresAt) - now.getTime() < ttlMs / 2) {
        lock = await store.renewRunLock(lock, ttlMs);
        return;
      }
      assertFence(await store.getRunLock(run), lock);
    };
    return await body({ lock: () => lock, confirm });
  } catch (error) {
    crashed = error instanceof SimulatedCrash;
    throw error;
  } finally {
    clearInterval(timer);
    await renewal;
    if (!crashed) {
      await store.sync();
      await store.releaseRunLock(lock);
    }
  }
}
