/**
 * Which endpoint each client talks to. Precedence, as the SDKs define it (AWS SDKs and Tools
 * Reference Guide, "Service-specific endpoints"): an explicit endpoint, then
 * `AWS_ENDPOINT_URL_<SERVICE ID>`, then `AWS_ENDPOINT_URL`, then the AWS default; none of the
 * variables count when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is true.
 *
 * The SDK applies the same rules to process.env by itself; keyrotor resolves them too because it must
 * know the endpoint before creating a client (a loopback emulator gets dummy credentials) and
 * because callers may pass an environment other than process.env.
 */

export type AwsService = 'kms' | 'sso-admin' | 'identitystore' | 'sts';

/** The service id's environment-variable suffix: upper case, spaces to underscores ("SSO Admin" → SSO_ADMIN). */
export const ENDPOINT_ENV_SUFFIX: Readonly<Record<AwsService, string>> = {
  kms: 'KMS',
  'sso-admin': 'SSO_ADMIN',
  identitystore: 'IDENTITYSTORE',
  sts: 'STS',
};

export type EndpointSource = 'option' | 'service-env' | 'global-env' | 'aws-default';

export interface ResolvedEndpoint {
  /** undefined = let the SDK use the AWS endpoint of the Region. */
  readonly url: string | undefined;
  readonly source: EndpointSource;
}

export function resolveEndpoint(service: AwsService, explicit: string | undefined, env: NodeJS.ProcessEnv): ResolvedEndpoint {
  if (explicit) return { url: explicit, source: 'option' };
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() === 'true') return { url: undefined, source: 'aws-default' };
  const serviceUrl = env[`AWS_ENDPOINT_URL_${ENDPOINT_ENV_SUFFIX[service]}`];
  if (serviceUrl) return { url: serviceUrl, source: 'service-env' };
  if (env.AWS_ENDPOINT_URL) return { url: env.AWS_ENDPOINT_URL, source: 'global-env' };
  return { url: undefined, source: 'aws-default' };
}

/** True for http(s) URLs on localhost, 127.0.0.0/8 or ::1: the local emulator, never AWS. */
export function isLoopbackEndpoint(url: string | undefined): boolean {
  if (!url) return false;
  let hostname: string;
  try {
    hostname = new URL(url).hostname;
  } catch {
    return false;
  }
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}
