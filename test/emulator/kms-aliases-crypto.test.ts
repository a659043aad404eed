import {
  CreateAliasCommand, CreateKeyCommand, DecryptCommand, DeleteAliasCommand, DescribeKeyCommand, DisableKeyCommand, EncryptCommand,
  GenerateDataKeyCommand, GetKeyLastUsageCommand, ListAliasesCommand, ReEncryptCommand, ScheduleKeyDeletionCommand, UpdateAliasCommand,
} from '@aws-sdk/client-kms';
import { MANAGEMENT, MEMBER, REGION, clientsFor, rejectionOf, useEmulator } from './harness';

const ctx = useEmulator();
const newKey = async (extra: Record<string, unknown> = {}) => (await ctx.aws.kms.send(new CreateKeyCommand(extra))).KeyMetadata!;

describe('KMS aliases', () => {
  it('GIVEN CreateAlias THEN ListAliases shows it; a second CreateAlias of the name is AlreadyExistsException', async () => {
    const key = await newKey();
    await ctx.aws.kms.send(new CreateAliasCommand({ AliasName: 'alias/ring-a', TargetKeyId: key.Arn }));
    const listed = (await ctx.aws.kms.send(new ListAliasesCommand({ KeyId: key.KeyId }))).Aliases!;
    expect(listed).toEqual([
      expect.objectContaining({ AliasName: 'alias/ring-a', AliasArn: `arn:aws:kms:${REGION}:${MANAGEMENT}:alias/ring-a`, TargetKeyId: key.KeyId }),
    ]);
    const err = await rejectionOf(ctx.aws.kms.send(new CreateAliasCommand({ AliasName: 'alias/ring-a', TargetKeyId: key.KeyId })));
    expect(err.name).toBe('AlreadyExistsException');
  });

  it('GIVEN reserved or malformed alias names THEN InvalidAliasNameException / ValidationException', async () => {
    const key = await newKey();
    expect((await rejectionOf(ctx.aws.kms.send(new CreateAliasCommand({ AliasName: 'alias/aws/mine', TargetKeyId: key.KeyId })))).name).toBe('InvalidAliasNameException');
    expect((await rejectionOf(ctx.aws.kms.send(new CreateAliasCommand({ AliasName: 'no-prefix', TargetKeyId: key.KeyId })))).name).toBe('ValidationException');
    expect((await rejectionOf(ctx.aws.kms.send(new CreateAliasCommand({ AliasName: 'alias/bad name', TargetKeyId: key.KeyId })))).name).toBe('ValidationException');
  });

  it('GIVEN an alias WHEN UpdateAlias to a new symmetric key THEN DescribeKey on the alias returns the new key', async () => {
    const [oldKey, newer] = [await newKey(), await newKey()];
    await ctx.aws.kms.send(new CreateAliasCommand({ AliasName: 'alias/ring-b', TargetKeyId: oldKey.KeyId }));
    await ctx.aws.kms.send(new UpdateAliasCommand({ AliasName: 'alias/ring-b', TargetKeyId: newer.Arn }));
    expect((await ctx.aws.kms.send(new DescribeKeyCommand({ KeyId: 'alias/ring-b' }))).KeyMetadata!.Arn).toBe(newer.Arn);
  });

  it('GIVEN UpdateAlias to a key of another type, usage, account or Region, or pending deletion THEN it is refused and the alias keeps its target', async () => {
    const key = await newKey();
    await ctx.aws.kms.send(new CreateAliasCommand({ AliasName: 'alias/ring-c', TargetKeyId: key.KeyId }));
    const rsa = await newKey({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' });
    expect((await rejectionOf(ctx.aws.kms.send(new UpdateAliasCommand({ AliasName: 'alias/ring-c', TargetKeyId: rsa.KeyId })))).name).toBe('ValidationException');

    ctx.emu.addPrincipal('AKIAMEMBER000000001', `arn:aws:iam::${MEMBER}:user/member-admin`);
    const memberKey = (await clientsFor(ctx.emu, { accessKeyId: 'AKIAMEMBER000000001' }).kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    expect((await rejectionOf(ctx.aws.kms.send(new UpdateAliasCommand({ AliasName: 'alias/ring-c', TargetKeyId: memberKey.Arn })))).name).toBe('ValidationException');

    const westKey = (await clientsFor(ctx.emu, { region: 'us-west-2' }).kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    expect((await rejectionOf(ctx.aws.kms.send(new UpdateAliasCommand({ AliasName: 'alias/ring-c', TargetKeyId: westKey.Arn })))).name).toBe('ValidationException');

    const doomed = await newKey();
    await ctx.aws.kms.send(new ScheduleKeyDeletionCommand({ KeyId: doomed.KeyId }));
    expect((await rejectionOf(ctx.aws.kms.send(new UpdateAliasCommand({ AliasName: 'alias/ring-c', TargetKeyId: doomed.KeyId })))).name).toBe('KMSInvalidStateException');

    expect((await ctx.aws.kms.send(new DescribeKeyCommand({ KeyId: 'alias/ring-c' }))).KeyMetadata!.KeyId).toBe(key.KeyId);
  });

  it('GIVEN a missing alias THEN UpdateAlias and DeleteAlias are NotFoundException; DeleteAlias removes an existing one', async () => {
    const key = await newKey();
    expect((await rejectionOf(ctx.aws.kms.send(new UpdateAliasCommand({ AliasName: 'alias/missing', TargetKeyId: key.KeyId })))).name).toBe('NotFoundException');
    expect((await rejectionOf(ctx.aws.kms.send(new DeleteAliasCommand({ AliasName: 'alias/missing' })))).name).toBe('NotFoundException');
    await ctx.aws.kms.send(new CreateAliasCommand({ AliasName: 'alias/temp', TargetKeyId: key.KeyId }));
    await ctx.aws.kms.send(new DeleteAliasCommand({ AliasName: 'alias/temp' }));
    expect((await rejectionOf(ctx.aws.kms.send(new DescribeKeyCommand({ KeyId: 'alias/temp' })))).name).toBe('NotFoundException');
  });
});

describe('KMS cryptography (AES-256-GCM per key, encryption context as AAD)', () => {
  const context = { 'aws:sso:instance-arn': 'arn:aws:sso:::instance/ssoins-7223f2cd9d6a6b51', purpose: 'check' };

  it('GIVEN Encrypt with a context WHEN Decrypt without KeyId and the same context in another order THEN the plaintext comes back', async () => {
    const key = await newKey();
    await ctx.aws.kms.send(new CreateAliasCommand({ AliasName: 'alias/crypto', TargetKeyId: key.KeyId }));
    const encrypted = await ctx.aws.kms.send(new EncryptCommand({ KeyId: 'alias/crypto', Plaintext: Buffer.from('secret'), EncryptionContext: context }));
    expect(encrypted.KeyId).toBe(key.Arn);
    expect(Buffer.from(encrypted.CiphertextBlob!).includes(Buffer.from('secret'))).toBe(false);
    const decrypted = await ctx.aws.kms.send(new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob, EncryptionContext: { purpose: 'check', 'aws:sso:instance-arn': context['aws:sso:instance-arn'] } }));
    expect(Buffer.from(decrypted.Plaintext!).toString()).toBe('secret');
    expect(decrypted.KeyId).toBe(key.Arn);
  });

  it('GIVEN a ciphertext WHEN decrypted with a wrong, missing or extra context, or tampered THEN InvalidCiphertextException', async () => {
    const key = await newKey();
    const { CiphertextBlob } = await ctx.aws.kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('secret'), EncryptionContext: context }));
    for (const wrong of [{ ...context, purpose: 'other' }, undefined, { ...context, extra: 'x' }]) {
      expect((await rejectionOf(ctx.aws.kms.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: wrong })))).name).toBe('InvalidCiphertextException');
    }
    const tampered = Buffer.from(CiphertextBlob!);
    tampered[tampered.length - 1] ^= 0xff;
    expect((await rejectionOf(ctx.aws.kms.send(new DecryptCommand({ CiphertextBlob: tampered, EncryptionContext: context })))).name).toBe('InvalidCiphertextException');
    expect((await rejectionOf(ctx.aws.kms.send(new DecryptCommand({ CiphertextBlob: Buffer.from('garbage') })))).name).toBe('InvalidCiphertextException');
  });

  it('GIVEN Decrypt naming a different KeyId than the ciphertext\'s THEN IncorrectKeyException', async () => {
    const [a, b] = [await newKey(), await newKey()];
    const { CiphertextBlob } = await ctx.aws.kms.send(new EncryptCommand({ KeyId: a.KeyId, Plaintext: Buffer.from('x') }));
    expect((await rejectionOf(ctx.aws.kms.send(new DecryptCommand({ CiphertextBlob, KeyId: b.KeyId })))).name).toBe('IncorrectKeyException');
  });

  it('GIVEN a disabled key THEN Decrypt of its ciphertext is DisabledException', async () => {
    const key = await newKey();
    const { CiphertextBlob } = await ctx.aws.kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') }));
    await ctx.aws.kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    expect((await rejectionOf(ctx.aws.kms.send(new DecryptCommand({ CiphertextBlob })))).name).toBe('DisabledException');
  });

  it('GIVEN GenerateDataKey THEN the plaintext data key decrypts from its ciphertext; KeySpec and NumberOfBytes together are ValidationException', async () => {
    const key = await newKey();
    const dataKey = await ctx.aws.kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_256', EncryptionContext: context }));
    expect(dataKey.Plaintext!.length).toBe(32);
    const back = await ctx.aws.kms.send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob, EncryptionContext: context }));
    expect(Buffer.from(back.Plaintext!).equals(Buffer.from(dataKey.Plaintext!))).toBe(true);
    expect((await rejectionOf(ctx.aws.kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_256', NumberOfBytes: 32 })))).name).toBe('ValidationException');
  });

  it('GIVEN ReEncrypt from one key and context to another THEN the new ciphertext decrypts under the destination only', async () => {
    const [source, destination] = [await newKey(), await newKey()];
    const { CiphertextBlob } = await ctx.aws.kms.send(new EncryptCommand({ KeyId: source.KeyId, Plaintext: Buffer.from('move me'), EncryptionContext: context }));
    const moved = await ctx.aws.kms.send(new ReEncryptCommand({ CiphertextBlob, SourceEncryptionContext: context, DestinationKeyId: destination.Arn, DestinationEncryptionContext: { to: 'new' } }));
    expect(moved).toMatchObject({ SourceKeyId: source.Arn, KeyId: destination.Arn });
    const back = await ctx.aws.kms.send(new DecryptCommand({ CiphertextBlob: moved.CiphertextBlob, EncryptionContext: { to: 'new' } }));
    expect(Buffer.from(back.Plaintext!).toString()).toBe('move me');
    expect((await ctx.aws.kms.send(new GetKeyLastUsageCommand({ KeyId: destination.KeyId }))).KeyLastUsage!.Operation).toBe('Decrypt');
    expect((await ctx.aws.kms.send(new GetKeyLastUsageCommand({ KeyId: source.KeyId }))).KeyLastUsage!.Operation).toBe('ReEncrypt');
  });

  it('GIVEN an asymmetric key THEN Encrypt is InvalidKeyUsageException (the emulator models symmetric crypto only)', async () => {
    const rsa = await newKey({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' });
    expect((await rejectionOf(ctx.aws.kms.send(new EncryptCommand({ KeyId: rsa.KeyId, Plaintext: Buffer.from('x') })))).name).toBe('InvalidKeyUsageException');
  });
});
