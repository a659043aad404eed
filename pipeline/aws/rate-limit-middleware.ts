import type { FinalizeHandler, FinalizeHandlerArguments, FinalizeRequestMiddleware, HandlerExecutionContext, MiddlewareStack, RelativeMiddlewareOptions } from '@smithy/types';
import type { RateLimiter } from './rate-limiter';

export const RATE_LIMIT_MIDDLEWARE_NAME = 'keyrotorRateLimitMiddleware';

export interface RateLimitTarget {
  readonly limiter: RateLimiter;
  readonly service: string;
  readonly region: string;
  /** Resolved on first use (may call STS once); every client of one set shares the answer. */
  readonly account: () => Promise<string>;
}

/** `CreateKeyCommand` → `CreateKey`. */
export function operationOf(context: HandlerExecutionContext): string {
  return (context.commandName ?? 'Unknown').replace(/Command$/, '');
}

export function rateLimitMiddleware(target: RateLimitTarget): FinalizeRequestMiddleware<object, object> {
  return <Output extends object>(next: FinalizeHandler<object, Output>, context: HandlerExecutionContext) =>
    async (args: FinalizeHandlerArguments<object>) => {
      await target.limiter.acquire({
        account: await target.account(),
        region: target.region,
        service: target.service,
        operation: operationOf(context),
      });
      return next(args);
    };
}

/**
 * Placed right after the SDK's retry middleware, i.e. inside its retry loop, so every attempt —
 * retries included — takes a token. Before the signer, so a long wait never ages a signature.
 */
const PLACEMENT: RelativeMiddlewareOptions = {
  relation: 'after',
  toMiddleware: 'retryMiddleware',
  name: RATE_LIMIT_MIDDLEWARE_NAME,
  override: true,
};

export function addRateLimitMiddleware(stack: MiddlewareStack<any, any>, target: RateLimitTarget): void {
  stack.addRelativeTo(rateLimitMiddleware(target), PLACEMENT);
}
