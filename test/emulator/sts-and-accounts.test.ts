import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CreateKeyCommand, DecryptCommand, KMSClient, DescribeKeyCommand, EncryptCommand, ListKeysCommand, PutKeyPolicyCommand, ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import { DescribeInstanceCommand, ListInstancesCommand } from '@aws-sdk/client-sso-admin';
import { ListUsersCommand } from '@aws-sdk/client-identitystore';
import { AssumeRoleCommand, GetCallerIdentityCommand, type Credentials as StsCredentials } from '@aws-sdk/client-sts';
import { DEFAULT_SEED, startEmulator, type Emulator } from '../../emulator';
import { IDENTITY_STORE_ID, INSTANCE_ARN, MANAGEMENT, MEMBER, REGION, clientsFor, rejectionOf, type Clients } from './harness';

const PIPELINE_ROLE = `arn:aws:iam::${MEMBER}:role/keyrotor/keyrotor-pipeline`;
const CI_USER = `arn:aws:iam::${MANAGEMENT}:user/ci`;
const CI_KEY = 'AKIACIUSER000000001';
const STRANGER_KEY = 'AKIASTRANGER0000001';

let emu: Emulator;
let ci: Clients;
beforeEach(async () => {
  emu = await startEmulator({
    quotas: false,
    now: () => new Date('2030-01-01T00:00:00Z'),
    seed: {
      ...DEFAULT_SEED,
      principals: [
        { accessKeyId: CI_KEY, arn: CI_USER },
        { accessKeyId: STRANGER_KEY, arn: `arn:aws:iam::${MEMBER}:user/stranger` },
      ],
      roles: [{ arn: PIPELINE_ROLE, trustedPrincipals: [CI_USER], maxSessionDurationSeconds: 7200 }],
    },
  });
  ci = clientsFor(emu, { accessKeyId: CI_KEY });
});
afterEach(async () => emu.stop());

async function assume(from: Clients, roleArn = PIPELINE_ROLE, extra: { DurationSeconds?: number } = {}): Promise<StsCredentials> {
  return (await from.sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'rotation-run-1', ...extra }))).Credentials!;
}

const asClients = (c: StsCredentials, region = REGION) =>
  clientsFor(emu, { region, credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! } });

describe('STS AssumeRole', () => {
  it('GIVEN a role that trusts the caller WHEN AssumeRole THEN temporary credentials whose GetCallerIdentity is the assumed-role session in the role\'s account', async () => {
    const out = await ci.sts.send(new AssumeRoleCommand({ RoleArn: PIPELINE_ROLE, RoleSessionName: 'rotation-run-1', DurationSeconds: 1800 }));
    expect(out.Credentials!.AccessKeyId).toMatch(/^ASIA[0-9A-F]{16}$/);
    expect(out.Credentials!.SessionToken).toBeTruthy();
    expect(out.Credentials!.Expiration).toEqual(new Date('2030-01-01T00:30:00Z'));
    const sessionArn = `arn:aws:sts::${MEMBER}:assumed-role/keyrotor-pipeline/rotation-run-1`;
    expect(out.AssumedRoleUser).toEqual({ Arn: sessionArn, AssumedRoleId: expect.stringMatching(/^AROA[0-9A-F]+:rotation-run-1$/) });

    const who = await asClients(out.Credentials!).sts.send(new GetCallerIdentityCommand({}));
    expect(who).toMatchObject({ Account: MEMBER, Arn: sessionArn, UserId: out.AssumedRoleUser!.AssumedRoleId });
  });

  it('GIVEN callers the role does not trust, or a role nobody registered THEN AccessDenied worded as STS words it', async () => {
    const stranger = clientsFor(emu, { accessKeyId: STRANGER_KEY });
    const err = await rejectionOf(assume(stranger));
    expect(err.name).toBe('AccessDenied');
    expect(err.$metadata?.httpStatusCode).toBe(403);
    expect(err.message).toBe(`User: arn:aws:iam::${MEMBER}:user/stranger is not authorized to perform: sts:AssumeRole on resource: ${PIPELINE_ROLE}`);
    expect((await rejectionOf(assume(ci, `arn:aws:iam::${MEMBER}:role/nobody`))).name).toBe('AccessDenied');
  });

  it('GIVEN bad parameters THEN ValidationError: a session name out of pattern, a duration over the role\'s maximum, role chaining over one hour', async () => {
    const badName = await rejectionOf(ci.sts.send(new AssumeRoleCommand({ RoleArn: PIPELINE_ROLE, RoleSessionName: 'has space' })));
    expect(badName.name).toBe('ValidationError');
    expect(badName.message).toMatch(/roleSessionName/);
    expect((await rejectionOf(assume(ci, PIPELINE_ROLE, { DurationSeconds: 7201 }))).message).toMatch(/MaxSessionDuration/);
    expect((await rejectionOf(assume(ci, PIPELINE_ROLE, { DurationSeconds: 600 }))).name).toBe('ValidationError');

    // Role chaining: a session of the pipeline role assumes a role that trusts the pipeline role.
    const chained = `arn:aws:iam::${MANAGEMENT}:role/state-writer`;
    emu.addRole({ arn: chained, trustedPrincipals: [PIPELINE_ROLE], maxSessionDurationSeconds: 43_200 });
    const session = asClients(await assume(ci));
    expect((await rejectionOf(assume(session, chained, { DurationSeconds: 7200 }))).message).toMatch(/role chaining/);
    const second = await assume(session, chained);
    expect((await asClients(second).sts.send(new GetCallerIdentityCommand({}))).Arn).toBe(`arn:aws:sts::${MANAGEMENT}:assumed-role/state-writer/rotation-run-1`);
  });

  it('GIVEN temporary credentials WHEN the emulator clock passes their Expiration, or the session token is wrong THEN ExpiredToken(Exception) / UnrecognizedClientException', async () => {
    const credentials = await assume(ci);
    const session = asClients(credentials);
    await session.kms.send(new ListKeysCommand({}));
    const forged = clientsFor(emu, { credentials: { accessKeyId: credentials.AccessKeyId!, secretAccessKey: 'x', sessionToken: 'not-the-token' } });
    expect((await rejectionOf(forged.kms.send(new ListKeysCommand({})))).name).toBe('UnrecognizedClientException');
    expect((await rejectionOf(forged.sts.send(new GetCallerIdentityCommand({})))).name).toBe('InvalidClientTokenId');

    emu.advanceClock(3600 * 1000);
    expect((await rejectionOf(session.kms.send(new ListKeysCommand({})))).name).toBe('ExpiredTokenException');
    expect((await rejectionOf(session.sts.send(new GetCallerIdentityCommand({})))).name).toBe('ExpiredToken');
    // The refused calls are still attributed to the session's account.
    expect(emu.callLog().filter((c) => c.outcome.startsWith('Expired')).map((c) => c.account)).toEqual([MEMBER, MEMBER]);
  });
});

describe('the SDK\'s own credential chain', () => {
  it('GIVEN a shared config profile with role_arn and source_profile THEN a client with no explicit credentials assumes the role through the emulator\'s STS and acts in the role\'s account', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'emulator-profile-'));
    const saved = { ...process.env };
    try {
      await writeFile(path.join(dir, 'config'), [
        '[profile ci]', `aws_access_key_id = ${CI_KEY}`, 'aws_secret_access_key = ci-secret', '',
        '[profile pipeline]', `role_arn = ${PIPELINE_ROLE}`, 'source_profile = ci', 'role_session_name = from-profile', '',
      ].join('\n'));
      await writeFile(path.join(dir, 'credentials'), '');
      for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) delete process.env[name];
      Object.assign(process.env, {
        AWS_CONFIG_FILE: path.join(dir, 'config'), AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'credentials'),
        AWS_PROFILE: 'pipeline', AWS_ENDPOINT_URL: emu.endpoint, AWS_REGION: REGION,
      });
      const kms = new KMSClient({ maxAttempts: 1 });
      const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
      expect(key.AWSAccountId).toBe(MEMBER);
      expect(emu.callLog().map((c) => [c.service, c.operation, c.account])).toEqual([
        ['sts', 'AssumeRole', MANAGEMENT],
        ['kms', 'CreateKey', MEMBER],
      ]);
      expect(emu.callLog()[1]!.caller).toBe(`arn:aws:sts::${MEMBER}:assumed-role/keyrotor-pipeline/from-profile`);
    } finally {
      process.env = saved;
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('calls are attributed to the account of the caller\'s credentials', () => {
  it('GIVEN an assumed role in account B WHEN it creates a key THEN the key is in account B, the call log says account B and the Region, and account A cannot reach it by id or ARN', async () => {
    const b = asClients(await assume(ci));
    const key = (await b.kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    expect(key.Arn).toBe(`arn:aws:kms:${REGION}:${MEMBER}:key/${key.KeyId}`);
    expect(key.AWSAccountId).toBe(MEMBER);
    const created = emu.callLog().find((c) => c.operation === 'CreateKey')!;
    expect(created).toMatchObject({ account: MEMBER, region: REGION, caller: `arn:aws:sts::${MEMBER}:assumed-role/keyrotor-pipeline/rotation-run-1`, target: key.Arn });
    expect(emu.listKeyArns(MEMBER)).toEqual([key.Arn]);

    // Account A (the CI user's own account): its key ids and ListKeys are its own.
    expect((await ci.kms.send(new ListKeysCommand({}))).Keys).toEqual([]);
    expect((await rejectionOf(ci.kms.send(new DescribeKeyCommand({ KeyId: key.KeyId })))).name).toBe('NotFoundException');
    const denied = await rejectionOf(ci.kms.send(new DescribeKeyCommand({ KeyId: key.Arn })));
    expect(denied.name).toBe('AccessDeniedException');
    expect(denied.message).toBe(`User: ${CI_USER} is not authorized to perform: kms:DescribeKey on resource: ${key.Arn} because no resource-based policy allows the kms:DescribeKey action`);
    const { CiphertextBlob } = await b.kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('b only') }));
    expect((await rejectionOf(ci.kms.send(new DecryptCommand({ CiphertextBlob })))).name).toBe('AccessDeniedException');
  });

  it('GIVEN a key policy that allows account A THEN A may describe, encrypt and decrypt by ARN, but never manage the key (no cross-account use for ScheduleKeyDeletion)', async () => {
    const b = asClients(await assume(ci));
    const key = (await b.kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    await b.kms.send(new PutKeyPolicyCommand({
      KeyId: key.KeyId,
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Sid: 'Owner', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${MEMBER}:root` }, Action: 'kms:*', Resource: '*' },
          { Sid: 'AccountA', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${MANAGEMENT}:root` }, Action: ['kms:DescribeKey', 'kms:Encrypt', 'kms:Decrypt', 'kms:ScheduleKeyDeletion'], Resource: '*' },
        ],
      }),
    }));
    expect((await ci.kms.send(new DescribeKeyCommand({ KeyId: key.Arn }))).KeyMetadata!.AWSAccountId).toBe(MEMBER);
    const { CiphertextBlob } = await ci.kms.send(new EncryptCommand({ KeyId: key.Arn, Plaintext: Buffer.from('shared') }));
    expect(Buffer.from((await ci.kms.send(new DecryptCommand({ CiphertextBlob }))).Plaintext!).toString()).toBe('shared');
    expect((await rejectionOf(ci.kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.Arn })))).name).toBe('AccessDeniedException');
  });

  it('GIVEN the Identity Center instance of the management account THEN a member account cannot read it, and a delegated administrator can', async () => {
    const member = asClients(await assume(ci));
    expect((await member.sso.send(new ListInstancesCommand({}))).Instances).toEqual([]);
    expect((await rejectionOf(member.sso.send(new DescribeInstanceCommand({ InstanceArn: INSTANCE_ARN })))).name).toBe('AccessDeniedException');
    expect((await rejectionOf(member.identityStore.send(new ListUsersCommand({ IdentityStoreId: IDENTITY_STORE_ID })))).name).toBe('AccessDeniedException');

    const delegated = await startEmulator({
      quotas: false,
      seed: { ...DEFAULT_SEED, instances: [{ ...DEFAULT_SEED.instances[0]!, delegatedAdministrators: [MEMBER] }], principals: [{ accessKeyId: STRANGER_KEY, arn: `arn:aws:iam::${MEMBER}:user/admin` }] },
    });
    try {
      const admin = clientsFor(delegated, { accessKeyId: STRANGER_KEY });
      expect((await admin.sso.send(new ListInstancesCommand({}))).Instances!.map((i) => i.InstanceArn)).toEqual([INSTANCE_ARN]);
      expect((await admin.sso.send(new DescribeInstanceCommand({ InstanceArn: INSTANCE_ARN }))).OwnerAccountId).toBe(MANAGEMENT);
      expect((await admin.identityStore.send(new ListUsersCommand({ IdentityStoreId: IDENTITY_STORE_ID }))).Users).toHaveLength(3);
    } finally {
      await delegated.stop();
    }
  });
});
