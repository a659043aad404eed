import { DescribeInstanceCommand, UpdateInstanceCommand, type SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { parseDesiredEncryption } from '../../scripts/ic-helper/desired';
import { ensureIdentityCenterEncryption } from '../../pipeline/identity-center/ensure-encryption';
import { IdentityCenterEncryptionError } from '../../pipeline/identity-center/errors';
import { runHelper } from '../../scripts/identity-center-helper';

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

const noWait = { sleep: async () => undefined };

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
    expect(result).toMatchObject({ changed: true, polls: 4 });
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
      now: () => clock,
      sleep: async (ms) => {
        clock += ms;
      },
    });
    await expect(attempt).rejects.toMatchObject({ retryable: true, message: expect.stringMatching(/last status UPDATING/) });
    expect(fake.updates).toHaveLength(1);
  });

  test('WHEN polling THEN each wait comes from the shared poll schedule, counted from the UpdateInstance\'s answer (never a busy loop)', async () => {
    let clock = 0;
    const delays: number[] = [];
    const fake = fakeSsoAdmin([
      { KeyType: 'AWS_OWNED_KMS_KEY', EncryptionStatus: 'ENABLED' },
      ...Array.from({ length: 12 }, () => ({ EncryptionStatus: 'UPDATING' })),
      { KeyType: 'CUSTOMER_MANAGED_KEY', KmsKeyArn: KEY, EncryptionStatus: 'ENABLED' },
    ]);
    const result = await ensureIdentityCenterEncryption({ ssoAdmin: fake.client }, INSTANCE, { keyType: 'CUSTOMER_MANAGED_KEY', kmsKeyArn: KEY }, {
      now: () => clock,
      random: () => 0,
      update: async () => {
        clock += 300; // the UpdateInstance round trip is not part of the wait
      },
      sleep: async (ms) => {
        delays.push(ms);
        clock += ms;
      },
    });
    // 15% of the time waited, never under 500 ms: 0.5 s × 7 (to 3.5 s), then 525, 603, …
    expect(delays).toEqual([500, 500, 500, 500, 500, 500, 500, 525, 603, 694, 798, 918, 1055]);
    expect(result).toEqual({ changed: true, polls: 14, waitedMs: delays.reduce((a, b) => a + b, 0) });
  });

  test('GIVEN a schedule override WHEN polling THEN it replaces only the fields it sets', async () => {
    const delays: number[] = [];
    const fake = fakeSsoAdmin([{ EncryptionStatus: 'UPDATING' }, { EncryptionStatus: 'UPDATING' }, { KeyType: 'CUSTOMER_MANAGED_KEY', KmsKeyArn: KEY, EncryptionStatus: 'ENABLED' }]);
    await ensureIdentityCenterEncryption({ ssoAdmin: fake.client }, INSTANCE, { keyType: 'CUSTOMER_MANAGED_KEY', kmsKeyArn: KEY }, {
      schedule: { floorMs: 10, capMs: undefined },
      now: () => 0,
      random: () => 0,
      sleep: async (ms) => {
        delays.push(ms);
      },
    });
    expect(delays).toEqual([10, 10]);
  });

  test('GIVEN a bad schedule override or timeout WHEN ensured THEN it is refused before any call, naming the value', async () => {
    const fake = fakeSsoAdmin([{ EncryptionStatus: 'UPDATING' }]);
    const desired = { keyType: 'CUSTOMER_MANAGED_KEY', kmsKeyArn: KEY } as const;
    await expect(ensureIdentityCenterEncryption({ ssoAdmin: fake.client }, INSTANCE, desired, { ...noWait, schedule: { floorMs: 0 } })).rejects.toThrow(/floorMs 0 must be a positive number/);
    await expect(ensureIdentityCenterEncryption({ ssoAdmin: fake.client }, INSTANCE, desired, { ...noWait, timeoutMs: Number.NaN })).rejects.toThrow(/the wait timeout NaN ms is not a positive number/);
    expect(fake.describes()).toBe(0);
  });

  test('WHEN the status stays UPDATING for many polls THEN progress says so once, then reports the wait', async () => {
    const lines: string[] = [];
    const fake = fakeSsoAdmin([
      { KeyType: 'AWS_OWNED_KMS_KEY', EncryptionStatus: 'ENABLED' },
      ...Array.from({ length: 5 }, () => ({ EncryptionStatus: 'UPDATING' })),
      { KeyType: 'CUSTOMER_MANAGED_KEY', KmsKeyArn: KEY, EncryptionStatus: 'ENABLED' },
    ]);
    await ensureIdentityCenterEncryption({ ssoAdmin: fake.client }, INSTANCE, { keyType: 'CUSTOMER_MANAGED_KEY', kmsKeyArn: KEY }, { ...noWait, log: (line) => lines.push(line) });
    expect(lines).toEqual([
      `switching from AWS_OWNED_KMS_KEY (ENABLED) to ${KEY}`,
      'status UPDATING; waiting',
      expect.stringMatching(new RegExp(`^ENABLED on ${KEY} after \\d+\\.\\d s \\(7 DescribeInstance calls\\)$`)),
    ]);
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

describe('the helper CLI\'s --timeout-seconds', () => {
  test.each(['15m', '0', '-5', ''])('GIVEN --timeout-seconds %p WHEN run THEN it exits 2 naming the option, before any AWS call', async (value) => {
    const errors: string[] = [];
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      errors.push(String(chunk));
      return true;
    });
    try {
      // An endpoint nothing listens on: reaching AWS would fail differently (exit 3).
      const env = { AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'x' };
      const code = await runHelper(['node', 'helper', '--instance-arn', INSTANCE, '--key-type', 'AWS_OWNED_KMS_KEY', '--region', 'us-east-1', '--timeout-seconds', value], env);
      expect(code).toBe(2);
      expect(errors.join('')).toContain(`--timeout-seconds ${JSON.stringify(value)} is not a positive number of seconds`);
    } finally {
      stderr.mockRestore();
    }
  });
});
