import {
  CancelKeyDeletionCommand, CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, DisableKeyCommand, EnableKeyCommand, EnableKeyRotationCommand,
  EncryptCommand, GetKeyLastUsageCommand, GetKeyPolicyCommand, GetKeyRotationStatusCommand, ListKeysCommand, ListResourceTagsCommand,
  PutKeyPolicyCommand, ScheduleKeyDeletionCommand, TagResourceCommand,
} from '@aws-sdk/client-kms';
import { startEmulator } from '../../emulator';
import { MANAGEMENT, REGION, clientsFor, rejectionOf, useEmulator } from './harness';

const ctx = useEmulator();

async function newKey(extra: Partial<ConstructorParameters<typeof CreateKeyCommand>[0]> = {}) {
  const out = await ctx.aws.kms.send(new CreateKeyCommand({ Description: 'test key', ...extra }));
  return out.KeyMetadata!;
}

describe('KMS CreateKey / DescribeKey', () => {
  it('GIVEN a CreateKey with policy, tags and description WHEN described by id, ARN, alias name and alias ARN THEN all return the same customer managed key', async () => {
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'kms:*', Resource: '*' }] });
    const key = await newKey({ Policy: policy, Tags: [{ TagKey: 'rotation-run', TagValue: 'run-1' }], Description: 'identity center' });
    expect(key.Arn).toBe(`arn:aws:kms:${REGION}:${MANAGEMENT}:key/${key.KeyId}`);
    expect(key).toMatchObject({ KeyState: 'Enabled', Enabled: true, KeyManager: 'CUSTOMER', KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT', Origin: 'AWS_KMS', MultiRegion: false, Description: 'identity center', AWSAccountId: MANAGEMENT });
    expect(key.CreationDate).toBeInstanceOf(Date);

    await ctx.aws.kms.send(new CreateAliasCommand({ AliasName: 'alias/describe-me', TargetKeyId: key.KeyId }));
    for (const id of [key.KeyId!, key.Arn!, 'alias/describe-me', `arn:aws:kms:${REGION}:${MANAGEMENT}:alias/describe-me`]) {
      const described = await ctx.aws.kms.send(new DescribeKeyCommand({ KeyId: id }));
      expect(described.KeyMetadata!.Arn).toBe(key.Arn);
    }
    expect((await ctx.aws.kms.send(new GetKeyPolicyCommand({ KeyId: key.KeyId }))).Policy).toBe(policy);
    expect((await ctx.aws.kms.send(new ListResourceTagsCommand({ KeyId: key.Arn }))).Tags).toEqual([{ TagKey: 'rotation-run', TagValue: 'run-1' }]);
  });

  it('GIVEN no Policy WHEN the key is created THEN it gets the default policy naming the account root', async () => {
    const key = await newKey();
    const policy = JSON.parse((await ctx.aws.kms.send(new GetKeyPolicyCommand({ KeyId: key.KeyId, PolicyName: 'default' }))).Policy!);
    expect(policy.Statement[0].Principal.AWS).toBe(`arn:aws:iam::${MANAGEMENT}:root`);
  });

  it('GIVEN a policy that is not JSON, or over 32 KB WHEN CreateKey THEN MalformedPolicyDocumentException / LimitExceededException', async () => {
    expect((await rejectionOf(newKey({ Policy: '{not json' }))).name).toBe('MalformedPolicyDocumentException');
    expect((await rejectionOf(newKey({ Policy: JSON.stringify({ Statement: [], pad: 'x'.repeat(33 * 1024) }) }))).name).toBe('LimitExceededException');
  });

  it('GIVEN KeySpec/KeyUsage values WHEN CreateKey THEN other specs are kept as metadata and bad combinations are ValidationException', async () => {
    const rsa = await newKey({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' });
    expect(rsa).toMatchObject({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' });
    expect((await rejectionOf(newKey({ KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'SIGN_VERIFY' }))).name).toBe('ValidationException');
    expect((await rejectionOf(newKey({ KeySpec: 'AES_999' as never }))).name).toBe('ValidationException');
  });

  it('GIVEN MultiRegion WHEN CreateKey THEN the key id starts with mrk- and it is a PRIMARY', async () => {
    const key = await newKey({ MultiRegion: true });
    expect(key.KeyId).toMatch(/^mrk-[0-9a-f]{32}$/);
    expect(key.MultiRegionConfiguration?.MultiRegionKeyType).toBe('PRIMARY');
  });

  it('GIVEN unknown ids WHEN DescribeKey THEN NotFoundException, including a key of another Region by ARN', async () => {
    expect((await rejectionOf(ctx.aws.kms.send(new DescribeKeyCommand({ KeyId: '00000000-0000-0000-0000-000000000000' })))).name).toBe('NotFoundException');
    expect((await rejectionOf(ctx.aws.kms.send(new DescribeKeyCommand({ KeyId: 'not-a-key' })))).name).toBe('NotFoundException');
    const key = await newKey();
    const west = clientsFor(ctx.emu, { region: 'us-west-2' });
    expect((await rejectionOf(west.kms.send(new DescribeKeyCommand({ KeyId: key.Arn })))).name).toBe('NotFoundException');
  });

  it('GIVEN keys WHEN ListKeys with a Limit THEN pages with Truncated and NextMarker cover every key', async () => {
    await newKey();
    await newKey();
    const all = ctx.emu.listKeyArns(MANAGEMENT, REGION);
    const seen: string[] = [];
    let marker: string | undefined;
    do {
      const page = await ctx.aws.kms.send(new ListKeysCommand({ Limit: 2, Marker: marker }));
      seen.push(...page.Keys!.map((k) => k.KeyArn!));
      marker = page.Truncated ? page.NextMarker : undefined;
    } while (marker);
    expect(seen).toEqual(all);
  });
});

describe('KMS key states', () => {
  it('GIVEN an Enabled key WHEN disabled THEN crypto fails with DisabledException, and EnableKey restores it', async () => {
    const key = await newKey();
    await ctx.aws.kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    await ctx.aws.kms.send(new DisableKeyCommand({ KeyId: key.KeyId })); // idempotent
    expect(ctx.emu.describeKeyState(key.Arn!)!.keyState).toBe('Disabled');
    const err = await rejectionOf(ctx.aws.kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') })));
    expect(err.name).toBe('DisabledException');
    expect(err.message).toBe(`${key.Arn} is disabled.`);
    await ctx.aws.kms.send(new EnableKeyCommand({ KeyId: key.Arn }));
    await ctx.aws.kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }));
  });

  it('GIVEN ScheduleKeyDeletion with 7–30 days THEN PendingDeletion with a DeletionDate; out of range is ValidationException', async () => {
    const key = await newKey();
    expect((await rejectionOf(ctx.aws.kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 6 })))).name).toBe('ValidationException');
    expect((await rejectionOf(ctx.aws.kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 31 })))).name).toBe('ValidationException');
    const before = Date.now();
    const out = await ctx.aws.kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
    expect(out).toMatchObject({ KeyId: key.Arn, KeyState: 'PendingDeletion', PendingWindowInDays: 7 });
    expect(out.DeletionDate!.getTime()).toBeGreaterThanOrEqual(before + 7 * 86_400_000 - 1000);
    const described = (await ctx.aws.kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!;
    expect(described).toMatchObject({ KeyState: 'PendingDeletion', Enabled: false });
    expect(described.DeletionDate).toEqual(out.DeletionDate);
    // KeyMetadata reference: PendingDeletionWindowInDays is present only while PendingReplicaDeletion.
    expect(described.PendingDeletionWindowInDays).toBeUndefined();
  });

  it('GIVEN a key pending deletion THEN every state change and use is KMSInvalidStateException worded like AWS', async () => {
    const key = await newKey();
    await ctx.aws.kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 30 }));
    const commands = [
      new EnableKeyCommand({ KeyId: key.KeyId }),
      new DisableKeyCommand({ KeyId: key.KeyId }),
      new ScheduleKeyDeletionCommand({ KeyId: key.KeyId }),
      new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }),
      new EnableKeyRotationCommand({ KeyId: key.KeyId }),
      new TagResourceCommand({ KeyId: key.KeyId, Tags: [{ TagKey: 'a', TagValue: 'b' }] }),
    ];
    for (const command of commands) {
      const err = await rejectionOf(ctx.aws.kms.send(command as never));
      expect(err.name).toBe('KMSInvalidStateException');
      expect(err.message).toBe(`${key.Arn} is pending deletion.`);
    }
  });

  it('GIVEN a key pending deletion WHEN CancelKeyDeletion THEN it is Disabled with no DeletionDate; cancelling again is KMSInvalidStateException', async () => {
    const key = await newKey();
    await ctx.aws.kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId }));
    expect((await ctx.aws.kms.send(new CancelKeyDeletionCommand({ KeyId: key.KeyId }))).KeyId).toBe(key.Arn);
    const described = (await ctx.aws.kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!;
    expect(described.KeyState).toBe('Disabled');
    expect(described.DeletionDate).toBeUndefined();
    expect((await rejectionOf(ctx.aws.kms.send(new CancelKeyDeletionCommand({ KeyId: key.KeyId })))).name).toBe('KMSInvalidStateException');
  });

  it('GIVEN an alias name WHEN a key-id-only operation is called with it THEN NotFoundException', async () => {
    const err = await rejectionOf(ctx.aws.kms.send(new ScheduleKeyDeletionCommand({ KeyId: 'alias/anything' })));
    expect(err.name).toBe('NotFoundException');
  });

  it('GIVEN an emulator clock past the DeletionDate THEN the key is gone (NotFoundException)', async () => {
    let now = new Date('2030-01-01T00:00:00Z');
    const emu = await startEmulator({ now: () => now, quotas: false });
    try {
      const { kms } = clientsFor(emu);
      const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
      const out = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
      expect(out.DeletionDate).toEqual(new Date('2030-01-08T00:00:00Z'));
      now = new Date('2030-01-08T00:00:01Z');
      expect((await rejectionOf(kms.send(new DescribeKeyCommand({ KeyId: key.KeyId })))).name).toBe('NotFoundException');
      expect(emu.describeKeyState(key.Arn!)).toBeUndefined();
    } finally {
      await emu.stop();
    }
  });
});

describe('KMS rotation, policy, tags, last usage', () => {
  it('GIVEN EnableKeyRotation THEN periods 90–2560 are accepted and reported; outside is ValidationException', async () => {
    const key = await newKey();
    expect((await ctx.aws.kms.send(new GetKeyRotationStatusCommand({ KeyId: key.KeyId }))).KeyRotationEnabled).toBe(false);
    for (const bad of [89, 2561]) {
      expect((await rejectionOf(ctx.aws.kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId, RotationPeriodInDays: bad })))).name).toBe('ValidationException');
    }
    await ctx.aws.kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId, RotationPeriodInDays: 90 }));
    await ctx.aws.kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId, RotationPeriodInDays: 2560 }));
    const status = await ctx.aws.kms.send(new GetKeyRotationStatusCommand({ KeyId: key.Arn }));
    expect(status).toMatchObject({ KeyRotationEnabled: true, RotationPeriodInDays: 2560 });
    expect(status.NextRotationDate).toBeInstanceOf(Date);
  });

  it('GIVEN a Disabled key WHEN EnableKeyRotation THEN DisabledException', async () => {
    const key = await newKey();
    await ctx.aws.kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    expect((await rejectionOf(ctx.aws.kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId })))).name).toBe('DisabledException');
  });

  it('GIVEN PutKeyPolicy THEN GetKeyPolicy returns it; a policy name other than default is rejected', async () => {
    const key = await newKey();
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'x', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${MANAGEMENT}:root` }, Action: 'kms:*', Resource: '*' }] });
    await ctx.aws.kms.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: policy }));
    expect(ctx.emu.describeKeyState(key.KeyId!)!.policy).toBe(policy);
    expect((await rejectionOf(ctx.aws.kms.send(new GetKeyPolicyCommand({ KeyId: key.KeyId, PolicyName: 'other' })))).name).toBe('NotFoundException');
    expect((await rejectionOf(ctx.aws.kms.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: '[' })))).name).toBe('MalformedPolicyDocumentException');
  });

  it('GIVEN TagResource THEN tags merge and overwrite; aws: keys are TagException', async () => {
    const key = await newKey({ Tags: [{ TagKey: 'a', TagValue: '1' }] });
    await ctx.aws.kms.send(new TagResourceCommand({ KeyId: key.KeyId, Tags: [{ TagKey: 'a', TagValue: '2' }, { TagKey: 'b', TagValue: '3' }] }));
    expect(ctx.emu.describeKeyState(key.Arn!)!.tags).toEqual({ a: '2', b: '3' });
    expect((await rejectionOf(ctx.aws.kms.send(new TagResourceCommand({ KeyId: key.KeyId, Tags: [{ TagKey: 'aws:x', TagValue: 'y' }] })))).name).toBe('TagException');
  });

  it('GIVEN a fresh key THEN GetKeyLastUsage is empty; after Encrypt it names the operation and time', async () => {
    const key = await newKey();
    const fresh = await ctx.aws.kms.send(new GetKeyLastUsageCommand({ KeyId: key.KeyId }));
    expect(fresh.KeyLastUsage).toEqual({});
    expect(fresh.KeyCreationDate).toEqual(key.CreationDate);
    await ctx.aws.kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }));
    const used = await ctx.aws.kms.send(new GetKeyLastUsageCommand({ KeyId: key.Arn }));
    expect(used.KeyLastUsage!.Operation).toBe('Encrypt');
    expect(used.KeyLastUsage!.Timestamp).toBeInstanceOf(Date);
  });
});

describe('KMS policy lockout safety check (CreateKey, PutKeyPolicy, ReplicateKey)', () => {
  const operator = `arn:aws:iam::${MANAGEMENT}:user/operator`;
  const pipelineRole = `arn:aws:iam::${MANAGEMENT}:role/keyrotor-pipeline`;
  const allowing = (principal: string, actions: string[] = ['kms:PutKeyPolicy', 'kms:DescribeKey'], extra: Record<string, unknown> = {}) =>
    JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: principal }, Action: actions, Resource: '*', ...extra }] });
  const LOCKOUT = 'The new key policy will not allow you to update the key policy in the future.';

  it('GIVEN a policy that would not let the caller change it again WHEN CreateKey or PutKeyPolicy THEN MalformedPolicyDocumentException in AWS\'s words, and nothing changes', async () => {
    const refused = await rejectionOf(newKey({ Policy: allowing(pipelineRole) }));
    expect([refused.name, refused.message]).toEqual(['MalformedPolicyDocumentException', LOCKOUT]);
    const withoutPut = await rejectionOf(newKey({ Policy: allowing(operator, ['kms:Describe*', 'kms:Encrypt']) }));
    expect(withoutPut.name).toBe('MalformedPolicyDocumentException');

    const key = await newKey({ Policy: allowing(operator) });
    const dropped = await rejectionOf(ctx.aws.kms.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, PolicyName: 'default', Policy: allowing(pipelineRole) })));
    expect([dropped.name, dropped.message]).toEqual(['MalformedPolicyDocumentException', LOCKOUT]);
    expect((await ctx.aws.kms.send(new GetKeyPolicyCommand({ KeyId: key.KeyId }))).Policy).toBe(allowing(operator));
  });

  it('GIVEN BypassPolicyLockoutSafetyCheck THEN the policy is accepted, as AWS accepts it, and the emulator notes it (keyrotor never sets it)', async () => {
    const notes: string[] = [];
    const emu = await startEmulator({ quotas: false, log: (m) => notes.push(m) });
    try {
      const { kms } = clientsFor(emu);
      await kms.send(new CreateKeyCommand({ Policy: allowing(pipelineRole), BypassPolicyLockoutSafetyCheck: true }));
      expect(notes).toEqual([`CreateKey by ${operator} set BypassPolicyLockoutSafetyCheck=true`]);
    } finally {
      await emu.stop();
    }
  });

  it('GIVEN an assumed-role session THEN a policy naming its role passes and one naming another role does not; the account root (IAM decides) passes; an unconditional Deny of PutKeyPolicy refuses', async () => {
    const emu = await startEmulator({ quotas: false });
    try {
      emu.addPrincipal('AKIAPIPELINE0000001', `arn:aws:sts::${MANAGEMENT}:assumed-role/keyrotor-pipeline/gh-operator-1`);
      const { kms } = clientsFor(emu, { accessKeyId: 'AKIAPIPELINE0000001' });
      await kms.send(new CreateKeyCommand({ Policy: allowing(pipelineRole) }));
      expect((await rejectionOf(kms.send(new CreateKeyCommand({ Policy: allowing(`arn:aws:iam::${MANAGEMENT}:role/KeyAdministrator`) })))).name).toBe('MalformedPolicyDocumentException');
      await kms.send(new CreateKeyCommand({ Policy: allowing(`arn:aws:iam::${MANAGEMENT}:root`, ['kms:*']) }));
      const denied = JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { AWS: pipelineRole }, Action: 'kms:*', Resource: '*' },
          { Effect: 'Deny', Principal: { AWS: '*' }, Action: 'kms:PutKeyPolicy', Resource: '*' },
        ],
      });
      expect((await rejectionOf(kms.send(new CreateKeyCommand({ Policy: denied })))).name).toBe('MalformedPolicyDocumentException');
    } finally {
      await emu.stop();
    }
  });
});
