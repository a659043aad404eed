/**
 * Which endpoint each client talks to. Precedence, as the SDKs define it (AWS SDKs and Tools
 * Reference Guide, "Service-specific endpoints"): an explicit endpoint, then
 * `AWS_ENDPOINT_URL_<SERVICE ID>`, then `AWS_ENDPOINT_URL`, then the AWS default; none of the
 * variables count when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is true.
 *
 * The SDK applies the same rules to process.env by itself; keyrotor resolves them too because it must
 * know the endpoint before creating a client (a loopback emulator gets dummy credentials) and
 * because callers may pass an environment other than process.env.
 *
 * An endpoint that is not an http:// or https:// URL is refused here, naming the option or variable
 * it came from: the SDK would otherwise fail inside its first request with a bare "Invalid URL",
 * which reads like a keyrotor bug rather than a typo the operator can fix.
 */
import { KeyrotorError } from '../errors';

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

/** Where an endpoint was set, as the operator would look for it: `--endpoint` or the variable's name. */
function endpointSettingName(service: AwsService, source: Exclude<EndpointSource, 'aws-default'>): string {
  if (source === 'option') return '--endpoint';
  return source === 'service-env' ? `AWS_ENDPOINT_URL_${ENDPOINT_ENV_SUFFIX[service]}` : 'AWS_ENDPOINT_URL';
}

/**
 * An endpoint that is not an absolute http:// or https:// URL, and where it was set. An operator's
 * error: a typo in an option or a variable, fixed before anything is sent.
 */
export class InvalidEndpointError extends KeyrotorError {
  constructor(
    readonly setting: string,
    readonly value: string,
  ) {
    super(`${setting} ${JSON.stringify(value)} is not an endpoint URL: it must be an http:// or https:// URL, such as http://127.0.0.1:4566 or https://kms.us-east-1.amazonaws.com`, {
      fault: 'operator',
      nextStep:
        setting === '--endpoint'
          ? 'pass --endpoint an http:// or https:// URL (the emulator prints its own), or leave --endpoint out to use AWS_ENDPOINT_URL[_<SERVICE>] or AWS'
          : `set ${setting} to an http:// or https:// URL, or unset it to use the AWS endpoint of the Region`,
    });
  }
}

/** `url` when the SDK can send requests to it (an absolute http:// or https:// URL); otherwise an InvalidEndpointError naming `setting`. */
export function checkEndpointUrl(url: string, setting: string): string {
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new InvalidEndpointError(setting, url);
  }
  if (protocol !== 'http:' && protocol !== 'https:') throw new InvalidEndpointError(setting, url);
  return url;
}

/** The endpoint `service` uses and where it came from; an InvalidEndpointError when that is not an http(s) URL. */
export function resolveEndpoint(service: AwsService, explicit: string | undefined, env: NodeJS.ProcessEnv): ResolvedEndpoint {
  const found = configuredEndpoint(service, explicit, env);
  if (found.source !== 'aws-default') checkEndpointUrl(found.url ?? '', endpointSettingName(service, found.source));
  return found;
}

/** Every service's endpoint at once: a command checks them all before its first call, not one per client. */
export function resolveEndpoints(explicit: string | undefined, env: NodeJS.ProcessEnv): Record<AwsService, ResolvedEndpoint> {
  return {
    kms: resolveEndpoint('kms', explicit, env),
    'sso-admin': resolveEndpoint('sso-admin', explicit, env),
    identitystore: resolveEndpoint('identitystore', explicit, env),
    sts: resolveEndpoint('sts', explicit, env),
  };
}

/** The precedence alone. An explicit endpoint counts even when empty: `--endpoint ''` is a mistake, not a wish for AWS. */
function configuredEndpoint(service: AwsService, explicit: string | undefined, env: NodeJS.ProcessEnv): ResolvedEndpoint {
  if (explicit !== undefined) return { url: explicit, source: 'option' };
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() === 'true') return { url: undefined, source: 'aws-default' };
  // An empty variable is an unset one, as the shells and CI systems that export them mean it.
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
