/**
 * Snapshots: the crash suite restores one prepared organization before each scenario, so a
 * restored emulator must be indistinguishable from the one that was copied — keys, aliases,
 * policies, key material (shared across a multi-Region set), Identity Center's key — and later
 * changes must never leak back into the snapshot.
 */
import { CreateAliasCommand, CreateKeyCommand, DecryptCommand, DescribeKeyCommand, DisableKeyCommand, EncryptCommand, KMSClient, ReplicateKeyCommand } from '@aws-sdk/client-kms';
import { startEmulator, type Emulator } from '../../emulator';

describe('emulator snapshots', () => {
  let emulator: Emulator;
  const client = (region = 'us-east-1') => new KMSClient({ region, endpoint: emulator.endpoint, credentials: { accessKeyId: 'AKIATESTOPERATOR', secretAccessKey: 'test' } });
  beforeEach(async () => {
    emulator = await startEmulator({ quotas: false, replicaDelayMs: 0 });
  });
  afterEach(() => emulator.stop());

  it('GIVEN a key and alias WHEN changed after a snapshot THEN restore brings back exactly the copied state, as often as asked', async () => {
    const kms = client();
    const key = (await kms.send(new CreateKeyCommand({ Description: 'first' }))).KeyMetadata!.Arn!;
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/x', TargetKeyId: key }));
    const sealed = await kms.send(new EncryptCommand({ KeyId: 'alias/x', Plaintext: Buffer.from('secret') }));
    const snapshot = emulator.snapshot();

    await kms.send(new DisableKeyCommand({ KeyId: key }));
    await kms.send(new CreateKeyCommand({ Description: 'second' }));
    expect(emulator.listKeyArns()).toHaveLength(2);

    for (let round = 0; round < 2; round++) {
      emulator.restore(snapshot);
      expect(emulator.callLog()).toEqual([]);
      expect(emulator.listKeyArns()).toEqual([key]);
      expect(emulator.describeKeyState(key)!.keyState).toBe('Enabled');
      expect((await kms.send(new DescribeKeyCommand({ KeyId: 'alias/x' }))).KeyMetadata!.Arn).toBe(key);
      const opened = await kms.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob }));
      expect(Buffer.from(opened.Plaintext!).toString()).toBe('secret');
      await kms.send(new DisableKeyCommand({ KeyId: key })); // a change the next restore must undo
    }
    kms.destroy();
  });

  it('GIVEN a multi-Region key and its replica WHEN restored THEN they still share key material', async () => {
    const kms = client();
    const primary = (await kms.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!;
    await kms.send(new ReplicateKeyCommand({ KeyId: primary.Arn!, ReplicaRegion: 'eu-west-1' }));
    const snapshot = emulator.snapshot();
    emulator.restore(snapshot);
    const sealed = await kms.send(new EncryptCommand({ KeyId: primary.Arn!, Plaintext: Buffer.from('both') }));
    const replica = client('eu-west-1');
    const opened = await replica.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob }));
    expect(Buffer.from(opened.Plaintext!).toString()).toBe('both');
    kms.destroy();
    replica.destroy();
  });
});
