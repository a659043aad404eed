import { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { KMSClient } from '@aws-sdk/client-kms';
import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { STSClient } from '@aws-sdk/client-sts';
import type { HttpHandlerUserInput } from '@smithy/core/protocols';
import type { MiddlewareStack } from '@smithy/types';
import { describeCaller } from './caller';
import { chooseCredentials, type CredentialsOption } from './credentials';
import { isLoopbackEndpoint, resolveEndpoints, type AwsService, type ResolvedEndpoint } from './endpoints';
import { sharedRateLimiter, type RateLimiter } from './rate-limiter';
import { addAttemptGuardMiddleware } from './attempt-guard';
import { addRateLimitMiddleware } from './rate-limit-middleware';
import { KeyrotorRetryStrategy, type RetryOptions } from './retry';

export interface AwsClientsOptions {
  /** Region of every client (a key ring's Region). Required: never guessed from the environment. */
  readonly region: string;
  /** Explicit endpoint for all four services (the emulator); wins over AWS_ENDPOINT_URL[_<SERVICE>]. */
  readonly endpoint?: string;
  /** Default: keys in `env`, else dummy keys for a loopback endpoint, else the SDK's default chain. */
  readonly credentials?: CredentialsOption;
  /** Environment to read endpoint and credential variables from. Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Default: one limiter shared by the process, at the documented KMS quotas. */
  readonly rateLimiter?: RateLimiter;
  /** Attempts per call, retries included. Default 5. */
  readonly maxAttempts?: number;
  /** Backoff tuning (base delay, random source); mostly for tests. */
  readonly retry?: Omit<RetryOptions, 'maxAttempts'>;
  /**
   * Account the credentials belong to. When absent it is resolved once, lazily, with STS
   * GetCallerIdentity: every client of one set shares its credentials and so its account.
   */
  readonly account?: string;
  /** Replaces the SDK's HTTP handler (tests answer requests in-process). */
  readonly requestHandler?: HttpHandlerUserInput;
}

export interface AwsClients {
  readonly kms: KMSClient;
  readonly ssoAdmin: SSOAdminClient;
  readonly identityStore: IdentitystoreClient;
  readonly sts: STSClient;
  readonly region: string;
  /** Where each client sends its requests and why. */
  readonly endpoints: Readonly<Record<AwsService, ResolvedEndpoint>>;
  /** The credentials' account: the option, or STS GetCallerIdentity once (a failure is not cached). */
  account(): Promise<string>;
  /** Closes the clients' sockets. */
  destroy(): void;
}

/**
 * Limiter buckets of a client set whose account could not be resolved share this name: one bucket
 * for every such account is stricter than AWS, never looser.
 */
export const UNRESOLVED_ACCOUNT = 'unresolved-account';

/** The four SDK clients keyrotor uses, with endpoints, credentials, retries and rate limits applied. */
export function createAwsClients(options: AwsClientsOptions): AwsClients {
  const env = options.env ?? process.env;
  const endpoints = resolveEndpoints(options.endpoint, env);
  const configFor = (service: AwsService) => {
    const endpoint = endpoints[service].url;
    const credentials = chooseCredentials(options.credentials, env, isLoopbackEndpoint(endpoint));
    return {
      region: options.region,
      ...(endpoint === undefined ? {} : { endpoint }),
      ...(credentials === undefined ? {} : { credentials }),
      ...(options.requestHandler === undefined ? {} : { requestHandler: options.requestHandler }),
      retryStrategy: new KeyrotorRetryStrategy({ ...options.retry, maxAttempts: options.maxAttempts }),
    };
  };

  const kms = new KMSClient(configFor('kms'));
  const ssoAdmin = new SSOAdminClient(configFor('sso-admin'));
  const identityStore = new IdentitystoreClient(configFor('identitystore'));
  // STS is not rate limited: it is what resolves the account the limiter needs.
  const sts = new STSClient(configFor('sts'));

  let accountPromise: Promise<string> | undefined;
  const account = (): Promise<string> => {
    if (options.account !== undefined) return Promise.resolve(options.account);
    accountPromise ??= describeCaller({ sts }).then(
      (caller) => caller.account,
      (error: unknown) => {
        accountPromise = undefined;
        throw error;
      },
    );
    return accountPromise;
  };
  let limiterAccount: Promise<string> | undefined;
  const accountForLimiter = (): Promise<string> => (limiterAccount ??= account().catch(() => UNRESOLVED_ACCOUNT));

  const limiter = options.rateLimiter ?? sharedRateLimiter();
  const limited: ReadonlyArray<[AwsService, { middlewareStack: MiddlewareStack<any, any> }]> = [
    ['kms', kms],
    ['sso-admin', ssoAdmin],
    ['identitystore', identityStore],
  ];
  for (const [service, client] of limited) {
    addRateLimitMiddleware(client.middlewareStack, { limiter, service, region: options.region, account: accountForLimiter });
    addAttemptGuardMiddleware(client.middlewareStack, true);
  }
  addAttemptGuardMiddleware(sts.middlewareStack, false);

  return {
    kms,
    ssoAdmin,
    identityStore,
    sts,
    region: options.region,
    endpoints,
    account,
    destroy: () => {
      kms.destroy();
      ssoAdmin.destroy();
      identityStore.destroy();
      sts.destroy();
    },
  };
}
