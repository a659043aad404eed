/** The pipeline's AWS access layer: clients, rate limits, retries and error mapping. */
export { createAwsClients, UNRESOLVED_ACCOUNT, type AwsClients, type AwsClientsOptions } from './clients';
export { describeCaller, type CallerIdentity } from './caller';
export { callAws } from './call';
export { mapAwsError, type AwsCallContext } from './map-error';
export { resolveEndpoint, resolveEndpoints, checkEndpointUrl, InvalidEndpointError, isLoopbackEndpoint, ENDPOINT_ENV_SUFFIX, type AwsService, type ResolvedEndpoint, type EndpointSource } from './endpoints';
export { EMULATOR_DUMMY_CREDENTIALS, type CredentialsOption } from './credentials';
export { QuotaRateLimiter, sharedRateLimiter, unlimitedRateLimiter, type RateLimiter, type RateLimiterStats, type RateScope, type QuotaRateLimiterOptions } from './rate-limiter';
export { DEFAULT_QUOTAS, KMS_REQUEST_QUOTAS, quotaFor, type QuotaTable, type RequestQuota } from './quotas';
export { KeyrotorRetryStrategy, retryClassOf, FullJitterBackoff, DEFAULT_MAX_ATTEMPTS, type RetryClass, type RetryOptions } from './retry';
export { systemClock, type Clock } from './clock';
