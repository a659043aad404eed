import { CreateKeyCommand, DisableKeyCommand, EnableKeyCommand, PutKeyPolicyCommand, ScheduleKeyDeletionCommand, CreateAliasCommand } from '@aws-sdk/client-kms';
import { DescribeInstanceCommand, ListInstancesCommand, UpdateInstanceCommand, type DescribeInstanceCommandOutput } from '@aws-sdk/client-sso-admin';
import { ListGroupsCommand, ListUsersCommand } from '@aws-sdk/client-identitystore';
import { startEmulator } from '../../emulator';
import { IDENTITY_STORE_ID, INSTANCE_ARN, MANAGEMENT, MEMBER, REGION, clientsFor, identityCenterPolicy, rejectionOf, useEmulator } from './harness';

const ctx = useEmulator({ updateDelayMs: 20 });

async function goodKey(policy = identityCenterPolicy()) {
  return (await ctx.aws.kms.send(new CreateKeyCommand({ Policy: policy }))).KeyMetadata!;
}

const describe_ = () => ctx.aws.sso.send(new DescribeInstanceCommand({ InstanceArn: INSTANCE_ARN }));

/** Polls DescribeInstance until the switch settles (bounded), as the pipeline does. */
async function settled(): Promise<DescribeInstanceCommandOutput> {
  for (let attempt = 0; attempt < 300; attempt += 1) {
    const out = await describe_();
    if (out.EncryptionConfigurationDetails?.EncryptionStatus !== 'UPDATING') return out;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error('instance still UPDATING after 300 polls');
}

async function switchTo(kmsKeyArn: string | undefined) {
  await ctx.aws.sso.send(new UpdateInstanceCommand({
    InstanceArn: INSTANCE_ARN,
    EncryptionConfiguration: kmsKeyArn ? { KeyType: 'CUSTOMER_MANAGED_KEY', KmsKeyArn: kmsKeyArn } : { KeyType: 'AWS_OWNED_KMS_KEY' },
  }));
  return settled();
}

afterEach(async () => {
  // Each test starts from the AWS-owned key, as the default organization does.
  const current = (await settled()).EncryptionConfigurationDetails!;
  if (current.KeyType !== 'AWS_OWNED_KMS_KEY') await switchTo(undefined);
});

describe('SSO Admin ListInstances / DescribeInstance', () => {
  it('GIVEN the default organization THEN one ACTIVE instance on an AWS-owned key, ENABLED', async () => {
    const list = await ctx.aws.sso.send(new ListInstancesCommand({}));
    expect(list.Instances).toEqual([expect.objectContaining({ InstanceArn: INSTANCE_ARN, IdentityStoreId: IDENTITY_STORE_ID, OwnerAccountId: MANAGEMENT, Status: 'ACTIVE' })]);
    const described = await describe_();
    expect(described.Status).toBe('ACTIVE');
    expect(described.EncryptionConfigurationDetails).toEqual({ KeyType: 'AWS_OWNED_KMS_KEY', EncryptionStatus: 'ENABLED' });
  });

  it('GIVEN another Region or an unknown instance THEN ListInstances is empty and DescribeInstance is ResourceNotFoundException', async () => {
    const west = clientsFor(ctx.emu, { region: 'us-west-2' });
    expect((await west.sso.send(new ListInstancesCommand({}))).Instances).toEqual([]);
    expect((await rejectionOf(west.sso.send(new DescribeInstanceCommand({ InstanceArn: INSTANCE_ARN })))).name).toBe('ResourceNotFoundException');
    expect((await rejectionOf(ctx.aws.sso.send(new DescribeInstanceCommand({ InstanceArn: 'arn:aws:sso:::instance/ssoins-0000000000000000' })))).name).toBe('ResourceNotFoundException');
  });
});

describe('SSO Admin UpdateInstance (asynchronous encryption switch)', () => {
  it('GIVEN a good CMK WHEN UpdateInstance THEN UPDATING on the old key, then ENABLED on the new key ARN; and back to AWS-owned', async () => {
    const key = await goodKey();
    await ctx.aws.sso.send(new UpdateInstanceCommand({ InstanceArn: INSTANCE_ARN, EncryptionConfiguration: { KeyType: 'CUSTOMER_MANAGED_KEY', KmsKeyArn: key.Arn } }));
    const during = (await describe_()).EncryptionConfigurationDetails!;
    // Either still UPDATING on the previous key or already settled: never a half state.
    if (during.EncryptionStatus === 'UPDATING') expect(during.KeyType).toBe('AWS_OWNED_KMS_KEY');
    expect((await settled()).EncryptionConfigurationDetails).toEqual({ KeyType: 'CUSTOMER_MANAGED_KEY', KmsKeyArn: key.Arn, EncryptionStatus: 'ENABLED' });
    expect((await switchTo(undefined)).EncryptionConfigurationDetails).toEqual({ KeyType: 'AWS_OWNED_KMS_KEY', EncryptionStatus: 'ENABLED' });
  });

  it('GIVEN an update in flight WHEN a second UpdateInstance arrives THEN ConflictException', async () => {
    // A switch that would take a minute, so the second call surely lands while it is UPDATING.
    const slow = await startEmulator({ updateDelayMs: 60_000, quotas: false });
    try {
      const aws = clientsFor(slow);
      const slowKey = (await aws.kms.send(new CreateKeyCommand({ Policy: identityCenterPolicy() }))).KeyMetadata!;
      const update = new UpdateInstanceCommand({ InstanceArn: INSTANCE_ARN, EncryptionConfiguration: { KeyType: 'CUSTOMER_MANAGED_KEY', KmsKeyArn: slowKey.Arn } });
      await aws.sso.send(update);
      expect((await aws.sso.send(new DescribeInstanceCommand({ InstanceArn: INSTANCE_ARN }))).EncryptionConfigurationDetails!.EncryptionStatus).toBe('UPDATING');
      expect((await rejectionOf(aws.sso.send(update))).name).toBe('ConflictException');
    } finally {
      await slow.stop();
    }
  });

  it('GIVEN malformed encryption configurations THEN ValidationException: missing ARN, ARN with AWS-owned, alias ARN, bad KeyType', async () => {
    const key = await goodKey();
    await ctx.aws.kms.send(new CreateAliasCommand({ AliasName: 'alias/ic', TargetKeyId: key.KeyId }));
    const bad = [
      { KeyType: 'CUSTOMER_MANAGED_KEY' },
      { KeyType: 'AWS_OWNED_KMS_KEY', KmsKeyArn: key.Arn },
      { KeyType: 'CUSTOMER_MANAGED_KEY', KmsKeyArn: `arn:aws:kms:${REGION}:${MANAGEMENT}:alias/ic` },
      { KeyType: 'SOMETHING_ELSE' },
    ];
    for (const EncryptionConfiguration of bad) {
      const err = await rejectionOf(ctx.aws.sso.send(new UpdateInstanceCommand({ InstanceArn: INSTANCE_ARN, EncryptionConfiguration: EncryptionConfiguration as never })));
      expect(err.name).toBe('ValidationException');
    }
    expect((await describe_()).EncryptionConfigurationDetails!.EncryptionStatus).toBe('ENABLED');
  });

  async function expectFailedSwitch(kmsKeyArn: string, reason: RegExp) {
    const before = (await settled()).EncryptionConfigurationDetails!;
    const after = (await switchTo(kmsKeyArn)).EncryptionConfigurationDetails!;
    expect(after.EncryptionStatus).toBe('UPDATE_FAILED');
    expect(after.EncryptionStatusReason).toMatch(reason);
    // The previous key stays in use.
    expect(after.KeyType).toBe(before.KeyType);
    expect(after.KmsKeyArn).toBe(before.KmsKeyArn);
    await ctx.aws.identityStore.send(new ListUsersCommand({ IdentityStoreId: IDENTITY_STORE_ID }));
  }

  it('GIVEN a disabled key THEN UPDATE_FAILED "is disabled", previous key kept', async () => {
    const key = await goodKey();
    await ctx.aws.kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    await expectFailedSwitch(key.Arn!, /is disabled/);
  });

  it('GIVEN a key pending deletion THEN UPDATE_FAILED "pending deletion"', async () => {
    const key = await goodKey();
    await ctx.aws.kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId }));
    await expectFailedSwitch(key.Arn!, /pending deletion/);
  });

  it('GIVEN a key ARN that does not exist THEN UPDATE_FAILED "not found"', async () => {
    await expectFailedSwitch(`arn:aws:kms:${REGION}:${MANAGEMENT}:key/00000000-0000-0000-0000-000000000000`, /not found/);
  });

  it('GIVEN a key in another account THEN UPDATE_FAILED naming the account', async () => {
    ctx.emu.addPrincipal('AKIAMEMBER000000002', `arn:aws:sts::${MEMBER}:assumed-role/KeyAdmin/session`);
    const memberKey = (await clientsFor(ctx.emu, { accessKeyId: 'AKIAMEMBER000000002' }).kms.send(new CreateKeyCommand({ Policy: identityCenterPolicy(MEMBER) }))).KeyMetadata!;
    await expectFailedSwitch(memberKey.Arn!, new RegExp(`account ${MEMBER}`));
  });

  it('GIVEN a key in another Region THEN UPDATE_FAILED naming the Region', async () => {
    const westKey = (await clientsFor(ctx.emu, { region: 'eu-west-1' }).kms.send(new CreateKeyCommand({ Policy: identityCenterPolicy() }))).KeyMetadata!;
    await expectFailedSwitch(westKey.Arn!, /Region eu-west-1/);
  });

  it('GIVEN a non-symmetric key THEN UPDATE_FAILED naming the key spec', async () => {
    const rsa = (await ctx.aws.kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT', Policy: identityCenterPolicy() }))).KeyMetadata!;
    await expectFailedSwitch(rsa.Arn!, /RSA_2048/);
  });

  it('GIVEN a key whose policy lacks the Identity Center statements THEN UPDATE_FAILED naming what is missing', async () => {
    const plain = (await ctx.aws.kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    await expectFailedSwitch(plain.Arn!, /no Allow of kms:Decrypt for sso\.amazonaws\.com/);
    const denied = JSON.parse(identityCenterPolicy());
    denied.Statement.push({ Effect: 'Deny', Principal: { Service: 'identitystore.amazonaws.com' }, Action: 'kms:*', Resource: '*' });
    const deniedKey = await goodKey(JSON.stringify(denied));
    await expectFailedSwitch(deniedKey.Arn!, /unconditional Deny of kms:Decrypt for identitystore\.amazonaws\.com/);
  });

  it('GIVEN a failed switch WHEN retried with a good key THEN it succeeds', async () => {
    const bad = (await ctx.aws.kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    await expectFailedSwitch(bad.Arn!, /key policy/);
    const good = await goodKey();
    expect((await switchTo(good.Arn)).EncryptionConfigurationDetails!.EncryptionStatus).toBe('ENABLED');
  });

  it('GIVEN a caller from a member account THEN UpdateInstance is AccessDeniedException', async () => {
    ctx.emu.addPrincipal('AKIAMEMBER000000003', `arn:aws:iam::${MEMBER}:user/someone`);
    const member = clientsFor(ctx.emu, { accessKeyId: 'AKIAMEMBER000000003' });
    const err = await rejectionOf(member.sso.send(new UpdateInstanceCommand({ InstanceArn: INSTANCE_ARN, EncryptionConfiguration: { KeyType: 'AWS_OWNED_KMS_KEY' } })));
    expect(err.name).toBe('AccessDeniedException');
  });
});

describe('Identity Store reads and the lockout', () => {
  it('GIVEN the default organization THEN ListUsers returns the three users and ListGroups the groups, with paging', async () => {
    const users = await ctx.aws.identityStore.send(new ListUsersCommand({ IdentityStoreId: IDENTITY_STORE_ID }));
    expect(users.Users!.map((u) => u.UserName)).toEqual(['alice', 'bob', 'carol']);
    const first = await ctx.aws.identityStore.send(new ListUsersCommand({ IdentityStoreId: IDENTITY_STORE_ID, MaxResults: 2 }));
    const second = await ctx.aws.identityStore.send(new ListUsersCommand({ IdentityStoreId: IDENTITY_STORE_ID, MaxResults: 2, NextToken: first.NextToken }));
    expect([...first.Users!, ...second.Users!].map((u) => u.UserName)).toEqual(['alice', 'bob', 'carol']);
    expect(second.NextToken).toBeUndefined();
    expect((await ctx.aws.identityStore.send(new ListGroupsCommand({ IdentityStoreId: IDENTITY_STORE_ID }))).Groups!.map((g) => g.DisplayName)).toEqual(['platform-admins']);
  });

  it('GIVEN an unknown identity store THEN ResourceNotFoundException', async () => {
    expect((await rejectionOf(ctx.aws.identityStore.send(new ListUsersCommand({ IdentityStoreId: 'd-0000000000' })))).name).toBe('ResourceNotFoundException');
  });

  it('GIVEN the instance on a CMK WHEN that key is disabled, or its policy loses the service statements THEN reads are AccessDeniedException (KMS_ACCESS_DENIED) until fixed', async () => {
    const key = await goodKey();
    await switchTo(key.Arn);
    await ctx.aws.kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    for (const read of [new ListUsersCommand({ IdentityStoreId: IDENTITY_STORE_ID }), new ListGroupsCommand({ IdentityStoreId: IDENTITY_STORE_ID })]) {
      const err = await rejectionOf(ctx.aws.identityStore.send(read as never));
      expect(err.name).toBe('AccessDeniedException');
      expect(err.Reason).toBe('KMS_ACCESS_DENIED');
      expect(err.message).toContain(key.Arn);
    }
    await ctx.aws.kms.send(new EnableKeyCommand({ KeyId: key.KeyId }));
    await ctx.aws.identityStore.send(new ListUsersCommand({ IdentityStoreId: IDENTITY_STORE_ID }));

    await ctx.aws.kms.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: JSON.stringify({ Version: '2012-10-17', Statement: [] }), BypassPolicyLockoutSafetyCheck: true }));
    expect((await rejectionOf(ctx.aws.identityStore.send(new ListUsersCommand({ IdentityStoreId: IDENTITY_STORE_ID })))).name).toBe('AccessDeniedException');
    await ctx.aws.kms.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: identityCenterPolicy() }));
  });

  it('GIVEN the instance on a CMK that is pending deletion THEN reads are AccessDeniedException', async () => {
    const key = await goodKey();
    await switchTo(key.Arn);
    await ctx.aws.kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId }));
    expect((await rejectionOf(ctx.aws.identityStore.send(new ListUsersCommand({ IdentityStoreId: IDENTITY_STORE_ID })))).message).toMatch(/pending deletion/);
  });
});
