import { DescribeInstanceCommand, UpdateInstanceCommand, type SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { parseDesiredEncryption } from '../../scripts/ic-helper/desired';
import { ensureIdentityCenterEncryption } from '../../pipeline/identity-center/ensure-encryption';
import { IdentityCenterEncryptionError } from '../../pipeline/identity-center/errors';

const INSTANCE = 'arn:aws:sso:::instance/ssoins-7223f2cd9d6a6b51';
const KEY = 'arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const OTHER_KEY = 'arn:aws:kms:us-east-1:111111111111:key/9999abcd-12ab-34cd-56ef-1234567890ab';

interface Details {
  KeyType?: string;
  KmsKeyArn?: string;
  EncryptionStatus?: string;
  EncryptionStatusReason?: string;
}

/**
 * A scripted SSO Admin: each DescribeInstance returns the next scripted state (the last one
 * repeats); every UpdateInstance is recorded.
 */
function fakeSsoAdmin(script: Details[]) {
  const updates: unknown[] = [];
  let describes = 0;
  const send = async (command: unknown) => {
    if (command instanceof DescribeInstanceCommand) {
      const details = script[Math.min(describes, script.length - 1)];
      describes += 1;
      return { InstanceArn: command.input.InstanceArn, EncryptionConfigurationDetails: details };
    }
    if (command instanceof UpdateInstanceCommand) {
      updates.push(command.input);
      return {};
    }
    throw new Error(`unexpected command ${String(command)}`);
  };
  return { client: { send } as unknown as Pick<SSOAdminClient, 'send'>, updates, describes: () => describes };
}

const noWait = { sleep: async () => undefined, initialDelayMs: 1, maxDelayMs: 1 };

describe('ensureIdentityCenterEncryption', () => {
  test('GIVEN the instance is already ENABLED on the desired key WHEN ensured THEN no UpdateInstance is sent', async () => {
    const fake = fakeSsoAdmin([{ KeyType: 'CUSTOMER_MANAGED_KEY', KmsKeyArn: KEY, EncryptionStatus: 'ENABLED' }]);
    const result = await ensureIdentityCenterEncryption({ ssoAdmin: fake.client }, INSTANCE, { keyType: 'CUSTOMER_MANAGED_KEY', kmsKeyArn: KEY }, noWait);
    expect(result.changed).toBe(false);
    expect(fake.updates).toEqual([]);
  });

  test('GIVEN an AWS owned key WHEN switched to a CMK THEN one UpdateInstance with EncryptionConfiguration only, then polls until ENABLED', async () => {
    const fake = fakeSsoAdmin([
      { KeyType: 'AWS_OWNED_KMS_KEY', EncryptionStatus: 'ENABLED' },
      { KeyType: 'CUSTOMER_MANAGED_KEY', KmsKeyArn: KEY, EncryptionStatus: 'UPDATING' },
      { KeyType: 'CUSTOMER_MANAGED_KEY', KmsKeyArn: KEY, EncryptionStatus: 'UPDATING' },
      { KeyType: 'CUSTOMER_MANAGED_KEY', KmsKeyArn: KEY, EncryptionStatus: 'ENABLED' },
    ]);
    const result = await ensureIdentityCenterEncryption({ ssoAdmin: fake.client }, INSTANCE, { keyType: 'CUSTOMER_MANAGED_KEY', kmsKeyArn: KEY }, noWait);
    expect(result).toEqual({ changed: true, polls: 4 });
    expect(fake.updates).toEqual([
      { InstanceArn: INSTANCE, EncryptionConfiguration: { KeyType: 'CUSTOMER_MANAGED_KEY', KmsKeyArn: KEY } },
    ]);
  });

  test('GIVEN a switch is already UPDATING to the desired key WHEN ensured THEN it waits without a second update', async () => {
    const fake = fakeSsoAdmin([
      { KeyType: 'CUSTOMER_MANAGED_KEY', KmsKeyArn: KEY, EncryptionStatus: 'UPDATING' },
      { KeyType: 'CUSTOMER_MANAGED_KEY', KmsKeyArn: KEY, EncryptionStatus: 'ENABLED' },
    ]);
    await ensureIdentityCenterEncryption({ ssoAdmin: fake.client }, INSTANCE, { keyType: 'CUSTOMER_MANAGED_KEY', kmsKeyArn: KEY }, noWait);
    expect(fake.updates).toEqual([]);
  });

  test('GIVEN a CMK WHEN switched back to an AWS owned key THEN the update carries no key ARN', async () => {
    const fake = fakeSsoAdmin([
      { KeyType: 'CUSTOMER_MANAGED_KEY', KmsKeyArn: KEY, EncryptionStatus: 'ENABLED' },
      { KeyType: 'AWS_OWNED_KMS_KEY', EncryptionStatus: 'ENABLED' },
    ]);
    await ensureIdentityCenterEncryption({ ssoAdmin: fake.client }, INSTANCE, { keyType: 'AWS_OWNED_KMS_KEY' }, noWait);
    expect(fake.updates).toEqual([{ InstanceArn: INSTANCE, EncryptionConfiguration: { KeyType: 'AWS_OWNED_KMS_KEY' } }]);
  });

  test('GIVEN the switch ends in UPDATE_FAILED WHEN ensured THEN it fails with EncryptionStatusReason', async () => {
    const fake = fakeSsoAdmin([
      { KeyType: 'CUSTOMER_MANAGED_KEY', KmsKeyArn: OTHER_KEY, EncryptionStatus: 'ENABLED' },
      { KeyType: 'CUSTOMER_MANAGED_KEY', KmsKeyArn: KEY, EncryptionStatus: 'UPDATING' },
      { KeyType: 'CUSTOMER_MANAGED_KEY', KmsKeyArn: OTHER_KEY, EncryptionStatus: 'UPDATE_FAILED', EncryptionStatusReason: 'KMS key is disabled' },
    ]);
    const attempt = ensureIdentityCenterEncryption({ ssoAdmin: fake.client }, INSTANCE, { keyType: 'CUSTOMER_MANAGED_KEY', kmsKeyArn: KEY }, noWait);
    await expect(attempt).rejects.toThrow(IdentityCenterEncryptionError);
    await expect(attempt).rejects.toThrow(/UPDATE_FAILED\): KMS key is disabled/);
    expect(fake.updates).toHaveLength(1);
  });

  test('GIVEN the instance stays UPDATING WHEN the timeout passes THEN it fails, retryable, naming the last status', async () => {
    let clock = 0;
    const fake = fakeSsoAdmin([{ KeyType: 'AWS_OWNED_KMS_KEY', EncryptionStatus: 'ENABLED' }, { EncryptionStatus: 'UPDATING' }]);
    const attempt = ensureIdentityCenterEncryption({ ssoAdmin: fake.client }, INSTANCE, { keyType: 'CUSTOMER_MANAGED_KEY', kmsKeyArn: KEY }, {
      timeoutMs: 60_000,
      initialDelayMs: 1_000,
      maxDelayMs: 8_000,
      now: () => clock,
      sleep: async (ms) => {
        clock += ms;
      },
    });
    await expect(attempt).rejects.toMatchObject({ retryable: true, message: expect.stringMatching(/last status UPDATING/) });
    expect(fake.updates).toHaveLength(1);
  });

  test('WHEN polling THEN the delay doubles up to the cap (backoff, never a busy loop)', async () => {
    const delays: number[] = [];
    const fake = fakeSsoAdmin([
      { KeyType: 'AWS_OWNED_KMS_KEY', EncryptionStatus: 'ENABLED' },
      ...Array.from({ length: 5 }, () => ({ EncryptionStatus: 'UPDATING' })),
      { KeyType: 'CUSTOMER_MANAGED_KEY', KmsKeyArn: KEY, EncryptionStatus: 'ENABLED' },
    ]);
    await ensureIdentityCenterEncryption({ ssoAdmin: fake.client }, INSTANCE, { keyType: 'CUSTOMER_MANAGED_KEY', kmsKeyArn: KEY }, {
      initialDelayMs: 100,
      maxDelayMs: 800,
      sleep: async (ms) => {
        delays.push(ms);
      },
    });
    expect(delays).toEqual([100, 200, 400, 800, 800, 800]);
  });
});

describe('parseDesiredEncryption', () => {
  const parse = (type: string, arn?: string, region = 'us-east-1') => () => parseDesiredEncryption(INSTANCE, type, arn, region);

  test('accepts a key ARN in the instance Region', () => {
    expect(parse('CUSTOMER_MANAGED_KEY', KEY)()).toEqual({ keyType: 'CUSTOMER_MANAGED_KEY', kmsKeyArn: KEY });
    expect(parse('AWS_OWNED_KMS_KEY')()).toEqual({ keyType: 'AWS_OWNED_KMS_KEY' });
  });
  test('rejects an alias ARN, saying to pass the key ARN', () => {
    expect(parse('CUSTOMER_MANAGED_KEY', 'arn:aws:kms:us-east-1:111111111111:alias/identity-center')).toThrow(/is an alias ARN; Identity Center needs the key ARN/);
  });
  test('rejects a key in another Region', () => {
    expect(parse('CUSTOMER_MANAGED_KEY', KEY, 'eu-west-1')).toThrow(/is in us-east-1, but the instance is in eu-west-1/);
  });
  test('rejects a missing, malformed or superfluous key ARN and an unknown key type', () => {
    expect(parse('CUSTOMER_MANAGED_KEY')).toThrow(/needs --kms-key-arn/);
    expect(parse('CUSTOMER_MANAGED_KEY', 'key/1234')).toThrow(/is not a KMS key ARN/);
    expect(parse('AWS_OWNED_KMS_KEY', KEY)).toThrow(/was given with --key-type AWS_OWNED_KMS_KEY/);
    expect(parse('CMK', KEY)).toThrow(/"CMK" is not AWS_OWNED_KMS_KEY or CUSTOMER_MANAGED_KEY/);
  });
});
