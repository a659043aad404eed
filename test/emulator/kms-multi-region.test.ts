import {
  CancelKeyDeletionCommand, CreateAliasCommand, CreateKeyCommand, DecryptCommand, DescribeKeyCommand, DisableKeyCommand, EncryptCommand,
  GetKeyPolicyCommand, ListAliasesCommand, ListResourceTagsCommand, PutKeyPolicyCommand, ReplicateKeyCommand, ScheduleKeyDeletionCommand,
  UpdatePrimaryRegionCommand, type KeyMetadata,
} from '@aws-sdk/client-kms';
import { startEmulator, type Emulator } from '../../emulator';
import { MANAGEMENT, REGION, clientsFor, eventually, rejectionOf, useEmulator, type Clients } from './harness';

const WEST = 'us-west-2';
const EU = 'eu-west-1';
const DAY_MS = 86_400_000;

const ctx = useEmulator({ replicaDelayMs: 15 });
const west = () => clientsFor(ctx.emu, { region: WEST });

const policyWithSid = (sid: string) =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: sid, Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${MANAGEMENT}:root` }, Action: 'kms:*', Resource: '*' }] });

async function primaryKey(aws: Clients = ctx.aws): Promise<KeyMetadata> {
  return (await aws.kms.send(new CreateKeyCommand({ MultiRegion: true, Description: 'primary', Policy: policyWithSid('east') }))).KeyMetadata!;
}

/** ReplicateKey in the primary's Region, then waits (bounded) until the replica leaves Creating. */
async function replicate(primary: KeyMetadata, region = WEST, emu: Emulator = ctx.emu, from: Clients = ctx.aws): Promise<KeyMetadata> {
  await from.kms.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: region, Policy: policyWithSid(region) }));
  const there = clientsFor(emu, { region });
  return eventually(
    async () => (await there.kms.send(new DescribeKeyCommand({ KeyId: primary.KeyId }))).KeyMetadata!,
    (m) => m.KeyState === 'Enabled',
    `the replica in ${region} to be Enabled`,
  );
}

describe('KMS ReplicateKey', () => {
  it('GIVEN a multi-Region primary WHEN ReplicateKey with its own policy, description and tags THEN the replica has the same key id in the other Region, Creating then Enabled, and both keys list each other', async () => {
    const primary = await primaryKey();
    expect(primary.KeyId).toMatch(/^mrk-[0-9a-f]{32}$/);
    expect(primary.MultiRegionConfiguration).toEqual({ MultiRegionKeyType: 'PRIMARY', PrimaryKey: { Arn: primary.Arn, Region: REGION }, ReplicaKeys: [] });

    const out = await ctx.aws.kms.send(new ReplicateKeyCommand({
      KeyId: primary.Arn, ReplicaRegion: WEST, Policy: policyWithSid('west'), Description: 'west replica', Tags: [{ TagKey: 'region', TagValue: 'west' }],
    }));
    const replicaArn = `arn:aws:kms:${WEST}:${MANAGEMENT}:key/${primary.KeyId}`;
    expect(out.ReplicaKeyMetadata).toMatchObject({
      KeyId: primary.KeyId, Arn: replicaArn, KeyState: 'Creating', Enabled: false, Description: 'west replica', MultiRegion: true,
      MultiRegionConfiguration: { MultiRegionKeyType: 'REPLICA', PrimaryKey: { Arn: primary.Arn, Region: REGION } },
    });
    expect(out.ReplicaPolicy).toBe(policyWithSid('west'));
    expect(out.ReplicaTags).toEqual([{ TagKey: 'region', TagValue: 'west' }]);

    const replica = await eventually(
      async () => (await west().kms.send(new DescribeKeyCommand({ KeyId: replicaArn }))).KeyMetadata!,
      (m) => m.KeyState === 'Enabled',
      'the replica to be Enabled',
    );
    expect(replica.Description).toBe('west replica');
    expect((await west().kms.send(new DescribeKeyCommand({ KeyId: primary.KeyId }))).KeyMetadata!.Arn).toBe(replicaArn);
    const fromPrimary = (await ctx.aws.kms.send(new DescribeKeyCommand({ KeyId: primary.KeyId }))).KeyMetadata!;
    expect(fromPrimary.MultiRegionConfiguration!.ReplicaKeys).toEqual([{ Arn: replicaArn, Region: WEST }]);
    expect(fromPrimary.Description).toBe('primary');
    expect((await west().kms.send(new ListResourceTagsCommand({ KeyId: primary.KeyId }))).Tags).toEqual([{ TagKey: 'region', TagValue: 'west' }]);
    expect((await ctx.aws.kms.send(new ListResourceTagsCommand({ KeyId: primary.KeyId }))).Tags).toEqual([]);
    expect(ctx.emu.listKeyArns(MANAGEMENT, WEST)).toContain(replicaArn);
  });

  it('GIVEN a replica WHEN no Policy was given THEN it has the default key policy; PutKeyPolicy in one Region never changes the other (KMS does not sync policies)', async () => {
    const primary = await primaryKey();
    await ctx.aws.kms.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: EU }));
    const eu = clientsFor(ctx.emu, { region: EU });
    const defaultPolicy = JSON.parse((await eu.kms.send(new GetKeyPolicyCommand({ KeyId: primary.KeyId }))).Policy!);
    expect(defaultPolicy.Statement[0]).toMatchObject({ Principal: { AWS: `arn:aws:iam::${MANAGEMENT}:root` }, Action: 'kms:*' });

    await eu.kms.send(new PutKeyPolicyCommand({ KeyId: primary.KeyId, Policy: policyWithSid('eu-only') }));
    expect((await eu.kms.send(new GetKeyPolicyCommand({ KeyId: primary.KeyId }))).Policy).toBe(policyWithSid('eu-only'));
    expect((await ctx.aws.kms.send(new GetKeyPolicyCommand({ KeyId: primary.KeyId }))).Policy).toBe(policyWithSid('east'));
  });

  it('GIVEN ciphertext from the primary WHEN decrypted in the replica Region (and the reverse) THEN the shared key material decrypts it; a single-Region key\'s ciphertext does not', async () => {
    const primary = await primaryKey();
    await replicate(primary);
    const context = { purpose: 'mrk' };
    const east = await ctx.aws.kms.send(new EncryptCommand({ KeyId: primary.KeyId, Plaintext: Buffer.from('from east'), EncryptionContext: context }));
    const decrypted = await west().kms.send(new DecryptCommand({ CiphertextBlob: east.CiphertextBlob, EncryptionContext: context }));
    expect(Buffer.from(decrypted.Plaintext!).toString()).toBe('from east');
    expect(decrypted.KeyId).toBe(`arn:aws:kms:${WEST}:${MANAGEMENT}:key/${primary.KeyId}`);
    const fromWest = await west().kms.send(new EncryptCommand({ KeyId: primary.KeyId, Plaintext: Buffer.from('from west') }));
    expect(Buffer.from((await ctx.aws.kms.send(new DecryptCommand({ CiphertextBlob: fromWest.CiphertextBlob }))).Plaintext!).toString()).toBe('from west');

    const single = (await ctx.aws.kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const local = await ctx.aws.kms.send(new EncryptCommand({ KeyId: single.KeyId, Plaintext: Buffer.from('x') }));
    const err = await rejectionOf(west().kms.send(new DecryptCommand({ CiphertextBlob: local.CiphertextBlob })));
    expect(err.name).toBe('AccessDeniedException');
    expect(err.message).toMatch(/does not exist in this region/);
  });

  it('GIVEN bad ReplicateKey requests THEN single-Region key and replica → UnsupportedOperationException, own Region or bad Region → ValidationException, a second replica in a Region → AlreadyExistsException', async () => {
    const single = (await ctx.aws.kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    expect((await rejectionOf(ctx.aws.kms.send(new ReplicateKeyCommand({ KeyId: single.KeyId, ReplicaRegion: WEST })))).name).toBe('UnsupportedOperationException');
    const primary = await primaryKey();
    await replicate(primary);
    const fromReplica = await rejectionOf(west().kms.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: EU })));
    expect(fromReplica.name).toBe('UnsupportedOperationException');
    expect(fromReplica.message).toMatch(new RegExp(`primary key in ${REGION}`));
    expect((await rejectionOf(ctx.aws.kms.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: REGION })))).name).toBe('ValidationException');
    expect((await rejectionOf(ctx.aws.kms.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: 'mars' })))).name).toBe('ValidationException');
    const again = await rejectionOf(ctx.aws.kms.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: WEST })));
    expect(again.name).toBe('AlreadyExistsException');
  });

  it('GIVEN aliases of the same name in two Regions THEN each resolves to its own Region\'s key; an alias exists only where it was created', async () => {
    const primary = await primaryKey();
    const replica = await replicate(primary);
    await ctx.aws.kms.send(new CreateAliasCommand({ AliasName: 'alias/mrk-ring', TargetKeyId: primary.KeyId }));
    await west().kms.send(new CreateAliasCommand({ AliasName: 'alias/mrk-ring', TargetKeyId: replica.Arn }));
    expect((await ctx.aws.kms.send(new DescribeKeyCommand({ KeyId: 'alias/mrk-ring' }))).KeyMetadata!.Arn).toBe(primary.Arn);
    expect((await west().kms.send(new DescribeKeyCommand({ KeyId: `arn:aws:kms:${WEST}:${MANAGEMENT}:alias/mrk-ring` }))).KeyMetadata!.Arn).toBe(replica.Arn);
    const eu = clientsFor(ctx.emu, { region: EU });
    expect((await eu.kms.send(new ListAliasesCommand({}))).Aliases!.map((a) => a.AliasName)).not.toContain('alias/mrk-ring');
    expect((await rejectionOf(eu.kms.send(new DescribeKeyCommand({ KeyId: 'alias/mrk-ring' })))).name).toBe('NotFoundException');
  });
});

describe('KMS replica in the Creating state', () => {
  let slow: Emulator;
  beforeAll(async () => {
    slow = await startEmulator({ quotas: false, replicaDelayMs: 60_000 });
  });
  afterAll(async () => slow.stop());

  it('GIVEN a replica still Creating THEN it can be managed (PutKeyPolicy) but not used (Encrypt → KMSInvalidStateException) nor enabled or disabled', async () => {
    const aws = clientsFor(slow);
    const primary = (await aws.kms.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!;
    await aws.kms.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: WEST }));
    const there = clientsFor(slow, { region: WEST });
    await there.kms.send(new PutKeyPolicyCommand({ KeyId: primary.KeyId, Policy: policyWithSid('while-creating') }));
    expect((await rejectionOf(there.kms.send(new EncryptCommand({ KeyId: primary.KeyId, Plaintext: Buffer.from('x') })))).name).toBe('KMSInvalidStateException');
    expect((await rejectionOf(there.kms.send(new DisableKeyCommand({ KeyId: primary.KeyId })))).name).toBe('KMSInvalidStateException');
    expect(slow.describeKeyState(`arn:aws:kms:${WEST}:${MANAGEMENT}:key/${primary.KeyId}`)).toMatchObject({ keyState: 'Creating', multiRegion: { type: 'REPLICA', primaryArn: primary.Arn } });
  });
});

describe('KMS UpdatePrimaryRegion', () => {
  it('GIVEN a primary and a replica WHEN UpdatePrimaryRegion THEN the replica becomes PRIMARY and the old primary a REPLICA, both Updating then Enabled, and only the new primary can replicate', async () => {
    const primary = await primaryKey();
    const replica = await replicate(primary);
    await ctx.aws.kms.send(new UpdatePrimaryRegionCommand({ KeyId: primary.Arn, PrimaryRegion: WEST }));
    const during = (await ctx.aws.kms.send(new DescribeKeyCommand({ KeyId: primary.KeyId }))).KeyMetadata!;
    expect(['Updating', 'Enabled']).toContain(during.KeyState);
    // Updating keys still serve cryptography.
    await ctx.aws.kms.send(new EncryptCommand({ KeyId: primary.KeyId, Plaintext: Buffer.from('x') }));

    const newPrimary = await eventually(
      async () => (await west().kms.send(new DescribeKeyCommand({ KeyId: primary.KeyId }))).KeyMetadata!,
      (m) => m.KeyState === 'Enabled',
      'the new primary to leave Updating',
    );
    expect(newPrimary.MultiRegionConfiguration).toEqual({ MultiRegionKeyType: 'PRIMARY', PrimaryKey: { Arn: replica.Arn, Region: WEST }, ReplicaKeys: [{ Arn: primary.Arn, Region: REGION }] });
    const oldPrimary = await eventually(
      async () => (await ctx.aws.kms.send(new DescribeKeyCommand({ KeyId: primary.KeyId }))).KeyMetadata!,
      (m) => m.KeyState === 'Enabled',
      'the old primary to leave Updating',
    );
    expect(oldPrimary.MultiRegionConfiguration!.MultiRegionKeyType).toBe('REPLICA');
    expect((await rejectionOf(ctx.aws.kms.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: EU })))).name).toBe('UnsupportedOperationException');
    await west().kms.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: EU }));
  });

  it('GIVEN a disabled replica, or no replica in that Region THEN DisabledException / NotFoundException and nothing changes', async () => {
    const primary = await primaryKey();
    await replicate(primary);
    expect((await rejectionOf(ctx.aws.kms.send(new UpdatePrimaryRegionCommand({ KeyId: primary.KeyId, PrimaryRegion: EU })))).name).toBe('NotFoundException');
    await west().kms.send(new DisableKeyCommand({ KeyId: primary.KeyId }));
    expect((await rejectionOf(ctx.aws.kms.send(new UpdatePrimaryRegionCommand({ KeyId: primary.KeyId, PrimaryRegion: WEST })))).name).toBe('DisabledException');
    expect((await ctx.aws.kms.send(new DescribeKeyCommand({ KeyId: primary.KeyId }))).KeyMetadata!.MultiRegionConfiguration!.MultiRegionKeyType).toBe('PRIMARY');
  });
});

describe('KMS deletion of multi-Region keys (PendingReplicaDeletion)', () => {
  let emu: Emulator;
  let east: Clients;
  let westClients: Clients;
  beforeEach(async () => {
    emu = await startEmulator({ quotas: false, replicaDelayMs: 0, now: () => new Date('2030-01-01T00:00:00Z') });
    east = clientsFor(emu);
    westClients = clientsFor(emu, { region: WEST });
  });
  afterEach(async () => emu.stop());

  it('GIVEN a primary with a replica WHEN its deletion is scheduled THEN PendingReplicaDeletion with no DeletionDate until the replica is deleted, then PendingDeletion for its own window, then gone', async () => {
    const primary = await primaryKey(east);
    await replicate(primary, WEST, emu, east);
    const scheduled = await east.kms.send(new ScheduleKeyDeletionCommand({ KeyId: primary.KeyId, PendingWindowInDays: 10 }));
    expect(scheduled).toMatchObject({ KeyId: primary.Arn, KeyState: 'PendingReplicaDeletion', PendingWindowInDays: 10 });
    expect(scheduled.DeletionDate).toBeUndefined();
    const waiting = (await east.kms.send(new DescribeKeyCommand({ KeyId: primary.KeyId }))).KeyMetadata!;
    expect(waiting).toMatchObject({ KeyState: 'PendingReplicaDeletion', PendingDeletionWindowInDays: 10, Enabled: false });
    expect(waiting.DeletionDate).toBeUndefined();
    expect((await rejectionOf(east.kms.send(new EncryptCommand({ KeyId: primary.KeyId, Plaintext: Buffer.from('x') })))).name).toBe('KMSInvalidStateException');
    // The replica still works on its own.
    await westClients.kms.send(new EncryptCommand({ KeyId: primary.KeyId, Plaintext: Buffer.from('x') }));

    // Time passes without the replica being deleted: the primary keeps waiting.
    emu.advanceClock(60 * DAY_MS);
    expect((await east.kms.send(new DescribeKeyCommand({ KeyId: primary.KeyId }))).KeyMetadata!.KeyState).toBe('PendingReplicaDeletion');

    const replicaDeletion = await westClients.kms.send(new ScheduleKeyDeletionCommand({ KeyId: primary.KeyId, PendingWindowInDays: 7 }));
    expect(replicaDeletion.KeyState).toBe('PendingDeletion');
    emu.advanceClock(7 * DAY_MS + 1000);
    expect((await rejectionOf(westClients.kms.send(new DescribeKeyCommand({ KeyId: primary.KeyId })))).name).toBe('NotFoundException');
    const now = (await east.kms.send(new DescribeKeyCommand({ KeyId: primary.KeyId }))).KeyMetadata!;
    expect(now.KeyState).toBe('PendingDeletion');
    expect(now.DeletionDate).toEqual(new Date(replicaDeletion.DeletionDate!.getTime() + 10 * DAY_MS));
    expect(now.MultiRegionConfiguration!.ReplicaKeys).toEqual([]);

    emu.advanceClock(10 * DAY_MS);
    expect((await rejectionOf(east.kms.send(new DescribeKeyCommand({ KeyId: primary.KeyId })))).name).toBe('NotFoundException');
    expect(emu.listKeyArns(MANAGEMENT)).not.toContain(primary.Arn);
  });

  it('GIVEN a primary scheduled while its replica is also scheduled THEN a clock jump past both windows deletes both, in order', async () => {
    const primary = await primaryKey(east);
    await replicate(primary, WEST, emu, east);
    await westClients.kms.send(new ScheduleKeyDeletionCommand({ KeyId: primary.KeyId, PendingWindowInDays: 7 }));
    await east.kms.send(new ScheduleKeyDeletionCommand({ KeyId: primary.KeyId, PendingWindowInDays: 7 }));
    emu.advanceClock(15 * DAY_MS);
    expect(emu.describeKeyState(primary.Arn!)).toBeUndefined();
  });

  it('GIVEN a replica WHEN deleted on its own THEN the primary stays Enabled and no longer lists it; a primary in PendingReplicaDeletion can be cancelled (→ Disabled)', async () => {
    const primary = await primaryKey(east);
    await replicate(primary, WEST, emu, east);
    await westClients.kms.send(new ScheduleKeyDeletionCommand({ KeyId: primary.KeyId, PendingWindowInDays: 7 }));
    emu.advanceClock(8 * DAY_MS);
    const alone = (await east.kms.send(new DescribeKeyCommand({ KeyId: primary.KeyId }))).KeyMetadata!;
    expect(alone).toMatchObject({ KeyState: 'Enabled', MultiRegionConfiguration: { MultiRegionKeyType: 'PRIMARY', ReplicaKeys: [] } });

    await replicate(primary, EU, emu, east);
    await east.kms.send(new ScheduleKeyDeletionCommand({ KeyId: primary.KeyId }));
    await east.kms.send(new CancelKeyDeletionCommand({ KeyId: primary.KeyId }));
    const back = (await east.kms.send(new DescribeKeyCommand({ KeyId: primary.KeyId }))).KeyMetadata!;
    expect(back.KeyState).toBe('Disabled');
    expect(back.PendingDeletionWindowInDays).toBeUndefined();
  });
});

describe('KMS ReplicateKey quota', () => {
  it('GIVEN CreateKey limited to 1/s WHEN a CreateKey in the replica Region used the token THEN ReplicateKey into that Region is throttled, while the primary Region\'s CreateKey bucket is untouched', async () => {
    const emu = await startEmulator({ quotas: { 'kms:CreateKey': 1 }, replicaDelayMs: 0 });
    try {
      const east = clientsFor(emu);
      const primary = (await east.kms.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!;
      await clientsFor(emu, { region: WEST }).kms.send(new CreateKeyCommand({}));
      expect((await rejectionOf(east.kms.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: WEST })))).name).toBe('ThrottlingException');
      await east.kms.send(new ReplicateKeyCommand({ KeyId: primary.KeyId, ReplicaRegion: EU }));
      expect((await rejectionOf(clientsFor(emu, { region: EU }).kms.send(new CreateKeyCommand({})))).name).toBe('ThrottlingException');
      const replicate = emu.callLog().filter((c) => c.operation === 'ReplicateKey');
      expect(replicate.map((c) => [c.region, c.outcome])).toEqual([[REGION, 'ThrottlingException'], [REGION, 'ok']]);
    } finally {
      await emu.stop();
    }
  });
});
