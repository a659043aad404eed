import { StandardRetryStrategy, isThrottlingError, isTransientError } from '@smithy/core/retry';
import type { RetryErrorInfo, RetryErrorType, SdkError, StandardRetryBackoffStrategy, StandardRetryToken } from '@smithy/types';

/**
 * Retry policy of every keyrotor AWS client. The SDK's StandardRetryStrategy keeps doing the
 * bookkeeping (attempt count, the retry-quota circuit breaker, Retry-After hints); keyrotor changes
 * two things: which errors are retried, and backoff with full jitter from an injectable random source.
 *
 * References: AWS SDKs and Tools Reference Guide, "Retry behavior" (standard mode, exponential
 * backoff with jitter); AWS Architecture Blog "Exponential Backoff And Jitter" (full jitter).
 */

export const DEFAULT_MAX_ATTEMPTS = 5;
/** Base delay for transient and conflict retries; throttling uses the SDK's larger throttling base. */
export const DEFAULT_RETRY_BASE_DELAY_MS = 100;
/** No single backoff sleeps longer than this (the SDK's own cap is 20 s). */
export const MAX_RETRY_DELAY_MS = 20_000;

/** Why an error may (or may not) be retried. */
export type RetryClass = 'throttling' | 'transient' | 'conflict' | 'never';

/**
 * Errors that a retry cannot fix: the request is wrong, the resource is missing or in the wrong
 * state, or the caller lacks permission. Checked before the SDK's classification because the SDK
 * counts `LimitExceededException` as throttling, while in KMS it means a resource quota (e.g. the
 * number of keys) is exhausted (KMS Developer Guide, "Resource quotas").
 */
const NEVER_RETRIED = new Set([
  'ValidationException',
  'NotFoundException',
  'ResourceNotFoundException',
  'KMSInvalidStateException',
  'DisabledException',
  'AccessDeniedException',
  'AccessDenied',
  'AlreadyExistsException',
  'InvalidArnException',
  'InvalidAliasNameException',
  'MalformedPolicyDocumentException',
  'LimitExceededException',
  'ServiceQuotaExceededException',
  'UnsupportedOperationException',
  'TagException',
  'InvalidCiphertextException',
  'IncorrectKeyException',
  'InvalidKeyUsageException',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'ExpiredTokenException',
  'ExpiredToken',
]);

/**
 * ConflictException: SSO Admin answers it while a previous change to the same resource is still in
 * progress, e.g. UpdateInstance while the instance is UPDATING (IAM Identity Center API Reference,
 * UpdateInstance, Errors). The SDK does not retry it; waiting and retrying is the documented remedy.
 */
const CONFLICT = new Set(['ConflictException', 'ConcurrentModificationException']);

export function retryClassOf(error: unknown): RetryClass {
  if (typeof error !== 'object' || error === null) return 'never';
  const sdkError = error as SdkError;
  if (NEVER_RETRIED.has(sdkError.name)) return 'never';
  if (CONFLICT.has(sdkError.name)) return 'conflict';
  if (isThrottlingError(sdkError)) return 'throttling';
  // 500/502/503/504, timeouts and connection resets; 501 and other 5xx are not transient.
  if (isTransientError(sdkError)) return 'transient';
  return 'never';
}

/** How the SDK's strategy should treat each class: conflicts wait like transient errors. */
function sdkErrorTypeFor(retryClass: RetryClass): RetryErrorType {
  switch (retryClass) {
    case 'throttling':
      return 'THROTTLING';
    case 'transient':
    case 'conflict':
      return 'TRANSIENT';
    case 'never':
      return 'CLIENT_ERROR';
  }
}

/**
 * Full jitter: the n-th retry (0-based) sleeps a uniformly random time in [0, min(cap, base·2^n)).
 * The SDK sets the base per error type (throttling errors get a longer one) through setDelayBase.
 */
export class FullJitterBackoff implements StandardRetryBackoffStrategy {
  private baseMs: number;

  constructor(
    baseMs: number = DEFAULT_RETRY_BASE_DELAY_MS,
    private readonly random: () => number = Math.random,
    private readonly capMs: number = MAX_RETRY_DELAY_MS,
  ) {
    this.baseMs = baseMs;
  }

  computeNextBackoffDelay(retryIndex: number): number {
    return Math.floor(this.random() * Math.min(this.capMs, this.baseMs * 2 ** retryIndex));
  }

  setDelayBase(delayMs: number): void {
    this.baseMs = delayMs;
  }
}

export interface RetryOptions {
  /** Attempts in total, the first one included. Default 5. */
  readonly maxAttempts?: number;
  /** Base delay of transient/conflict retries in ms. Default 100. */
  readonly baseDelayMs?: number;
  /** Uniform random in [0, 1); injectable for deterministic tests. */
  readonly random?: () => number;
}

export class KeyrotorRetryStrategy extends StandardRetryStrategy {
  constructor(options: RetryOptions = {}) {
    const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new RangeError(`maxAttempts must be an integer >= 1, got ${maxAttempts}`);
    }
    const baseDelay = options.baseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS;
    super({ maxAttempts, baseDelay, backoff: new FullJitterBackoff(baseDelay, options.random) });
  }

  override refreshRetryTokenForRetry(token: StandardRetryToken, errorInfo: RetryErrorInfo): Promise<StandardRetryToken> {
    return super.refreshRetryTokenForRetry(token, { ...errorInfo, errorType: sdkErrorTypeFor(retryClassOf(errorInfo.error)) });
  }
}
