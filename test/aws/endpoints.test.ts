import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { ListInstancesCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { ListUsersCommand } from '@aws-sdk/client-identitystore';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { createAwsClients, EMULATOR_DUMMY_CREDENTIALS, InvalidEndpointError, isLoopbackEndpoint, resolveEndpoint, unlimitedRateLimiter } from '../../pipeline/aws';
import { exitCodeFor } from '../../pipeline/errors';
import { openStateStore } from '../../pipeline/state/open';
import { scriptedHttp } from './scripted-http';

// Precedence: AWS SDKs and Tools Reference Guide, "Service-specific endpoints"
// (explicit > AWS_ENDPOINT_URL_<SERVICE> > AWS_ENDPOINT_URL > default; AWS_IGNORE_CONFIGURED_ENDPOINT_URLS).

describe('resolveEndpoint', () => {
  const env = { AWS_ENDPOINT_URL: 'http://127.0.0.1:1000', AWS_ENDPOINT_URL_KMS: 'http://127.0.0.1:2000', AWS_ENDPOINT_URL_SSO_ADMIN: 'http://127.0.0.1:3000' };

  test('the explicit option beats every variable', () => {
    expect(resolveEndpoint('kms', 'http://localhost:9', env)).toEqual({ url: 'http://localhost:9', source: 'option' });
  });
  test('a service variable beats the global one', () => {
    expect(resolveEndpoint('kms', undefined, env)).toEqual({ url: 'http://127.0.0.1:2000', source: 'service-env' });
    expect(resolveEndpoint('sso-admin', undefined, env)).toEqual({ url: 'http://127.0.0.1:3000', source: 'service-env' });
  });
  test('the global variable serves services without their own', () => {
    expect(resolveEndpoint('identitystore', undefined, env)).toEqual({ url: 'http://127.0.0.1:1000', source: 'global-env' });
    expect(resolveEndpoint('sts', undefined, env)).toEqual({ url: 'http://127.0.0.1:1000', source: 'global-env' });
  });
  test('nothing set, or AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true → the AWS default', () => {
    expect(resolveEndpoint('kms', undefined, {})).toEqual({ url: undefined, source: 'aws-default' });
    expect(resolveEndpoint('kms', undefined, { ...env, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' })).toEqual({ url: undefined, source: 'aws-default' });
  });
});

describe('an endpoint that is not an http(s) URL', () => {
  /** What resolveEndpoint threw, for its fields. */
  function refusal(resolve: () => unknown): InvalidEndpointError {
    try {
      resolve();
    } catch (error) {
      return error as InvalidEndpointError;
    }
    throw new Error('resolveEndpoint accepted the endpoint');
  }

  test.each<[string, string | undefined, NodeJS.ProcessEnv, string, string]>([
    ['the option', 'not-a-url', {}, '--endpoint', 'not-a-url'],
    ['the option, another scheme', 'ftp://127.0.0.1:4566', {}, '--endpoint', 'ftp://127.0.0.1:4566'],
    ['the option, empty (not a silent fallback to AWS)', '', {}, '--endpoint', ''],
    ["the service's variable", undefined, { AWS_ENDPOINT_URL_KMS: 'not-a-url' }, 'AWS_ENDPOINT_URL_KMS', 'not-a-url'],
    ['the global variable', undefined, { AWS_ENDPOINT_URL: 'ftp://example.com' }, 'AWS_ENDPOINT_URL', 'ftp://example.com'],
  ])('GIVEN a bad value in %s THEN it is an operator error (exit 2) naming where it was set, the value, and what a valid one looks like', (_where, explicit, env, setting, value) => {
    const error = refusal(() => resolveEndpoint('kms', explicit, env));
    expect(error).toBeInstanceOf(InvalidEndpointError);
    expect(error).toMatchObject({ fault: 'operator', setting, value });
    expect(exitCodeFor(error)).toBe(2);
    expect(error.message).toBe(`${setting} ${JSON.stringify(value)} is not an endpoint URL: it must be an http:// or https:// URL, such as http://127.0.0.1:4566 or https://kms.us-east-1.amazonaws.com`);
    expect(error.nextStep).toContain(setting);
  });

  test('GIVEN a bad variable that the service does not use (its own variable or the option wins) THEN it is not consulted', () => {
    expect(resolveEndpoint('kms', undefined, { AWS_ENDPOINT_URL: 'not-a-url', AWS_ENDPOINT_URL_KMS: 'https://kms.example' })).toEqual({ url: 'https://kms.example', source: 'service-env' });
    expect(resolveEndpoint('kms', 'http://127.0.0.1:9', { AWS_ENDPOINT_URL_KMS: 'not-a-url' })).toEqual({ url: 'http://127.0.0.1:9', source: 'option' });
    expect(resolveEndpoint('kms', undefined, { AWS_ENDPOINT_URL: 'not-a-url', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' })).toEqual({ url: undefined, source: 'aws-default' });
  });

  test('GIVEN a bad AWS_ENDPOINT_URL_DYNAMODB or AWS_ENDPOINT_URL THEN the team state store is not opened on it, naming the variable', async () => {
    const state = { type: 'dynamodb' as const, table: 't', region: 'us-east-1' };
    await expect(openStateStore(state, { env: { AWS_ENDPOINT_URL_DYNAMODB: 'dynamodb.local:8000' } })).rejects.toThrow('AWS_ENDPOINT_URL_DYNAMODB "dynamodb.local:8000" is not an endpoint URL');
    await expect(openStateStore(state, { env: { AWS_ENDPOINT_URL: 'not-a-url' } })).rejects.toThrow(InvalidEndpointError);
  });

  test('GIVEN AWS_ENDPOINT_URL_STS is bad THEN createAwsClients refuses before any client sends a request', () => {
    expect(() => createAwsClients({ region: 'us-east-1', env: { AWS_ENDPOINT_URL_STS: 'sts.local:4566' }, account: '1', rateLimiter: unlimitedRateLimiter })).toThrow(
      'AWS_ENDPOINT_URL_STS "sts.local:4566" is not an endpoint URL',
    );
  });
});

describe('isLoopbackEndpoint', () => {
  test.each([
    ['http://127.0.0.1:4566', true],
    ['http://127.1.2.3', true],
    ['http://localhost:8080', true],
    ['http://[::1]:4566', true],
    ['https://kms.us-east-1.amazonaws.com', false],
    ['http://10.0.0.1:4566', false],
    ['http://127.0.0.1.example.com', false],
    ['not a url', false],
    [undefined, false],
  ])('%s → %s', (url, expected) => {
    expect(isLoopbackEndpoint(url)).toBe(expected);
  });
});

/** Where a real client sends its request, observed through an in-process HTTP handler. */
async function hostOfKmsRequest(client: KMSClient, http: ReturnType<typeof scriptedHttp>): Promise<string> {
  await client.send(new DescribeKeyCommand({ KeyId: 'k' }));
  const request = http.requests.at(-1)!;
  return `${request.protocol}//${request.hostname}:${request.port}`;
}

describe('the SDK itself and createAwsClients agree on endpoint variables', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  test('GIVEN AWS_ENDPOINT_URL_KMS in process.env THEN a plain SDK KMSClient uses it, and so does createAwsClients', async () => {
    process.env.AWS_ENDPOINT_URL_KMS = 'http://127.0.0.1:4701';
    process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:4700';
    const http = scriptedHttp(() => ({ status: 200, body: {} }));
    const plain = new KMSClient({ region: 'us-east-1', requestHandler: http.handler, credentials: EMULATOR_DUMMY_CREDENTIALS });
    expect(await hostOfKmsRequest(plain, http)).toBe('http://127.0.0.1:4701');
    const ours = createAwsClients({ region: 'us-east-1', requestHandler: http.handler, account: '1', rateLimiter: unlimitedRateLimiter });
    expect(ours.endpoints.kms).toEqual({ url: 'http://127.0.0.1:4701', source: 'service-env' });
    expect(await hostOfKmsRequest(ours.kms, http)).toBe('http://127.0.0.1:4701');
  });

  test('GIVEN only AWS_ENDPOINT_URL THEN the SDK sends SSO Admin there too', async () => {
    process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:4700';
    delete process.env.AWS_ENDPOINT_URL_SSO_ADMIN;
    const http = scriptedHttp(() => ({ status: 200, body: {} }));
    const plain = new SSOAdminClient({ region: 'us-east-1', requestHandler: http.handler, credentials: EMULATOR_DUMMY_CREDENTIALS });
    await plain.send(new ListInstancesCommand({}));
    expect(http.requests[0]).toMatchObject({ hostname: '127.0.0.1', port: 4700 });
  });

  test('GIVEN the variables AND an explicit endpoint THEN every client of the set uses the explicit one', async () => {
    process.env.AWS_ENDPOINT_URL_KMS = 'http://127.0.0.1:4701';
    process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:4700';
    const http = scriptedHttp(() => ({ status: 200, body: {} }));
    const clients = createAwsClients({ region: 'us-east-1', endpoint: 'http://127.0.0.1:4999', requestHandler: http.handler, account: '1', rateLimiter: unlimitedRateLimiter });
    await clients.kms.send(new DescribeKeyCommand({ KeyId: 'k' }));
    await clients.ssoAdmin.send(new ListInstancesCommand({}));
    await clients.identityStore.send(new ListUsersCommand({ IdentityStoreId: 'd-1234567890' }));
    await clients.sts.send(new GetCallerIdentityCommand({})).catch(() => undefined); // the JSON body is not STS XML; only the host matters
    expect(new Set(http.requests.map((r) => `${r.hostname}:${r.port}`))).toEqual(new Set(['127.0.0.1:4999']));
    expect(http.requests).toHaveLength(4);
  });

  test('GIVEN an env option THEN it is read instead of process.env', () => {
    process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:4700';
    const clients = createAwsClients({ region: 'us-east-1', env: { AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:4800' }, rateLimiter: unlimitedRateLimiter });
    expect(clients.endpoints.sts).toEqual({ url: 'http://127.0.0.1:4800', source: 'service-env' });
    expect(clients.endpoints.kms).toEqual({ url: undefined, source: 'aws-default' });
  });
});

describe('credentials', () => {
  function accessKeyOf(authorization: string | undefined): string | undefined {
    return /Credential=([^/]+)\//.exec(authorization ?? '')?.[1];
  }

  test('GIVEN a loopback endpoint and no credentials anywhere THEN requests are signed with the dummy keys (no IMDS lookup)', async () => {
    const http = scriptedHttp(() => ({ status: 200, body: {} }));
    const clients = createAwsClients({ region: 'us-east-1', endpoint: 'http://127.0.0.1:4599', env: {}, requestHandler: http.handler, account: '1', rateLimiter: unlimitedRateLimiter });
    await clients.kms.send(new DescribeKeyCommand({ KeyId: 'k' }));
    expect(accessKeyOf(http.requests[0]!.authorization)).toBe(EMULATOR_DUMMY_CREDENTIALS.accessKeyId);
  });

  test('GIVEN keys in the env option THEN they sign the requests, even on loopback', async () => {
    const http = scriptedHttp(() => ({ status: 200, body: {} }));
    const env = { AWS_ACCESS_KEY_ID: 'AKIAOPERATORALICE000', AWS_SECRET_ACCESS_KEY: 'secret' };
    const clients = createAwsClients({ region: 'us-east-1', endpoint: 'http://127.0.0.1:4599', env, requestHandler: http.handler, account: '1', rateLimiter: unlimitedRateLimiter });
    await clients.kms.send(new DescribeKeyCommand({ KeyId: 'k' }));
    expect(accessKeyOf(http.requests[0]!.authorization)).toBe('AKIAOPERATORALICE000');
  });

  test('GIVEN explicit credentials THEN they win over the environment', async () => {
    const http = scriptedHttp(() => ({ status: 200, body: {} }));
    const env = { AWS_ACCESS_KEY_ID: 'AKIAOPERATORALICE000', AWS_SECRET_ACCESS_KEY: 'secret' };
    const clients = createAwsClients({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:4599',
      env,
      credentials: { accessKeyId: 'AKIAAPPROVERBOB00000', secretAccessKey: 's' },
      requestHandler: http.handler,
      account: '1',
      rateLimiter: unlimitedRateLimiter,
    });
    await clients.kms.send(new DescribeKeyCommand({ KeyId: 'k' }));
    expect(accessKeyOf(http.requests[0]!.authorization)).toBe('AKIAAPPROVERBOB00000');
  });
});
