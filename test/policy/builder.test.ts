import { buildKeyPolicy, KEY_POLICY_MAX_BYTES, KeyPolicyTooLargeError, renderKeyPolicy } from '../../pipeline/policy/builder';
import { KEY_ADMIN_ACTIONS, KEY_USER_ACTIONS } from '../../pipeline/policy/actions';
import { SID } from '../../pipeline/policy/sids';
import type { KeyPolicyDocument, PolicyStatement } from '../../pipeline/policy/types';
import { IC_INSTANCE_ARN, IC_ORG_ID, IC_STORE_ARN, identityCenterKeyRing, loadedKeyRing, workloadKeyRing } from '../fixtures/config/configs';

const statement = (doc: KeyPolicyDocument, sid: string): PolicyStatement => {
  const found = doc.Statement.find((s) => s.Sid === sid);
  if (!found) throw new Error(`no statement ${sid} in ${doc.Statement.map((s) => s.Sid).join(', ')}`);
  return found;
};
const actionsOf = (s: PolicyStatement) => (typeof s.Action === 'string' ? [s.Action] : [...(s.Action ?? [])]);

const CONTEXT_KEYS = { 'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': ['aws:identitystore:identitystore-arn', 'aws:sso:instance-arn'] } };
const VIA_SERVICES = { StringLike: { 'kms:ViaService': ['identitystore.*.amazonaws.com', 'sso.*.amazonaws.com'] } };
const SCOPE = {
  StringEqualsIfExists: {
    'kms:EncryptionContext:aws:sso:instance-arn': IC_INSTANCE_ARN,
    'kms:EncryptionContext:aws:identitystore:identitystore-arn': IC_STORE_ARN,
  },
};

describe('GIVEN a workload key ring (no Identity Center)', () => {
  const keyring = loadedKeyRing(workloadKeyRing(), (k) => (k.rotation = { deletionWindowDays: 14 }));
  const doc = buildKeyPolicy(keyring);

  it('THEN the statements come in the documented order with stable Sids', () => {
    expect(doc.Version).toBe('2012-10-17');
    expect(doc.Statement.map((s) => s.Sid)).toEqual([
      SID.accountRoot,
      SID.keyAdministrators,
      SID.keyUsers,
      SID.pipelineRole,
      SID.denyWithoutTls,
      SID.denyDestructiveToOthers,
      SID.denyDestructiveWithoutMfa,
      SID.denyBypassLockoutCheck,
      SID.denyShortDeletionWindow,
    ]);
    expect(doc.Statement.every((s) => s.Resource === '*')).toBe(true);
  });

  it('THEN the account root statement is AWS\'s documented default: the root of the key\'s own account, kms:*', () => {
    expect(statement(doc, 'EnableIAMUserPermissions')).toEqual({
      Sid: 'EnableIAMUserPermissions',
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::222222222222:root' },
      Action: 'kms:*',
      Resource: '*',
    });
  });

  it('THEN the named administrators may manage the key but not use it for cryptography or grants', () => {
    const admins = statement(doc, SID.keyAdministrators);
    expect(admins).toMatchObject({ Effect: 'Allow', Principal: { AWS: ['arn:aws:iam::222222222222:role/KmsKeyAdministrator'] } });
    expect(admins.Condition).toBeUndefined();
    expect(actionsOf(admins)).toEqual(KEY_ADMIN_ACTIONS);
    for (const crypto of ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey', 'kms:ReEncryptFrom', 'kms:CreateGrant', 'kms:*']) {
      expect(actionsOf(admins)).not.toContain(crypto);
    }
    expect(actionsOf(admins).some((a) => a.includes('*'))).toBe(false);
  });

  it('THEN the named users get the cryptographic actions only', () => {
    const users = statement(doc, SID.keyUsers);
    expect(users).toMatchObject({ Effect: 'Allow', Principal: { AWS: ['arn:aws:iam::222222222222:role/payments-service'] } });
    expect(actionsOf(users)).toEqual(KEY_USER_ACTIONS);
    expect(actionsOf(users)).not.toContain('kms:PutKeyPolicy');
    expect(actionsOf(users)).not.toContain('kms:ScheduleKeyDeletion');
  });

  it('THEN the pipeline role may administer, round-trip and read last usage, and keeps PutKeyPolicy (CreateKey\'s lockout check)', () => {
    const pipeline = statement(doc, SID.pipelineRole);
    expect(pipeline.Principal).toEqual({ AWS: 'arn:aws:iam::222222222222:role/keyrotor-pipeline' });
    expect(actionsOf(pipeline)).toEqual(expect.arrayContaining([...KEY_ADMIN_ACTIONS, 'kms:Encrypt', 'kms:Decrypt', 'kms:GetKeyLastUsage']));
    expect(actionsOf(pipeline)).not.toContain('kms:*');
  });

  it('THEN requests without TLS are denied to everyone', () => {
    expect(statement(doc, SID.denyWithoutTls)).toMatchObject({
      Effect: 'Deny',
      Principal: '*',
      Action: 'kms:*',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
  });

  it('THEN ScheduleKeyDeletion, PutKeyPolicy and DisableKey are denied to everyone but the admin roles and the pipeline role', () => {
    expect(statement(doc, SID.denyDestructiveToOthers)).toMatchObject({
      Effect: 'Deny',
      Principal: '*',
      Action: ['kms:DisableKey', 'kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion'],
      Condition: {
        ArnNotEquals: { 'aws:PrincipalArn': ['arn:aws:iam::222222222222:role/KmsKeyAdministrator', 'arn:aws:iam::222222222222:role/keyrotor-pipeline'] },
      },
    });
  });

  it('THEN humans need MFA for those actions, while the OIDC-assumed pipeline role (no MFA possible) is exempt', () => {
    expect(statement(doc, SID.denyDestructiveWithoutMfa)).toMatchObject({
      Effect: 'Deny',
      Principal: '*',
      Action: ['kms:DisableKey', 'kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion'],
      Condition: {
        BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' },
        ArnNotEquals: { 'aws:PrincipalArn': ['arn:aws:iam::222222222222:role/keyrotor-pipeline'] },
      },
    });
  });

  it('THEN PutKeyPolicy may never bypass the lockout safety check', () => {
    expect(statement(doc, SID.denyBypassLockoutCheck)).toMatchObject({
      Effect: 'Deny',
      Action: 'kms:PutKeyPolicy',
      Condition: { Bool: { 'kms:BypassPolicyLockoutSafetyCheck': 'true' } },
    });
  });

  it('THEN ScheduleKeyDeletion with a window below the key ring\'s (14) is denied', () => {
    expect(statement(doc, SID.denyShortDeletionWindow)).toMatchObject({
      Effect: 'Deny',
      Principal: '*',
      Action: 'kms:ScheduleKeyDeletion',
      Condition: { NumericLessThan: { 'kms:ScheduleKeyDeletionPendingWindowInDays': '14' } },
    });
  });

  it('THEN no Identity Center statement is present', () => {
    expect(doc.Statement.some((s) => s.Sid.includes('IdentityCenter'))).toBe(false);
  });
});

describe('GIVEN a key ring without users or pipeline role', () => {
  const doc = buildKeyPolicy(
    loadedKeyRing(workloadKeyRing(), (k) => {
      k.keyUsers = [];
      delete k.pipelineRole;
    }),
  );

  it('THEN there is no users or pipeline statement, and the MFA deny applies to every principal', () => {
    expect(doc.Statement.map((s) => s.Sid)).not.toContain(SID.keyUsers);
    expect(doc.Statement.map((s) => s.Sid)).not.toContain(SID.pipelineRole);
    expect(statement(doc, SID.denyDestructiveWithoutMfa).Condition).toEqual({ BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } });
    expect(statement(doc, SID.denyDestructiveToOthers).Condition).toEqual({
      ArnNotEquals: { 'aws:PrincipalArn': ['arn:aws:iam::222222222222:role/KmsKeyAdministrator'] },
    });
  });
});

describe('GIVEN a key ring attached to Identity Center', () => {
  const doc = buildKeyPolicy(loadedKeyRing(identityCenterKeyRing()));

  it('THEN the services may describe the key, bound to the key\'s account by aws:SourceAccount, without context scoping', () => {
    expect(statement(doc, SID.identityCenterDescribe)).toEqual({
      Sid: 'AllowIdentityCenterAndIdentityStoreToDescribeKey',
      Effect: 'Allow',
      Principal: { Service: ['identitystore.amazonaws.com', 'sso.amazonaws.com'] },
      Action: ['kms:DescribeKey'],
      Resource: '*',
      Condition: { StringEquals: { 'aws:SourceAccount': '111111111111' } },
    });
  });

  it('THEN the services may Decrypt/ReEncrypt/GenerateDataKeyWithoutPlaintext only with their context keys, scoped to this instance', () => {
    expect(statement(doc, SID.identityCenterUse)).toEqual({
      Sid: 'AllowIdentityCenterAndIdentityStoreToUseKey',
      Effect: 'Allow',
      Principal: { Service: ['identitystore.amazonaws.com', 'sso.amazonaws.com'] },
      Action: ['kms:Decrypt', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'],
      Resource: '*',
      Condition: { StringEquals: { 'aws:SourceAccount': '111111111111' }, ...CONTEXT_KEYS, ...SCOPE },
    });
  });

  it('THEN organization principals may only Decrypt through the services', () => {
    expect(statement(doc, SID.identityCenterOrganization)).toEqual({
      Sid: 'AllowOrganizationPrincipalsViaIdentityCenter',
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Action: ['kms:Decrypt'],
      Resource: '*',
      Condition: { StringEquals: { 'aws:PrincipalOrgID': IC_ORG_ID }, ...VIA_SERVICES, ...CONTEXT_KEYS, ...SCOPE },
    });
  });

  it('THEN AWS managed applications of the organization may only Decrypt through the services', () => {
    expect(statement(doc, SID.identityCenterManagedApps)).toEqual({
      Sid: 'AllowAWSManagedApplicationsViaIdentityCenter',
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Action: ['kms:Decrypt'],
      Resource: '*',
      Condition: {
        Bool: { 'aws:PrincipalIsAWSService': 'true' },
        StringEquals: { 'aws:SourceOrgID': IC_ORG_ID },
        ...VIA_SERVICES,
        ...CONTEXT_KEYS,
        ...SCOPE,
      },
    });
  });

  it('THEN without delegated admins there are no delegated-admin statements', () => {
    expect(doc.Statement.some((s) => s.Sid.includes('DelegatedAdmins'))).toBe(false);
  });

  it('WHEN scopeToInstance is false THEN no statement carries the per-instance equality, the rest is unchanged', () => {
    const unscoped = buildKeyPolicy(loadedKeyRing(identityCenterKeyRing(), (k) => (k.identityCenter.scopeToInstance = false)));
    expect(JSON.stringify(unscoped)).not.toContain('StringEqualsIfExists');
    expect(statement(unscoped, SID.identityCenterUse).Condition).toEqual({ StringEquals: { 'aws:SourceAccount': '111111111111' }, ...CONTEXT_KEYS });
    expect(unscoped.Statement.map((s) => s.Sid)).toEqual(doc.Statement.map((s) => s.Sid));
  });

  it('WHEN delegated admin accounts are listed THEN their roots may describe the key and use it only through Identity Center', () => {
    const withDelegates = buildKeyPolicy(loadedKeyRing(identityCenterKeyRing(), (k) => (k.identityCenter.delegatedAdminAccounts = ['444444444444', '333333333333'])));
    const roots = ['arn:aws:iam::333333333333:root', 'arn:aws:iam::444444444444:root'];
    expect(statement(withDelegates, SID.delegatedAdminsDescribe)).toMatchObject({ Principal: { AWS: roots }, Action: ['kms:DescribeKey'] });
    expect(statement(withDelegates, SID.delegatedAdminsDescribe).Condition).toBeUndefined();
    expect(statement(withDelegates, SID.delegatedAdminsUse)).toMatchObject({
      Principal: { AWS: roots },
      Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKeyWithoutPlaintext'],
      Condition: { ...VIA_SERVICES, ...CONTEXT_KEYS, ...SCOPE },
    });
  });
});

describe('renderKeyPolicy', () => {
  it('GIVEN the same key ring twice THEN the JSON is byte-identical', () => {
    const a = renderKeyPolicy(buildKeyPolicy(loadedKeyRing(identityCenterKeyRing())));
    const b = renderKeyPolicy(buildKeyPolicy(loadedKeyRing(identityCenterKeyRing())));
    expect(a).toBe(b);
  });

  it('GIVEN administrators and users listed in another order (or twice) THEN the JSON is byte-identical', () => {
    const base = workloadKeyRing();
    base.keyAdministrators = ['arn:aws:iam::222222222222:role/b-admin', 'arn:aws:iam::222222222222:role/a-admin'];
    const reordered = workloadKeyRing();
    reordered.keyAdministrators = ['arn:aws:iam::222222222222:role/a-admin', 'arn:aws:iam::222222222222:role/b-admin', 'arn:aws:iam::222222222222:role/a-admin'];
    expect(renderKeyPolicy(buildKeyPolicy(loadedKeyRing(reordered)))).toBe(renderKeyPolicy(buildKeyPolicy(loadedKeyRing(base))));
  });

  it('GIVEN a document whose fields and condition keys were written in another order THEN the rendering is the same', () => {
    const doc = buildKeyPolicy(loadedKeyRing(identityCenterKeyRing()));
    const shuffled: KeyPolicyDocument = {
      Statement: doc.Statement.map((s) => {
        const condition = s.Condition ? Object.fromEntries(Object.entries(s.Condition).reverse()) : undefined;
        return { ...(condition ? { Condition: condition } : {}), Resource: s.Resource, Action: s.Action, Principal: s.Principal, Effect: s.Effect, Sid: s.Sid };
      }),
      Version: '2012-10-17',
    };
    expect(renderKeyPolicy(shuffled)).toBe(renderKeyPolicy(doc));
  });

  it('GIVEN the rendering THEN it parses back to the document', () => {
    const doc = buildKeyPolicy(loadedKeyRing(identityCenterKeyRing()));
    expect(JSON.parse(renderKeyPolicy(doc))).toEqual(doc);
  });

  it('GIVEN a document above 32 KB THEN it throws an operator error naming the size, the limit and what to do', () => {
    const many = loadedKeyRing(workloadKeyRing(), (k) => {
      k.keyUsers = Array.from({ length: 600 }, (_, i) => `arn:aws:iam::222222222222:role/service-${String(i).padStart(4, '0')}`);
    });
    const doc = buildKeyPolicy(many);
    expect(() => renderKeyPolicy(doc, 'key ring payments')).toThrow(KeyPolicyTooLargeError);
    expect(() => renderKeyPolicy(doc, 'key ring payments')).toThrow(/key ring payments is \d+ bytes, above KMS's limit of 32768 bytes/);
    try {
      renderKeyPolicy(doc);
    } catch (error) {
      expect((error as KeyPolicyTooLargeError).fault).toBe('operator');
      expect((error as KeyPolicyTooLargeError).bytes).toBeGreaterThan(KEY_POLICY_MAX_BYTES);
      expect((error as KeyPolicyTooLargeError).nextStep).toMatch(/fewer key administrators\/users/);
    }
  });

  it('GIVEN a policy just under 32 KB THEN it renders', () => {
    let users = 300;
    const size = (n: number) =>
      Buffer.byteLength(
        JSON.stringify(buildKeyPolicy(loadedKeyRing(workloadKeyRing(), (k) => (k.keyUsers = Array.from({ length: n }, (_, i) => `arn:aws:iam::222222222222:role/r${i}`)))), null, 2),
      );
    while (size(users + 1) <= KEY_POLICY_MAX_BYTES) users++;
    const doc = buildKeyPolicy(loadedKeyRing(workloadKeyRing(), (k) => (k.keyUsers = Array.from({ length: users }, (_, i) => `arn:aws:iam::222222222222:role/r${i}`))));
    expect(Buffer.byteLength(renderKeyPolicy(doc))).toBeLessThanOrEqual(KEY_POLICY_MAX_BYTES);
    const oneMore = buildKeyPolicy(loadedKeyRing(workloadKeyRing(), (k) => (k.keyUsers = Array.from({ length: users + 1 }, (_, i) => `arn:aws:iam::222222222222:role/r${i}`))));
    expect(() => renderKeyPolicy(oneMore)).toThrow(KeyPolicyTooLargeError);
  });
});
