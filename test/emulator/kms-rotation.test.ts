import {
  CreateKeyCommand, DecryptCommand, DescribeKeyCommand, DisableKeyCommand, EnableKeyRotationCommand, EncryptCommand, GetKeyRotationStatusCommand,
  ListKeyRotationsCommand, ReplicateKeyCommand, RotateKeyOnDemandCommand, ScheduleKeyDeletionCommand, type RotationsListEntry,
} from '@aws-sdk/client-kms';
import { ON_DEMAND_ROTATION_LIMIT, startEmulator, type Emulator } from '../../emulator';
import { clientsFor, eventually, rejectionOf, type Clients } from './harness';

const DAY_MS = 86_400_000;
const WEST = 'us-west-2';

/** One emulator per test: rotation state is per key, but the clock is shared. */
let emu: Emulator;
let aws: Clients;
async function start(options: Parameters<typeof startEmulator>[0] = {}) {
  emu = await startEmulator({ quotas: false, rotationDelayMs: 10, replicaDelayMs: 0, ...options });
  aws = clientsFor(emu);
}
afterEach(async () => emu?.stop());

const newKey = async (extra: Partial<ConstructorParameters<typeof CreateKeyCommand>[0]> = {}) =>
  (await aws.kms.send(new CreateKeyCommand(extra))).KeyMetadata!;

async function rotations(keyId: string, client: Clients = aws): Promise<RotationsListEntry[]> {
  return (await client.kms.send(new ListKeyRotationsCommand({ KeyId: keyId }))).Rotations!;
}

/** What a caller of RotateKeyOnDemand must do: wait until ListKeyRotations shows the new rotation. */
async function rotateAndWait(keyId: string): Promise<RotationsListEntry[]> {
  const before = (await rotations(keyId)).length;
  await aws.kms.send(new RotateKeyOnDemandCommand({ KeyId: keyId }));
  return eventually(() => rotations(keyId), (r) => r.length === before + 1, 'the on-demand rotation to complete');
}

describe('KMS RotateKeyOnDemand and ListKeyRotations', () => {
  it('GIVEN a symmetric key WHEN RotateKeyOnDemand THEN the rotation completes in the background: OnDemandRotationStartDate meanwhile, then an ON_DEMAND entry, and old ciphertext still decrypts', async () => {
    await start({ rotationDelayMs: 60_000 });
    const key = await newKey();
    const old = await aws.kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('before rotation') }));
    expect(await rotations(key.KeyId!)).toEqual([]);
    expect((await aws.kms.send(new RotateKeyOnDemandCommand({ KeyId: key.Arn }))).KeyId).toBe(key.KeyId);

    const inProgress = await aws.kms.send(new GetKeyRotationStatusCommand({ KeyId: key.KeyId }));
    expect(inProgress.OnDemandRotationStartDate).toBeInstanceOf(Date);
    expect(await rotations(key.KeyId!)).toEqual([]);
    expect(emu.describeKeyState(key.Arn!)).toMatchObject({ rotations: [], onDemandRotationInProgress: true });
    // A second request while one runs is a conflict.
    expect((await rejectionOf(aws.kms.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId })))).name).toBe('ConflictException');
    expect((await aws.kms.send(new DecryptCommand({ CiphertextBlob: old.CiphertextBlob }))).Plaintext).toBeDefined();
  });

  it('GIVEN a completed on-demand rotation THEN ListKeyRotations has it (CURRENT, with RotationDate), ALL_KEY_MATERIAL adds the first material, and ciphertext from before and after both decrypt', async () => {
    await start();
    const key = await newKey();
    const before = await aws.kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('old material') }));
    const [entry] = await rotateAndWait(key.KeyId!);
    expect(entry).toMatchObject({ KeyId: key.KeyId, RotationType: 'ON_DEMAND', KeyMaterialState: 'CURRENT' });
    expect(entry!.RotationDate).toBeInstanceOf(Date);
    expect(entry!.KeyMaterialId).toMatch(/^[0-9a-f]{64}$/);
    expect((await aws.kms.send(new GetKeyRotationStatusCommand({ KeyId: key.KeyId }))).OnDemandRotationStartDate).toBeUndefined();

    const all = (await aws.kms.send(new ListKeyRotationsCommand({ KeyId: key.KeyId, IncludeKeyMaterial: 'ALL_KEY_MATERIAL' }))).Rotations!;
    expect(all).toHaveLength(2);
    expect(all[0]).toMatchObject({ KeyMaterialState: 'NON_CURRENT' });
    expect(all[0]!.RotationType).toBeUndefined();
    expect(all[0]!.RotationDate).toBeUndefined();

    const after = await aws.kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('new material') }));
    expect(Buffer.from((await aws.kms.send(new DecryptCommand({ CiphertextBlob: before.CiphertextBlob }))).Plaintext!).toString()).toBe('old material');
    expect(Buffer.from((await aws.kms.send(new DecryptCommand({ CiphertextBlob: after.CiphertextBlob }))).Plaintext!).toString()).toBe('new material');
  });

  it(`GIVEN ${ON_DEMAND_ROTATION_LIMIT} on-demand rotations THEN the next is LimitExceededException, and ListKeyRotations pages through all of them`, async () => {
    await start({ rotationDelayMs: 0 });
    const key = await newKey();
    for (let i = 0; i < ON_DEMAND_ROTATION_LIMIT; i += 1) {
      // With no delay, each rotation has completed by the next call.
      await aws.kms.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId }));
    }
    const err = await rejectionOf(aws.kms.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId })));
    expect(err.name).toBe('LimitExceededException');
    expect(err.message).toMatch(/25 on-demand rotations/);

    const seen: RotationsListEntry[] = [];
    let marker: string | undefined;
    do {
      const page = await aws.kms.send(new ListKeyRotationsCommand({ KeyId: key.KeyId, Limit: 10, Marker: marker }));
      seen.push(...page.Rotations!);
      marker = page.Truncated ? page.NextMarker : undefined;
    } while (marker);
    expect(seen).toHaveLength(ON_DEMAND_ROTATION_LIMIT);
    expect(seen.every((r) => r.RotationType === 'ON_DEMAND')).toBe(true);
    expect(seen.filter((r) => r.KeyMaterialState === 'CURRENT')).toEqual([seen[seen.length - 1]]);
    expect((await rejectionOf(aws.kms.send(new ListKeyRotationsCommand({ KeyId: key.KeyId, Marker: '99' })))).name).toBe('InvalidMarkerException');
  });

  it('GIVEN a key that cannot rotate on demand THEN disabled → DisabledException, pending deletion → KMSInvalidStateException, asymmetric → UnsupportedOperationException, a replica → UnsupportedOperationException naming the primary', async () => {
    await start();
    const disabled = await newKey();
    await aws.kms.send(new DisableKeyCommand({ KeyId: disabled.KeyId }));
    expect((await rejectionOf(aws.kms.send(new RotateKeyOnDemandCommand({ KeyId: disabled.KeyId })))).name).toBe('DisabledException');
    const doomed = await newKey();
    await aws.kms.send(new ScheduleKeyDeletionCommand({ KeyId: doomed.KeyId, PendingWindowInDays: 7 }));
    expect((await rejectionOf(aws.kms.send(new RotateKeyOnDemandCommand({ KeyId: doomed.KeyId })))).name).toBe('KMSInvalidStateException');
    const rsa = await newKey({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' });
    expect((await rejectionOf(aws.kms.send(new RotateKeyOnDemandCommand({ KeyId: rsa.KeyId })))).name).toBe('UnsupportedOperationException');
    expect((await rejectionOf(aws.kms.send(new ListKeyRotationsCommand({ KeyId: rsa.KeyId })))).name).toBe('UnsupportedOperationException');

    const primary = await newKey({ MultiRegion: true });
    await aws.kms.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: WEST }));
    const west = clientsFor(emu, { region: WEST });
    const err = await rejectionOf(west.kms.send(new RotateKeyOnDemandCommand({ KeyId: primary.KeyId })));
    expect(err.name).toBe('UnsupportedOperationException');
    expect(err.message).toMatch(/primary key in us-east-1/);
    expect((await rejectionOf(west.kms.send(new EnableKeyRotationCommand({ KeyId: primary.KeyId })))).name).toBe('UnsupportedOperationException');
  });

  it('GIVEN a multi-Region primary WHEN it rotates THEN every replica shares the rotation: the replica lists it and decrypts new ciphertext from the primary', async () => {
    await start();
    const primary = await newKey({ MultiRegion: true });
    await aws.kms.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: WEST }));
    const west = clientsFor(emu, { region: WEST });
    await eventually(async () => (await west.kms.send(new DescribeKeyCommand({ KeyId: primary.KeyId }))).KeyMetadata!.KeyState, (s) => s === 'Enabled', 'the replica');
    const [rotation] = await rotateAndWait(primary.KeyId!);
    expect(await rotations(primary.KeyId!, west)).toEqual([rotation]);
    const fresh = await aws.kms.send(new EncryptCommand({ KeyId: primary.KeyId, Plaintext: Buffer.from('rotated') }));
    expect(Buffer.from((await west.kms.send(new DecryptCommand({ CiphertextBlob: fresh.CiphertextBlob }))).Plaintext!).toString()).toBe('rotated');
  });
});

describe('KMS automatic rotation on the emulator clock', () => {
  it('GIVEN automatic rotation every 90 days WHEN the clock moves 181 days THEN two AUTOMATIC rotations dated on schedule, the next one 270 days after enabling, and old ciphertext still decrypts', async () => {
    const enabledAt = new Date('2030-01-01T00:00:00Z');
    await start({ now: () => enabledAt });
    const key = await newKey();
    const old = await aws.kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('year zero') }));
    await aws.kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId, RotationPeriodInDays: 90 }));
    emu.advanceClock(181 * DAY_MS);
    const list = await rotations(key.KeyId!);
    expect(list.map((r) => [r.RotationType, r.RotationDate?.toISOString()])).toEqual([
      ['AUTOMATIC', new Date(enabledAt.getTime() + 90 * DAY_MS).toISOString()],
      ['AUTOMATIC', new Date(enabledAt.getTime() + 180 * DAY_MS).toISOString()],
    ]);
    const status = await aws.kms.send(new GetKeyRotationStatusCommand({ KeyId: key.KeyId }));
    expect(status).toMatchObject({ KeyRotationEnabled: true, RotationPeriodInDays: 90, NextRotationDate: new Date(enabledAt.getTime() + 270 * DAY_MS) });
    expect(Buffer.from((await aws.kms.send(new DecryptCommand({ CiphertextBlob: old.CiphertextBlob }))).Plaintext!).toString()).toBe('year zero');
  });

  it('GIVEN an automatic rotation due within 20 minutes THEN RotateKeyOnDemand is ConflictException; on-demand rotations leave the automatic schedule alone', async () => {
    const enabledAt = new Date('2030-01-01T00:00:00Z');
    await start({ now: () => enabledAt, rotationDelayMs: 0 });
    const key = await newKey();
    await aws.kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId, RotationPeriodInDays: 90 }));
    await aws.kms.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId }));
    emu.advanceClock(90 * DAY_MS - 10 * 60_000);
    expect((await rejectionOf(aws.kms.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId })))).name).toBe('ConflictException');
    expect((await aws.kms.send(new GetKeyRotationStatusCommand({ KeyId: key.KeyId }))).NextRotationDate).toEqual(new Date(enabledAt.getTime() + 90 * DAY_MS));
    expect((await rotations(key.KeyId!)).map((r) => r.RotationType)).toEqual(['ON_DEMAND']);
  });
});
