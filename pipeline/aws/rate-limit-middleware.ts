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

/**
 * The quota a call draws from, when it is not its own operation's in the client's Region:
 * ReplicateKey is sent to the primary's Region but counts against CreateKey's quota in the replica
 * Region (KMS developer guide, "Request quotas").
 */
export function quotaScopeOf(service: string, operation: string, input: unknown, region: string): { readonly region: string; readonly operation: string } {
  const replicaRegion = (input as { ReplicaRegion?: unknown } | undefined)?.ReplicaRegion;
  if (service === 'kms' && operation === 'ReplicateKey' && typeof replicaRegion === 'string') return { region: replicaRegion, operation: 'CreateKey' };
  return { region, operation };
}

export function rateLimitMiddleware(target: RateLimitTarget): FinalizeRequestMiddleware<object, object> {
  return <Output extends object>(next: FinalizeHandler<object, Output>, context: HandlerExecutionContext) =>
    async (args: FinalizeHandlerArguments<object>) => {
      await target.limiter.acquire({
        account: await target.account(),
        service: target.service,
        ...quotaScopeOf(target.service, operationOf(context), args.input, target.region),
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
