/**
 * Opens the StateStore the config names. The DynamoDB store (and with it the AWS SDK) is imported
 * only when the config asks for it, so the default file-store path stays fast to start.
 */
import * as path from 'node:path';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { checkEndpointUrl } from '../aws/endpoints';
import type { Config, StateConfig } from '../config/types';
import { assertStateDirectory, FileStateStore, type FileStateStoreOptions } from './file-store';
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
  if (config.type === 'file') {
    assertStateDirectory(config.dir, 'state.dir');
    return new FileStateStore(config.dir, options.file);
  }

  const env = options.env ?? process.env;
  const endpoint = options.endpoint ?? dynamoDbEndpointIn(env);
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

/**
 * AWS_ENDPOINT_URL_DYNAMODB, else AWS_ENDPOINT_URL (an empty one counts as unset), checked like the
 * other services' endpoints so a typo is named before the first request rather than inside it.
 */
export function dynamoDbEndpointIn(env: NodeJS.ProcessEnv): string | undefined {
  if (env.AWS_ENDPOINT_URL_DYNAMODB) return checkEndpointUrl(env.AWS_ENDPOINT_URL_DYNAMODB, 'AWS_ENDPOINT_URL_DYNAMODB');
  if (env.AWS_ENDPOINT_URL) return checkEndpointUrl(env.AWS_ENDPOINT_URL, 'AWS_ENDPOINT_URL');
  return undefined;
}

export interface OpenConfiguredStoreOptions extends Pick<OpenStateStoreOptions, 'stateDirOverride' | 'env' | 'file'> {
  /** `--endpoint`: where STS answers when the state role is assumed (the emulator). DynamoDB itself follows AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL. */
  readonly stsEndpoint?: string;
  /** Where a note goes when the state role cannot be assumed and the starting credentials read instead. Default: stderr. */
  readonly onNote?: (note: string) => void;
}

/**
 * The state store of `config` for the commands that read state without acting on AWS (`status`,
 * `runs`, `approve`, `audit verify`, …): in team mode through the team account's
 * `access.stateRole` when the starting identity may assume it (CI's one identity), exactly as a
 * rotation reaches it; an approver or auditor who may not falls back to their own credentials
 * (their own access to the table decides), with a note. The credential chain (and the SDK) is
 * loaded only in team mode.
 */
export async function openConfiguredStore(config: Config, options: OpenConfiguredStoreOptions = {}): Promise<StateStore> {
  const { stsEndpoint, onNote, ...storeOptions } = options;
  if (options.stateDirOverride !== undefined || config.state.type === 'file') return openStateStore(config.state, storeOptions);
  const { credentialChainFor } = await import('../aws/role-credentials');
  const chain = credentialChainFor(config, { env: options.env ?? process.env, ...(stsEndpoint ? { endpoint: stsEndpoint } : {}) });
  const credentials = chain.stateReadCredentials(config.state.region, onNote ?? ((note) => process.stderr.write(`${note}\n`)));
  return openStateStore(config.state, { ...storeOptions, ...(credentials === undefined ? {} : { credentials }) });
}
