/**
 * A check run before every attempt of an AWS request — the first and each of the SDK's retries —
 * for the requests made inside `withAttemptGuard`. The engine uses it to prove, right before each
 * mutating request leaves, that this process still holds the run (pipeline/engine/execution.ts): a
 * retry can follow its first attempt by many seconds of backoff or rate-limit waiting, during which
 * the process may be stopped and the run taken over, and a retried UpdateAlias must then not go.
 *
 * The check travels with the async call chain (AsyncLocalStorage), so clients need no per-call
 * wiring; the middleware sits after the rate limiter (waits included) and before signing.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { FinalizeHandler, FinalizeHandlerArguments, FinalizeRequestMiddleware, MiddlewareStack } from '@smithy/types';
import { RATE_LIMIT_MIDDLEWARE_NAME } from './rate-limit-middleware';

const guards = new AsyncLocalStorage<() => Promise<void>>();

/** Runs `work` with `check` awaited before every attempt of every request it sends. */
export function withAttemptGuard<T>(check: () => Promise<void>, work: () => Promise<T>): Promise<T> {
  return guards.run(check, work);
}

function attemptGuardMiddleware(): FinalizeRequestMiddleware<object, object> {
  return <Output extends object>(next: FinalizeHandler<object, Output>) =>
    async (args: FinalizeHandlerArguments<object>) => {
      const check = guards.getStore();
      // Outside the guard's own context: the check's reads must not be guarded themselves.
      if (check) await guards.exit(check);
      return next(args);
    };
}

/** Adds the guard inside the retry loop: after the rate limiter when the client has one, else right after the retry middleware. */
export function addAttemptGuardMiddleware(stack: MiddlewareStack<any, any>, afterRateLimiter: boolean): void {
  stack.addRelativeTo(attemptGuardMiddleware(), {
    relation: 'after',
    toMiddleware: afterRateLimiter ? RATE_LIMIT_MIDDLEWARE_NAME : 'retryMiddleware',
    name: 'keyrotorAttemptGuardMiddleware',
    override: true,
  });
}
