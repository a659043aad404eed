/**
 * What `rotate plan` (and the confirmations) read live, read-only: where the alias points and
 * which key Identity Center uses now. Read only when there is something to read with (an endpoint
 * or credentials in the environment); otherwise, or when a read fails, the facts say "unknown"
 * and why, and the plan still prints.
 */
import { existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { KeyRingConfig } from '../../../pipeline/config/types';
import type { AwsClients } from '../../../pipeline/aws/clients';

export interface IdentityCenterNow {
  readonly status?: string;
  readonly encryptionStatus?: string;
  readonly keyType?: string;
  readonly kmsKeyArn?: string;
}

export type LiveFacts =
  | { readonly source: 'live'; readonly aliasTarget: string | null; readonly identityCenter?: IdentityCenterNow }
  | { readonly source: 'unknown'; readonly reason: string };

/** Whether the environment names any AWS credentials or endpoint (the SDK's chain would otherwise probe instance metadata). */
export function awsReachable(env: NodeJS.ProcessEnv, endpoint: string | undefined): boolean {
  if (endpoint || env.AWS_ENDPOINT_URL || Object.keys(env).some((k) => k.startsWith('AWS_ENDPOINT_URL_'))) return true;
  if (env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE || env.AWS_WEB_IDENTITY_TOKEN_FILE || env.AWS_CONTAINER_CREDENTIALS_FULL_URI || env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) return true;
  const home = env.HOME ?? os.homedir();
  return existsSync(env.AWS_SHARED_CREDENTIALS_FILE ?? path.join(home, '.aws', 'credentials')) || existsSync(env.AWS_CONFIG_FILE ?? path.join(home, '.aws', 'config'));
}

/** DescribeKey on the alias and DescribeInstance; any failure becomes `unknown` with AWS's reason. */
export async function readLiveFacts(clients: AwsClients, keyring: KeyRingConfig): Promise<LiveFacts> {
  const { DescribeKeyCommand } = await import('@aws-sdk/client-kms');
  const { DescribeInstanceCommand } = await import('@aws-sdk/client-sso-admin');
  try {
    let aliasTarget: string | null = null;
    try {
      aliasTarget = (await clients.kms.send(new DescribeKeyCommand({ KeyId: keyring.alias }))).KeyMetadata?.Arn ?? null;
    } catch (error) {
      if ((error as { name?: string }).name !== 'NotFoundException') throw error;
    }
    if (!keyring.identityCenter) return { source: 'live', aliasTarget };
    const out = await clients.ssoAdmin.send(new DescribeInstanceCommand({ InstanceArn: keyring.identityCenter.instanceArn }));
    const details = out.EncryptionConfigurationDetails;
    return {
      source: 'live',
      aliasTarget,
      identityCenter: {
        ...(out.Status !== undefined ? { status: out.Status } : {}),
        ...(details?.EncryptionStatus !== undefined ? { encryptionStatus: details.EncryptionStatus } : {}),
        ...(details?.KeyType !== undefined ? { keyType: details.KeyType } : {}),
        ...(details?.KmsKeyArn !== undefined ? { kmsKeyArn: details.KmsKeyArn } : {}),
      },
    };
  } catch (error) {
    const e = error as { name?: string; message?: string };
    return { source: 'unknown', reason: `the live read failed: ${e.name ?? 'Error'}: ${e.message ?? String(error)}` };
  }
}

/** Identity Center's key now, in words: the live value, or "unknown" and why. */
export function identityCenterKeyWords(facts: LiveFacts): string {
  if (facts.source !== 'live') return `unknown (${facts.reason})`;
  const ic = facts.identityCenter;
  if (!ic) return 'unknown (not read)';
  return ic.keyType === 'CUSTOMER_MANAGED_KEY' && ic.kmsKeyArn ? ic.kmsKeyArn : 'an AWS owned key';
}
