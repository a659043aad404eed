/**
 * The credential chain per account: from one starting identity (CI's), each account's declared
 * pipeline role is assumed through the SDK's own provider, once per account for every Region and
 * client; the state store gets the team account's role; a start that already is the role (or a key
 * administrator) is used as it is; a role that does not trust the start fails naming both.
 * Against the emulator's STS, which models AssumeRole, trust and per-account callers.
 */
import { ListKeysCommand } from '@aws-sdk/client-kms';
import { ListInstancesCommand } from '@aws-sdk/client-sso-admin';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { startEmulator, type Emulator } from '../../emulator';
import type { AccessConfig } from '../../pipeline/config/types';
import { createAwsClients, unlimitedRateLimiter } from '../../pipeline/aws';
import { CredentialChain, sessionNameFor } from '../../pipeline/aws/role-credentials';
import { KeyrotorError } from '../../pipeline/errors';

const T = '111111111111';
const B = '222222222222';
const CI_ROLE = `arn:aws:iam::${T}:role/keyrotor-ci`;
const CI_SESSION = `arn:aws:sts::${T}:assumed-role/keyrotor-ci/gh-alice-4242`;
const pipelineRole = (account: string) => `arn:aws:iam::${account}:role/keyrotor-pipeline`;
const CI_KEY = 'AKIACIIDENTITY00001';

const access: AccessConfig = {
  ciRole: CI_ROLE,
  accounts: {
    [T]: { pipelineRole: pipelineRole(T), terraformRole: pipelineRole(T) },
    [B]: { pipelineRole: pipelineRole(B), terraformRole: pipelineRole(B) },
  },
  stateRole: pipelineRole(T),
  bootstrapRoleName: 'OrganizationAccountAccessRole',
  github: { deployEnvironments: ['production'], planSubjects: [] },
};
const keyrings = [
  { account: T, keyAdministrators: [`arn:aws:iam::${T}:role/KmsKeyAdministrator`] },
  { account: B, keyAdministrators: [`arn:aws:iam::${B}:role/KmsKeyAdministrator`] },
];

let emu: Emulator;
beforeEach(async () => {
  emu = await startEmulator({ port: 0, quotas: false });
  emu.addPrincipal(CI_KEY, CI_SESSION);
  for (const account of [T, B]) emu.addRole({ arn: pipelineRole(account), trustedPrincipals: [CI_ROLE] });
});
afterEach(async () => emu.stop());

function chain(key = CI_KEY, accessConfig: AccessConfig | null = access): CredentialChain {
  return new CredentialChain({ access: accessConfig ?? undefined, keyrings, env: { AWS_ACCESS_KEY_ID: key, AWS_SECRET_ACCESS_KEY: 'x' }, endpoint: emu.endpoint });
}

function clients(c: CredentialChain, account: string, region: string) {
  const credentials = c.credentialsFor(account, region);
  return createAwsClients({ region, account, endpoint: emu.endpoint, env: {}, rateLimiter: unlimitedRateLimiter, ...(credentials ? { credentials } : {}) });
}

const assumeCalls = () => emu.callLog().filter((e) => e.operation === 'AssumeRole');

describe('per account, from one CI identity', () => {
  it('GIVEN roles in two accounts WHEN clients of both accounts, in two Regions, call AWS THEN each acts as its account\'s pipeline role, keeps the CI session name, and each role is assumed once', async () => {
    const c = chain();
    const inB = [clients(c, B, 'eu-west-1'), clients(c, B, 'us-east-1')];
    const inT = clients(c, T, 'us-east-1');
    await Promise.all([...inB.map((x) => x.kms.send(new ListKeysCommand({}))), inB[0]!.ssoAdmin.send(new ListInstancesCommand({})), inT.kms.send(new ListKeysCommand({}))]);

    const calls = emu.callLog().filter((e) => e.service !== 'sts');
    expect(new Set(calls.filter((e) => e.account === B).map((e) => e.caller))).toEqual(new Set([`arn:aws:sts::${B}:assumed-role/keyrotor-pipeline/gh-alice-4242`]));
    expect(new Set(calls.filter((e) => e.account === T).map((e) => e.caller))).toEqual(new Set([`arn:aws:sts::${T}:assumed-role/keyrotor-pipeline/gh-alice-4242`]));
    expect(new Set(calls.filter((e) => e.account === B).map((e) => e.region))).toEqual(new Set(['eu-west-1', 'us-east-1']));
    expect(assumeCalls().map((e) => [e.caller, e.target]).sort()).toEqual([
      [CI_SESSION, pipelineRole(T)],
      [CI_SESSION, pipelineRole(B)],
    ]);
    expect(await c.routeFor(B, 'eu-west-1')).toMatchObject({ kind: 'assume-role', roleArn: pipelineRole(B), sessionName: 'gh-alice-4242' });
    for (const x of [...inB, inT]) x.destroy();
  });

  it('GIVEN the state role THEN the state store\'s credentials are the team account\'s role session', async () => {
    const credentials = chain().stateCredentials('us-east-1');
    const sts = new STSClient({ region: 'us-east-1', endpoint: emu.endpoint, credentials: credentials as never });
    expect((await sts.send(new GetCallerIdentityCommand({}))).Arn).toBe(`arn:aws:sts::${T}:assumed-role/keyrotor-pipeline/gh-alice-4242`);
    sts.destroy();
  });

  it('GIVEN the starting credentials already are the account\'s pipeline role, or a key administrator THEN they act as they are: no AssumeRole', async () => {
    emu.addPrincipal('AKIAALREADYPIPELINE', `arn:aws:sts::${B}:assumed-role/keyrotor-pipeline/gh-bob-1`);
    emu.addPrincipal('AKIAKEYADMINSESSION', `arn:aws:sts::${B}:assumed-role/KmsKeyAdministrator/carol`);
    for (const key of ['AKIAALREADYPIPELINE', 'AKIAKEYADMINSESSION']) {
      const c = chain(key);
      const x = clients(c, B, 'eu-west-1');
      await x.kms.send(new ListKeysCommand({}));
      expect((await c.routeFor(B, 'eu-west-1')).kind).toBe('source');
      x.destroy();
    }
    expect(assumeCalls()).toEqual([]);
  });

  it('GIVEN no access section THEN the starting credentials act everywhere and nothing is assumed (as before)', async () => {
    const c = chain(CI_KEY, null);
    const x = clients(c, B, 'eu-west-1');
    await x.kms.send(new ListKeysCommand({}));
    expect(emu.callLog().filter((e) => e.operation === 'ListKeys').map((e) => e.caller)).toEqual([CI_SESSION]);
    expect(assumeCalls()).toEqual([]);
    x.destroy();
  });

  it('GIVEN a role whose trust does not name the starting identity THEN the call fails with an operator error naming the role, the caller and the trust to fix', async () => {
    emu.addRole({ arn: pipelineRole(B), trustedPrincipals: [`arn:aws:iam::${T}:role/someone-else`] });
    const x = clients(chain(), B, 'eu-west-1');
    const error = await x.kms.send(new ListKeysCommand({})).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(KeyrotorError);
    const e = error as KeyrotorError;
    expect(e.fault).toBe('operator');
    expect(e.message).toContain(`cannot act as ${pipelineRole(B)}: STS AssumeRole from ${CI_SESSION} failed (AccessDenied`);
    expect(e.nextStep).toContain(`the trust policy of ${pipelineRole(B)} must name ${CI_ROLE}`);
    x.destroy();
  });
});

describe('session names', () => {
  it('GIVEN a role session, an IAM user or nothing THEN the session name is kept, made keyrotor-<user>, or keyrotor', () => {
    expect(sessionNameFor({ account: T, arn: CI_SESSION, userId: 'x' })).toBe('gh-alice-4242');
    expect(sessionNameFor({ account: T, arn: `arn:aws:iam::${T}:user/ops/bob`, userId: 'x' })).toBe('keyrotor-bob');
    expect(sessionNameFor(undefined)).toBe('keyrotor');
  });
});
