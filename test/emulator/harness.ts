import { KMSClient } from '@aws-sdk/client-kms';
import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { STSClient } from '@aws-sdk/client-sts';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../emulator';

export const MANAGEMENT = '111111111111';
export const MEMBER = '222222222222';
export const REGION = 'us-east-1';
export const INSTANCE_ARN = 'arn:aws:sso:::instance/ssoins-7223f2cd9d6a6b51';
export const IDENTITY_STORE_ID = 'd-9067c0a1b2';

export interface Clients {
  readonly kms: KMSClient;
  readonly sso: SSOAdminClient;
  readonly identityStore: IdentitystoreClient;
  readonly sts: STSClient;
}

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** The real SDK v3 clients pointed at the emulator; one attempt, so every error surfaces. */
export function clientsFor(emu: Emulator, options: { region?: string; accessKeyId?: string; credentials?: Credentials } = {}): Clients {
  const config = {
    endpoint: emu.endpoint,
    region: options.region ?? REGION,
    credentials: options.credentials ?? { accessKeyId: options.accessKeyId ?? 'AKIAOPERATOR0000001', secretAccessKey: 'emulator-secret' },
    maxAttempts: 1,
  };
  return { kms: new KMSClient(config), sso: new SSOAdminClient(config), identityStore: new IdentitystoreClient(config), sts: new STSClient(config) };
}

/** Starts an emulator per test file (fast switch, no quotas unless asked) and stops it afterwards. */
export function useEmulator(options: EmulatorOptions = {}): { readonly emu: Emulator; readonly aws: Clients } {
  const holder: { emu?: Emulator; aws?: Clients } = {};
  beforeAll(async () => {
    holder.emu = await startEmulator({ updateDelayMs: 20, quotas: false, ...options });
    holder.aws = clientsFor(holder.emu);
  });
  afterAll(async () => {
    await holder.emu?.stop();
  });
  return {
    get emu() {
      return holder.emu!;
    },
    get aws() {
      return holder.aws!;
    },
  };
}

/**
 * Polls `read` until `done` holds (bounded), for the emulator's short asynchronous workflows
 * (a replica's Creating state, an on-demand rotation, an Identity Center Region or switch).
 */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  for (let attempt = 0; attempt < 400; attempt += 1) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`still waiting for ${what} after 400 polls`);
}

/** Resolves to the rejection of `promise` (fails the test if it resolves). */
export type AwsError = Error & { name: string; $metadata?: { httpStatusCode?: number }; [member: string]: unknown };

export async function rejectionOf(promise: Promise<unknown>): Promise<AwsError> {
  try {
    await promise;
  } catch (error) {
    return error as AwsError;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** A key policy with the Identity Center baseline service statements (written here, independent of pipeline/policy). */
export function identityCenterPolicy(account = MANAGEMENT): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Sid: 'Admins', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' },
      {
        Sid: 'IdentityCenterDescribe',
        Effect: 'Allow',
        Principal: { Service: ['sso.amazonaws.com', 'identitystore.amazonaws.com'] },
        Action: 'kms:DescribeKey',
        Resource: '*',
        Condition: { StringEquals: { 'aws:SourceAccount': account } },
      },
      {
        Sid: 'IdentityCenterUse',
        Effect: 'Allow',
        Principal: { Service: ['sso.amazonaws.com', 'identitystore.amazonaws.com'] },
        Action: ['kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKeyWithoutPlaintext'],
        Resource: '*',
        Condition: { StringEquals: { 'aws:SourceAccount': account } },
      },
    ],
  });
}
