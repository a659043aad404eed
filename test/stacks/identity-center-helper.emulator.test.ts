import { CreateKeyCommand, DisableKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { DescribeInstanceCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { startEmulator, type Emulator } from '../../emulator';
import { buildKeyPolicy, renderKeyPolicy } from '../../pipeline/policy/builder';
import { runHelper } from '../../scripts/identity-center-helper';
import { ensureIdentityCenterEncryption } from '../../pipeline/identity-center/ensure-encryption';
import { IDENTITY_CENTER, keyring } from './helpers';

// End to end through the real SDK against the local emulator (a test double of SSO Admin and KMS).
const credentials = { accessKeyId: 'AKIAOPERATOR0000001', secretAccessKey: 'emulator-secret' };
const ic = keyring({ name: 'identity-center', identityCenter: IDENTITY_CENTER, keyUsers: [] });
const fast = { schedule: { floorMs: 10, capMs: 40 }, timeoutMs: 20_000 };

let emu: Emulator;
let kms: KMSClient;
let ssoAdmin: SSOAdminClient;

beforeAll(async () => {
  emu = await startEmulator({ updateDelayMs: 30 });
  kms = new KMSClient({ region: 'us-east-1', endpoint: emu.endpoint, credentials });
  ssoAdmin = new SSOAdminClient({ region: 'us-east-1', endpoint: emu.endpoint, credentials });
});
afterAll(async () => {
  kms.destroy();
  ssoAdmin.destroy();
  await emu.stop();
});

async function keyWithBuilderPolicy(): Promise<string> {
  const created = await kms.send(new CreateKeyCommand({ Policy: renderKeyPolicy(buildKeyPolicy(ic)), Description: 'test' }));
  return created.KeyMetadata!.Arn!;
}

const instanceKey = async () => (await ssoAdmin.send(new DescribeInstanceCommand({ InstanceArn: IDENTITY_CENTER.instanceArn }))).EncryptionConfigurationDetails;

test('GIVEN a key with the builder\'s policy WHEN ensured twice THEN the instance switches once and the second run makes no UpdateInstance', async () => {
  const keyArn = await keyWithBuilderPolicy();
  const first = await ensureIdentityCenterEncryption({ ssoAdmin }, IDENTITY_CENTER.instanceArn, { keyType: 'CUSTOMER_MANAGED_KEY', kmsKeyArn: keyArn }, fast);
  expect(first.changed).toBe(true);
  expect(await instanceKey()).toMatchObject({ KeyType: 'CUSTOMER_MANAGED_KEY', KmsKeyArn: keyArn, EncryptionStatus: 'ENABLED' });

  emu.clearCallLog();
  const second = await ensureIdentityCenterEncryption({ ssoAdmin }, IDENTITY_CENTER.instanceArn, { keyType: 'CUSTOMER_MANAGED_KEY', kmsKeyArn: keyArn }, fast);
  expect(second.changed).toBe(false);
  expect(emu.callLog().map((c) => c.operation)).not.toContain('UpdateInstance');
});

test('GIVEN a disabled key WHEN ensured THEN it fails with the instance\'s EncryptionStatusReason and the instance keeps its key', async () => {
  const before = await instanceKey();
  const keyArn = await keyWithBuilderPolicy();
  await kms.send(new DisableKeyCommand({ KeyId: keyArn }));
  await expect(ensureIdentityCenterEncryption({ ssoAdmin }, IDENTITY_CENTER.instanceArn, { keyType: 'CUSTOMER_MANAGED_KEY', kmsKeyArn: keyArn }, fast)).rejects.toThrow(/UPDATE_FAILED\): .+/);
  expect(await instanceKey()).toMatchObject({ KeyType: before!.KeyType, KmsKeyArn: before!.KmsKeyArn });
});

test('GIVEN the helper CLI with AWS_ENDPOINT_URL WHEN switching back to an AWS owned key THEN it exits 0; an alias ARN exits 2 before any call', async () => {
  const env = { ...process.env, AWS_ENDPOINT_URL: emu.endpoint, AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey };
  const writes = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const errors = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const base = ['node', 'helper', '--instance-arn', IDENTITY_CENTER.instanceArn, '--region', 'us-east-1'];
    expect(await runHelper([...base, '--key-type', 'AWS_OWNED_KMS_KEY'], env)).toBe(0);
    expect(await instanceKey()).toMatchObject({ KeyType: 'AWS_OWNED_KMS_KEY', EncryptionStatus: 'ENABLED' });
    emu.clearCallLog();
    expect(await runHelper([...base, '--key-type', 'CUSTOMER_MANAGED_KEY', '--kms-key-arn', 'arn:aws:kms:us-east-1:111111111111:alias/identity-center'], env)).toBe(2);
    expect(emu.callLog()).toEqual([]);
  } finally {
    writes.mockRestore();
    errors.mockRestore();
  }
});
