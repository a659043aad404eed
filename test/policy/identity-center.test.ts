import { buildKeyPolicy, renderKeyPolicy } from '../../pipeline/policy/builder';
import { missingIdentityCenterStatements, REQUIRED_IDENTITY_CENTER_SIDS } from '../../pipeline/policy/identity-center';
import { SID } from '../../pipeline/policy/sids';
import type { KeyPolicyDocument } from '../../pipeline/policy/types';
import { identityCenterKeyRing, loadedKeyRing, workloadKeyRing } from '../fixtures/config/configs';

const icDoc = () => buildKeyPolicy(loadedKeyRing(identityCenterKeyRing()));
const without = (doc: KeyPolicyDocument, sid: string): string => renderKeyPolicy({ ...doc, Statement: doc.Statement.filter((s) => s.Sid !== sid) });

describe('missingIdentityCenterStatements', () => {
  it('GIVEN the policy the builder makes for an attached key ring THEN nothing is missing, services and organization alike', () => {
    expect(missingIdentityCenterStatements(renderKeyPolicy(icDoc()), { account: '111111111111', includeOrganizationStatements: true })).toEqual([]);
  });

  it('exports the Sids of the required baseline statements', () => {
    expect(REQUIRED_IDENTITY_CENTER_SIDS).toEqual([
      SID.identityCenterDescribe,
      SID.identityCenterUse,
      SID.identityCenterOrganization,
      SID.identityCenterManagedApps,
    ]);
  });

  it('GIVEN a workload key ring\'s policy THEN every service permission is reported missing', () => {
    const missing = missingIdentityCenterStatements(renderKeyPolicy(buildKeyPolicy(loadedKeyRing(workloadKeyRing()))));
    expect(missing).toHaveLength(10);
    expect(missing).toContain(`no Allow of kms:DescribeKey for service principal sso.amazonaws.com (keyrotor's statement ${SID.identityCenterDescribe})`);
    expect(missing).toContain(`no Allow of kms:Decrypt for service principal identitystore.amazonaws.com (keyrotor's statement ${SID.identityCenterUse})`);
  });

  it('GIVEN the use statement removed THEN the four use actions of both services are reported, the describe ones are not', () => {
    const missing = missingIdentityCenterStatements(without(icDoc(), SID.identityCenterUse));
    expect(missing).toHaveLength(8);
    expect(missing.every((m) => m.endsWith(`(keyrotor's statement ${SID.identityCenterUse})`))).toBe(true);
    expect(missing.some((m) => m.includes('kms:ReEncryptTo') && m.includes('sso.amazonaws.com'))).toBe(true);
  });

  it('GIVEN only one service allowed THEN only the other service is reported', () => {
    const doc = icDoc();
    const ssoOnly = renderKeyPolicy({
      ...doc,
      Statement: doc.Statement.map((s) => (s.Sid === SID.identityCenterUse ? { ...s, Principal: { Service: 'sso.amazonaws.com' } } : s)),
    });
    const missing = missingIdentityCenterStatements(ssoOnly);
    expect(missing).toHaveLength(4);
    expect(missing.every((m) => m.includes('identitystore.amazonaws.com'))).toBe(true);
  });

  it('GIVEN a hand-written policy with other Sids and wildcard actions that grant the same THEN nothing is missing (checked by meaning)', () => {
    const handWritten = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'Root', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111111111111:root' }, Action: 'kms:*', Resource: '*' },
        { Sid: 'IdC', Effect: 'Allow', Principal: { Service: ['sso.amazonaws.com', 'identitystore.amazonaws.com'] }, Action: ['kms:Describe*', 'kms:decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'], Resource: '*' },
      ],
    });
    expect(missingIdentityCenterStatements(handWritten, { account: '111111111111' })).toEqual([]);
  });

  it('GIVEN the service statements bound to another account by aws:SourceAccount THEN they do not count for this key\'s account', () => {
    const doc = icDoc();
    const otherAccount = renderKeyPolicy({
      ...doc,
      Statement: doc.Statement.map((s) =>
        s.Sid === SID.identityCenterDescribe ? { ...s, Condition: { StringEquals: { 'aws:SourceAccount': '999999999999' } } } : s,
      ),
    });
    expect(missingIdentityCenterStatements(otherAccount, { account: '111111111111' })).toHaveLength(2);
    expect(missingIdentityCenterStatements(otherAccount)).toEqual([]);
  });

  it('GIVEN an unconditional Deny of kms:Decrypt to everyone THEN Decrypt is reported missing despite the Allow', () => {
    const doc = icDoc();
    const denied = renderKeyPolicy({ ...doc, Statement: [...doc.Statement, { Sid: 'DenyAll', Effect: 'Deny', Principal: '*', Action: 'kms:Decrypt', Resource: '*' }] });
    const missing = missingIdentityCenterStatements(denied);
    expect(missing).toHaveLength(2);
    expect(missing.every((m) => m.includes('kms:Decrypt'))).toBe(true);
  });

  it('GIVEN the organization or managed-app statement removed THEN it is reported only when organization statements are asked for', () => {
    const noOrg = without(icDoc(), SID.identityCenterOrganization);
    expect(missingIdentityCenterStatements(noOrg)).toEqual([]);
    expect(missingIdentityCenterStatements(noOrg, { includeOrganizationStatements: true })).toEqual([
      expect.stringMatching(/organization principals \(aws:PrincipalOrgID\).*AllowOrganizationPrincipalsViaIdentityCenter/),
    ]);
    expect(missingIdentityCenterStatements(without(icDoc(), SID.identityCenterManagedApps), { includeOrganizationStatements: true })).toEqual([
      expect.stringMatching(/AWS managed applications.*AllowAWSManagedApplicationsViaIdentityCenter/),
    ]);
  });

  it('GIVEN text that is not a policy THEN it says so instead of throwing', () => {
    expect(missingIdentityCenterStatements('{not json')).toEqual(['the key policy is not valid JSON']);
    expect(missingIdentityCenterStatements('{"Version":"2012-10-17"}')).toEqual(['the key policy has no Statement list']);
  });
});
