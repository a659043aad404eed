import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

export type CredentialsOption = AwsCredentialIdentity | AwsCredentialIdentityProvider;

/**
 * Credentials for the loopback emulator when none are configured. Without them the SDK's default
 * chain would end at the EC2 instance metadata service and hang for seconds before failing.
 */
export const EMULATOR_DUMMY_CREDENTIALS: Readonly<AwsCredentialIdentity> = {
  accessKeyId: 'AKIAKEYROTOREMULATOR',
  secretAccessKey: 'keyrotor-emulator-dummy-secret',
};

/** Static keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN) of the given environment. */
export function credentialsFromEnv(env: NodeJS.ProcessEnv): AwsCredentialIdentity | undefined {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) return undefined;
  return { accessKeyId, secretAccessKey, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) };
}

/**
 * Explicit credentials win; then keys in the environment; then, for a loopback endpoint only, the
 * dummy keys. undefined = the SDK's default provider chain (profiles, SSO, web identity, IMDS).
 */
export function chooseCredentials(
  explicit: CredentialsOption | undefined,
  env: NodeJS.ProcessEnv,
  loopback: boolean,
): CredentialsOption | undefined {
  if (explicit !== undefined) return explicit;
  const fromEnv = credentialsFromEnv(env);
  if (fromEnv !== undefined) return fromEnv;
  // A copy: the SDK records the credentials' source on the object it is given.
  return loopback ? { ...EMULATOR_DUMMY_CREDENTIALS } : undefined;
}
