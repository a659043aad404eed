import { CreateKeyCommand, DescribeKeyCommand, DisableKeyCommand, EnableKeyCommand, PutKeyPolicyCommand, ReplicateKeyCommand, type KeyMetadata } from '@aws-sdk/client-kms';
import {
  AddRegionCommand, DescribeInstanceCommand, DescribeRegionCommand, ListRegionsCommand, RemoveRegionCommand, UpdateInstanceCommand,
  type DescribeInstanceCommandOutput,
} from '@aws-sdk/client-sso-admin';
import { ListUsersCommand } from '@aws-sdk/client-identitystore';
import { startEmulator, type Emulator } from '../../emulator';
import { IDENTITY_STORE_ID, INSTANCE_ARN, MANAGEMENT, REGION, clientsFor, eventually, identityCenterPolicy, rejectionOf, type Clients } from './harness';

const WEST = 'us-west-2';
const EU = 'eu-west-1';

let emu: Emulator;
let east: Clients;
let west: Clients;
beforeEach(async () => {
  emu = await startEmulator({ quotas: false, updateDelayMs: 10, regionDelayMs: 10, replicaDelayMs: 0 });
  east = clientsFor(emu);
  west = clientsFor(emu, { region: WEST });
});
afterEach(async () => emu.stop());

const describeInstance = (from: Clients = east) => from.sso.send(new DescribeInstanceCommand({ InstanceArn: INSTANCE_ARN }));
const addRegion = (region: string, from: Clients = east) => from.sso.send(new AddRegionCommand({ InstanceArn: INSTANCE_ARN, RegionName: region }));
const regionStatus = async (region: string) =>
  (await east.sso.send(new ListRegionsCommand({ InstanceArn: INSTANCE_ARN }))).Regions!.find((r) => r.RegionName === region)?.Status;

/** A multi-Region key with the Identity Center statements, replicated to `regions` with `replicaPolicy` there. */
async function multiRegionKey(regions: readonly string[], replicaPolicy = identityCenterPolicy()): Promise<KeyMetadata> {
  const key = (await east.kms.send(new CreateKeyCommand({ MultiRegion: true, Policy: identityCenterPolicy() }))).KeyMetadata!;
  for (const region of regions) await east.kms.send(new ReplicateKeyCommand({ KeyId: key.KeyId, ReplicaRegion: region, Policy: replicaPolicy }));
  return key;
}

async function switchTo(kmsKeyArn: string): Promise<DescribeInstanceCommandOutput> {
  await east.sso.send(new UpdateInstanceCommand({ InstanceArn: INSTANCE_ARN, EncryptionConfiguration: { KeyType: 'CUSTOMER_MANAGED_KEY', KmsKeyArn: kmsKeyArn } }));
  return eventually(() => describeInstance(), (d) => d.EncryptionConfigurationDetails?.EncryptionStatus !== 'UPDATING', 'the switch to settle');
}

/** The instance on a multi-Region key, replicated to `region` (ACTIVE). */
async function replicatedTo(region: string): Promise<KeyMetadata> {
  const key = await multiRegionKey([region]);
  expect((await switchTo(key.Arn!)).EncryptionConfigurationDetails!.EncryptionStatus).toBe('ENABLED');
  expect((await addRegion(region)).Status).toBe('ADDING');
  await eventually(() => regionStatus(region), (s) => s === 'ACTIVE', `${region} to be ACTIVE`);
  return key;
}

describe('SSO Admin AddRegion prerequisites', () => {
  it('GIVEN an AWS owned key, or a single-Region customer managed key THEN AddRegion is ValidationException', async () => {
    const owned = await rejectionOf(addRegion(WEST));
    expect(owned.name).toBe('ValidationException');
    expect(owned.message).toMatch(/multi-Region customer managed KMS key/);
    const single = (await east.kms.send(new CreateKeyCommand({ Policy: identityCenterPolicy() }))).KeyMetadata!;
    await switchTo(single.Arn!);
    expect((await rejectionOf(addRegion(WEST))).message).toMatch(/single-Region/);
  });

  it('GIVEN a multi-Region key WHEN the Region has no replica, or the replica\'s own policy lacks the Identity Center statements, or it is disabled THEN ValidationException naming why; once the replica is fixed THEN ADDING, then ACTIVE', async () => {
    const key = await multiRegionKey([]);
    await switchTo(key.Arn!);
    expect((await rejectionOf(addRegion(WEST))).message).toMatch(/no replica in us-west-2/);

    await east.kms.send(new ReplicateKeyCommand({ KeyId: key.KeyId, ReplicaRegion: WEST }));
    const noStatements = await rejectionOf(addRegion(WEST));
    expect(noStatements.name).toBe('ValidationException');
    expect(noStatements.message).toMatch(/does not let IAM Identity Center use the key: no Allow of kms:Decrypt for sso.amazonaws.com/);

    await west.kms.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: identityCenterPolicy() }));
    await west.kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    expect((await rejectionOf(addRegion(WEST))).message).toMatch(/is disabled/);
    expect((await describeInstance()).Regions!.map((r) => r.RegionName)).toEqual([REGION]);

    await west.kms.send(new EnableKeyCommand({ KeyId: key.KeyId }));
    expect((await addRegion(WEST)).Status).toBe('ADDING');
    await eventually(() => regionStatus(WEST), (s) => s === 'ACTIVE', 'us-west-2 to be ACTIVE');
  });

  it('GIVEN the replica still Creating THEN AddRegion is refused until it is Enabled', async () => {
    const slow = await startEmulator({ quotas: false, updateDelayMs: 10, replicaDelayMs: 60_000 });
    try {
      const aws = clientsFor(slow);
      const key = (await aws.kms.send(new CreateKeyCommand({ MultiRegion: true, Policy: identityCenterPolicy() }))).KeyMetadata!;
      await aws.sso.send(new UpdateInstanceCommand({ InstanceArn: INSTANCE_ARN, EncryptionConfiguration: { KeyType: 'CUSTOMER_MANAGED_KEY', KmsKeyArn: key.Arn } }));
      await eventually(() => aws.sso.send(new DescribeInstanceCommand({ InstanceArn: INSTANCE_ARN })), (d) => d.EncryptionConfigurationDetails?.EncryptionStatus === 'ENABLED', 'the switch');
      await aws.kms.send(new ReplicateKeyCommand({ KeyId: key.KeyId, ReplicaRegion: WEST, Policy: identityCenterPolicy() }));
      expect((await rejectionOf(aws.sso.send(new AddRegionCommand({ InstanceArn: INSTANCE_ARN, RegionName: WEST })))).message).toMatch(/KeyState Creating/);
    } finally {
      await slow.stop();
    }
  });
});

describe('SSO Admin Region workflows', () => {
  it('GIVEN a ready replica WHEN AddRegion THEN ListRegions / DescribeRegion / DescribeInstance show it ADDING then ACTIVE, and the instance and its identity store answer in that Region', async () => {
    const key = await multiRegionKey([WEST]);
    await switchTo(key.Arn!);
    expect((await rejectionOf(describeInstance(west))).name).toBe('ResourceNotFoundException');
    expect((await addRegion(WEST)).Status).toBe('ADDING');
    const listed = (await east.sso.send(new ListRegionsCommand({ InstanceArn: INSTANCE_ARN }))).Regions!;
    expect(listed.map((r) => [r.RegionName, r.IsPrimaryRegion])).toEqual([[REGION, true], [WEST, false]]);
    expect(listed[0]!.Status).toBe('ACTIVE');
    expect(['ADDING', 'ACTIVE']).toContain(listed[1]!.Status);

    await eventually(() => regionStatus(WEST), (s) => s === 'ACTIVE', 'us-west-2 to be ACTIVE');
    const described = await west.sso.send(new DescribeRegionCommand({ InstanceArn: INSTANCE_ARN, RegionName: WEST }));
    expect(described).toMatchObject({ RegionName: WEST, Status: 'ACTIVE', IsPrimaryRegion: false });
    expect(described.AddedDate).toBeInstanceOf(Date);
    const fromWest = await describeInstance(west);
    expect(fromWest).toMatchObject({ PrimaryRegion: REGION, EncryptionConfigurationDetails: { KmsKeyArn: key.Arn } });
    expect(fromWest.Regions!.map((r) => r.RegionName)).toEqual([REGION, WEST]);
    expect((await west.identityStore.send(new ListUsersCommand({ IdentityStoreId: IDENTITY_STORE_ID }))).Users).toHaveLength(3);
    expect(emu.instanceRegions(INSTANCE_ARN)).toEqual([
      { region: REGION, status: 'ACTIVE', primary: true },
      { region: WEST, status: 'ACTIVE', primary: false },
    ]);
  });

  it('GIVEN one Region workflow in progress THEN another AddRegion, a RemoveRegion or an encryption switch is ConflictException', async () => {
    const slow = await startEmulator({ quotas: false, updateDelayMs: 0, regionDelayMs: 60_000, replicaDelayMs: 0 });
    try {
      const aws = clientsFor(slow);
      const key = (await aws.kms.send(new CreateKeyCommand({ MultiRegion: true, Policy: identityCenterPolicy() }))).KeyMetadata!;
      for (const region of [WEST, EU]) await aws.kms.send(new ReplicateKeyCommand({ KeyId: key.KeyId, ReplicaRegion: region, Policy: identityCenterPolicy() }));
      const update = () => aws.sso.send(new UpdateInstanceCommand({ InstanceArn: INSTANCE_ARN, EncryptionConfiguration: { KeyType: 'CUSTOMER_MANAGED_KEY', KmsKeyArn: key.Arn } }));
      await update();
      await eventually(() => aws.sso.send(new DescribeInstanceCommand({ InstanceArn: INSTANCE_ARN })), (d) => d.EncryptionConfigurationDetails?.EncryptionStatus === 'ENABLED', 'the switch');
      await aws.sso.send(new AddRegionCommand({ InstanceArn: INSTANCE_ARN, RegionName: WEST }));
      const busy = await rejectionOf(aws.sso.send(new AddRegionCommand({ InstanceArn: INSTANCE_ARN, RegionName: EU })));
      expect(busy.name).toBe('ConflictException');
      expect(busy.message).toMatch(/us-west-2 .* is ADDING/);
      expect((await rejectionOf(aws.sso.send(new RemoveRegionCommand({ InstanceArn: INSTANCE_ARN, RegionName: WEST })))).name).toBe('ConflictException');
      expect((await rejectionOf(update())).name).toBe('ConflictException');
      expect(slow.instanceRegions(INSTANCE_ARN)!.map((r) => r.status)).toEqual(['ACTIVE', 'ADDING']);
    } finally {
      await slow.stop();
    }
  });

  it('GIVEN an ACTIVE additional Region THEN changes outside the primary Region are ValidationException, the primary Region cannot be removed, an unknown Region is ResourceNotFoundException and a second add is ConflictException', async () => {
    await replicatedTo(WEST);
    expect((await rejectionOf(addRegion(EU, west))).name).toBe('ValidationException');
    expect((await rejectionOf(west.sso.send(new RemoveRegionCommand({ InstanceArn: INSTANCE_ARN, RegionName: WEST })))).name).toBe('ValidationException');
    expect((await rejectionOf(west.sso.send(new UpdateInstanceCommand({ InstanceArn: INSTANCE_ARN, EncryptionConfiguration: { KeyType: 'AWS_OWNED_KMS_KEY' } })))).message).toMatch(/primary Region us-east-1/);
    expect((await rejectionOf(east.sso.send(new RemoveRegionCommand({ InstanceArn: INSTANCE_ARN, RegionName: REGION })))).message).toMatch(/primary Region cannot be removed/);
    expect((await rejectionOf(east.sso.send(new RemoveRegionCommand({ InstanceArn: INSTANCE_ARN, RegionName: EU })))).name).toBe('ResourceNotFoundException');
    expect((await rejectionOf(addRegion(WEST))).name).toBe('ConflictException');
    expect((await rejectionOf(addRegion(REGION))).name).toBe('ValidationException');
    expect((await rejectionOf(addRegion('not-a-region'))).name).toBe('ValidationException');
  });

  it('GIVEN an ACTIVE additional Region WHEN RemoveRegion THEN REMOVING, then gone: the instance no longer answers there', async () => {
    await replicatedTo(WEST);
    expect((await east.sso.send(new RemoveRegionCommand({ InstanceArn: INSTANCE_ARN, RegionName: WEST }))).Status).toBe('REMOVING');
    await eventually(() => regionStatus(WEST), (s) => s === undefined, 'us-west-2 to be removed');
    expect((await rejectionOf(west.identityStore.send(new ListUsersCommand({ IdentityStoreId: IDENTITY_STORE_ID })))).name).toBe('ResourceNotFoundException');
    expect((await rejectionOf(west.sso.send(new DescribeRegionCommand({ InstanceArn: INSTANCE_ARN, RegionName: WEST })))).name).toBe('ResourceNotFoundException');
  });

  it('GIVEN a replicated instance WHEN the replica in the additional Region is disabled THEN Identity Store reads fail there with KMS_ACCESS_DENIED and keep working in the primary Region', async () => {
    await replicatedTo(WEST).then((key) => west.kms.send(new DisableKeyCommand({ KeyId: key.KeyId })));
    const err = await rejectionOf(west.identityStore.send(new ListUsersCommand({ IdentityStoreId: IDENTITY_STORE_ID })));
    expect(err.name).toBe('AccessDeniedException');
    expect(err.Reason).toBe('KMS_ACCESS_DENIED');
    expect((await east.identityStore.send(new ListUsersCommand({ IdentityStoreId: IDENTITY_STORE_ID }))).Users).toHaveLength(3);
  });
});

describe('UpdateInstance on an instance with additional Regions', () => {
  it('GIVEN an AWS owned key or a single-Region key THEN UpdateInstance is ValidationException and the instance keeps its key', async () => {
    const current = await replicatedTo(WEST);
    const single = (await east.kms.send(new CreateKeyCommand({ Policy: identityCenterPolicy() }))).KeyMetadata!;
    const err = await rejectionOf(east.sso.send(new UpdateInstanceCommand({ InstanceArn: INSTANCE_ARN, EncryptionConfiguration: { KeyType: 'CUSTOMER_MANAGED_KEY', KmsKeyArn: single.Arn } })));
    expect(err.name).toBe('ValidationException');
    expect(err.message).toMatch(/single-Region/);
    expect((await rejectionOf(east.sso.send(new UpdateInstanceCommand({ InstanceArn: INSTANCE_ARN, EncryptionConfiguration: { KeyType: 'AWS_OWNED_KMS_KEY' } })))).name).toBe('ValidationException');
    expect((await describeInstance()).EncryptionConfigurationDetails).toMatchObject({ KmsKeyArn: current.Arn, EncryptionStatus: 'ENABLED' });
  });

  it('GIVEN a new multi-Region key without a replica in the additional Region, or whose replica lacks the Identity Center statements THEN the switch is UPDATE_FAILED naming the Region, and the old key stays', async () => {
    const current = await replicatedTo(WEST);
    const noReplica = await multiRegionKey([]);
    const failed = (await switchTo(noReplica.Arn!)).EncryptionConfigurationDetails!;
    expect(failed).toMatchObject({ EncryptionStatus: 'UPDATE_FAILED', KmsKeyArn: current.Arn });
    expect(failed.EncryptionStatusReason).toMatch(/In additional Region us-west-2: .*no replica in us-west-2/);

    const badPolicy = await multiRegionKey([WEST], JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${MANAGEMENT}:root` }, Action: 'kms:*', Resource: '*' }] }));
    const again = (await switchTo(badPolicy.Arn!)).EncryptionConfigurationDetails!;
    expect(again.EncryptionStatus).toBe('UPDATE_FAILED');
    expect(again.EncryptionStatusReason).toMatch(/In additional Region us-west-2: The key policy of arn:aws:kms:us-west-2:.* does not let IAM Identity Center use the key/);
  });

  it('GIVEN a new multi-Region key with a ready replica carrying the Identity Center statements in every additional Region THEN the switch is ENABLED on the primary key ARN', async () => {
    await replicatedTo(WEST);
    const next = await multiRegionKey([WEST]);
    await eventually(async () => (await west.kms.send(new DescribeKeyCommand({ KeyId: next.KeyId }))).KeyMetadata!.KeyState, (s) => s === 'Enabled', 'the replica');
    expect((await switchTo(next.Arn!)).EncryptionConfigurationDetails).toMatchObject({ EncryptionStatus: 'ENABLED', KmsKeyArn: next.Arn });
    expect((await west.identityStore.send(new ListUsersCommand({ IdentityStoreId: IDENTITY_STORE_ID }))).Users).toHaveLength(3);
  });
});
