/**
 * Opens the StateStore the config names. The DynamoDB store (and with it the AWS SDK) is imported
 * only when the config asks for it, so the default file-store path stays fast to start.
 */
import * as path from 'node:path';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { StateConfig } from '../config/types';
import { FileStateStore, type FileStateStoreOptions } from './file-store';
import type { StateStore } from './types';

export interface OpenStateStoreOptions {
  /**
   * Use the file store in this directory whatever the config says (`--state-dir`,
   * $KEYROTOR_STATE_DIR): an auditor verifying a copied state directory, a test, the demo.
   */
  readonly stateDirOverride?: string;
  /** Explicit endpoint for the DynamoDB store (dynalite, DynamoDB Local). */
  readonly endpoint?: string;
  /** Environment consulted for AWS_ENDPOINT_URL_DYNAMODB when no endpoint is given. Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Passed to the file store (lock tuning, clock). */
  readonly file?: FileStateStoreOptions;
  /** Credentials of the DynamoDB store (the team account's state role); wins over the keys in `env`. */
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
}

export async function openStateStore(config: StateConfig, options: OpenStateStoreOptions = {}): Promise<StateStore> {
  if (options.stateDirOverride !== undefined) {
    return new FileStateStore(path.resolve(options.stateDirOverride), options.file);
  }
  if (config.type === 'file') return new FileStateStore(config.dir, options.file);

  const env = options.env ?? process.env;
  const endpoint = options.endpoint ?? env.AWS_ENDPOINT_URL_DYNAMODB ?? env.AWS_ENDPOINT_URL;
  // An explicitly passed environment (tests, an in-process CLI) carries its own static keys; with
  // process.env the SDK's provider chain reads them itself (and also finds profiles, SSO, roles).
  const staticKeys = options.credentials
    ? { credentials: options.credentials }
    : options.env && env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? {
          credentials: {
            accessKeyId: env.AWS_ACCESS_KEY_ID,
            secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
            ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
          },
        }
      : {};
  const { DynamoDbStateStore } = await import('./dynamodb-store');
  return new DynamoDbStateStore({ table: config.table, region: config.region, ...(endpoint ? { endpoint } : {}), ...staticKeys });
}
