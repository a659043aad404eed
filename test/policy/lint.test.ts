import * as path from 'node:path';
import { loadConfig } from '../../pipeline/config/load';
import { buildKeyPolicy } from '../../pipeline/policy/builder';
import { describeFinding, lintConfig, lintKeyPolicy, type LintFinding } from '../../pipeline/policy/lint';
import { SID } from '../../pipeline/policy/sids';
import type { KeyPolicyDocument, PolicyStatement } from '../../pipeline/policy/types';
import type { KeyRingConfig } from '../../pipeline/config/types';
import { identityCenterKeyRing, loadedKeyRing, parse, validConfig, workloadKeyRing } from '../fixtures/config/configs';

const workload = loadedKeyRing(workloadKeyRing());
const attached = loadedKeyRing(identityCenterKeyRing(), (k) => (k.identityCenter.delegatedAdminAccounts = ['333333333333']));

const withExtra = (keyring: KeyRingConfig, ...extra: PolicyStatement[]): KeyPolicyDocument => {
  const doc = buildKeyPolicy(keyring);
  return { ...doc, Statement: [...doc.Statement, ...extra] };
};
const rulesOf = (findings: LintFinding[]) => findings.map((f) => [f.sid, f.rule]);

describe('GIVEN the policies the builder makes', () => {
  it('THEN the committed example config lints clean', () => {
    expect(lintConfig(loadConfig(path.resolve(__dirname, '../../keyrings.json')))).toEqual([]);
  });

  it('THEN workload and Identity Center key rings (with delegated admins) lint clean', () => {
    expect(lintKeyPolicy(buildKeyPolicy(workload), { keyring: workload })).toEqual([]);
    expect(lintKeyPolicy(buildKeyPolicy(attached), { keyring: attached })).toEqual([]);
  });
});

describe('rule wildcard-principal-without-conditions', () => {
  it('GIVEN an Allow to "*" with no Condition THEN the statement is named', () => {
    const doc = withExtra(workload, { Sid: 'OpenDoor', Effect: 'Allow', Principal: '*', Action: 'kms:Decrypt', Resource: '*' });
    const findings = lintKeyPolicy(doc, { keyring: workload });
    expect(rulesOf(findings)).toEqual([['OpenDoor', 'wildcard-principal-without-conditions']]);
    expect(findings[0]!.message).toMatch(/any principal/);
  });

  it('GIVEN {"AWS": "*"} with an empty Condition THEN it is flagged too', () => {
    const doc = withExtra(workload, { Sid: 'Empty', Effect: 'Allow', Principal: { AWS: '*' }, Action: 'kms:Decrypt', Resource: '*', Condition: {} });
    expect(rulesOf(lintKeyPolicy(doc, { keyring: workload }))).toEqual([['Empty', 'wildcard-principal-without-conditions']]);
  });

  it('GIVEN a statement without a Sid THEN it is named by its position', () => {
    const doc = withExtra(workload, { Sid: '', Effect: 'Allow', Principal: '*', Action: 'kms:Decrypt', Resource: '*' });
    expect(lintKeyPolicy(doc, { keyring: workload })[0]!.sid).toBe(`Statement[${doc.Statement.length - 1}]`);
  });

  it('GIVEN a wildcard Deny without conditions THEN it is not this rule\'s business', () => {
    const doc = withExtra(workload, { Sid: 'DenyAll', Effect: 'Deny', Principal: '*', Action: 'kms:CreateGrant', Resource: '*' });
    expect(lintKeyPolicy(doc, { keyring: workload })).toEqual([]);
  });
});

describe('rule kms-star-for-non-admin', () => {
  it('GIVEN kms:* for a role THEN it is flagged naming the principal', () => {
    const doc = withExtra(workload, { Sid: 'AppAll', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::222222222222:role/app' }, Action: 'kms:*', Resource: '*' });
    const findings = lintKeyPolicy(doc, { keyring: workload });
    expect(rulesOf(findings)).toEqual([['AppAll', 'kms-star-for-non-admin']]);
    expect(findings[0]!.message).toContain('arn:aws:iam::222222222222:role/app');
  });

  it('GIVEN "*" as the action, or a NotAction, THEN it counts as every KMS action', () => {
    const doc = withExtra(
      workload,
      { Sid: 'Star', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::222222222222:role/app' }, Action: '*', Resource: '*' },
      { Sid: 'NotAction', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::222222222222:role/app' }, NotAction: 'kms:ScheduleKeyDeletion', Resource: '*' },
    );
    expect(rulesOf(lintKeyPolicy(doc, { keyring: workload }))).toEqual([
      ['Star', 'kms-star-for-non-admin'],
      ['NotAction', 'kms-star-for-non-admin'],
    ]);
  });

  it('GIVEN kms:* for another account\'s root THEN it is flagged; for a delegated admin account\'s root it is allowed (AWS\'s baseline)', () => {
    const other = withExtra(attached, { Sid: 'Other', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::999999999999:root' }, Action: 'kms:*', Resource: '*' });
    expect(rulesOf(lintKeyPolicy(other, { keyring: attached }))).toEqual([['Other', 'kms-star-for-non-admin']]);
    const delegated = withExtra(attached, { Sid: 'Delegated', Effect: 'Allow', Principal: { AWS: ['arn:aws:iam::333333333333:root', '111111111111'] }, Action: 'kms:*', Resource: '*' });
    expect(lintKeyPolicy(delegated, { keyring: attached })).toEqual([]);
  });

  it('GIVEN kms:* to "*" with no condition THEN both rules fire on that statement', () => {
    const doc = withExtra(workload, { Sid: 'Everything', Effect: 'Allow', Principal: '*', Action: 'kms:*', Resource: '*' });
    expect(rulesOf(lintKeyPolicy(doc, { keyring: workload }))).toEqual([
      ['Everything', 'wildcard-principal-without-conditions'],
      ['Everything', 'kms-star-for-non-admin'],
    ]);
  });
});

describe('rule identity-center-statement-missing', () => {
  it.each([SID.identityCenterDescribe, SID.identityCenterUse, SID.identityCenterOrganization, SID.identityCenterManagedApps])(
    'GIVEN an attached key ring whose policy lacks %s THEN a finding names that Sid',
    (sid) => {
      const doc = buildKeyPolicy(attached);
      const findings = lintKeyPolicy({ ...doc, Statement: doc.Statement.filter((s) => s.Sid !== sid) }, { keyring: attached });
      expect(findings.length).toBeGreaterThan(0);
      expect(findings.every((f) => f.sid === sid && f.rule === 'identity-center-statement-missing')).toBe(true);
      expect(findings[0]!.message).toContain('key ring identity-center is attached to Identity Center');
    },
  );

  it('GIVEN a key ring that is not attached THEN the Identity Center statements are not required', () => {
    expect(lintKeyPolicy(buildKeyPolicy(workload), { keyring: workload })).toEqual([]);
  });

  it('GIVEN an attached key ring linted against a policy built without the attachment THEN every baseline Sid is named', () => {
    const findings = lintKeyPolicy(buildKeyPolicy(workload), { keyring: { ...workload, identityCenter: attached.identityCenter } });
    expect(new Set(findings.map((f) => f.sid))).toEqual(
      new Set([SID.identityCenterDescribe, SID.identityCenterUse, SID.identityCenterOrganization, SID.identityCenterManagedApps]),
    );
  });
});

describe('rule deletion-window-below-floor', () => {
  const withoutFloor = (keyring: KeyRingConfig): KeyPolicyDocument => {
    const doc = buildKeyPolicy(keyring);
    return { ...doc, Statement: doc.Statement.filter((s) => s.Sid !== SID.denyShortDeletionWindow) };
  };
  const floorStatement = (operator: string, days: string): PolicyStatement => ({
    Sid: 'Floor',
    Effect: 'Deny',
    Principal: '*',
    Action: 'kms:ScheduleKeyDeletion',
    Resource: '*',
    Condition: { [operator]: { 'kms:ScheduleKeyDeletionPendingWindowInDays': days } },
  });

  it('GIVEN no Deny floor statement THEN the missing floor Sid is named', () => {
    const findings = lintKeyPolicy(withoutFloor(workload), { keyring: workload });
    expect(rulesOf(findings)).toEqual([[SID.denyShortDeletionWindow, 'deletion-window-below-floor']]);
    expect(findings[0]!.message).toContain('window of 30 days');
  });

  it('GIVEN a floor weaker than the key ring\'s window THEN that statement is named with both numbers', () => {
    const doc = { ...withoutFloor(workload), Statement: [...withoutFloor(workload).Statement, floorStatement('NumericLessThan', '7')] };
    const findings = lintKeyPolicy(doc, { keyring: workload });
    expect(rulesOf(findings)).toEqual([['Floor', 'deletion-window-below-floor']]);
    expect(findings[0]!.message).toBe("denies deletion windows below 7 days, weaker than the key ring's window of 30 days; raise the floor to 30");
  });

  it('GIVEN NumericLessThanEquals 29 (i.e. a floor of 30) THEN it holds for a 30-day window', () => {
    const doc = { ...withoutFloor(workload), Statement: [...withoutFloor(workload).Statement, floorStatement('NumericLessThanEquals', '29')] };
    expect(lintKeyPolicy(doc, { keyring: workload })).toEqual([]);
  });

  it('GIVEN a key ring window below KMS\'s minimum of 7 (built in code, not from the config) THEN it is flagged', () => {
    const tooShort: KeyRingConfig = { ...workload, rotation: { ...workload.rotation, deletionWindowDays: 3 } };
    expect(rulesOf(lintKeyPolicy(buildKeyPolicy(tooShort), { keyring: tooShort }))).toEqual([[SID.denyShortDeletionWindow, 'deletion-window-below-floor']]);
  });

  it('GIVEN a key ring whose window was raised after the policy was built THEN the stale floor is flagged', () => {
    const built = buildKeyPolicy(loadedKeyRing(workloadKeyRing(), (k) => (k.rotation = { deletionWindowDays: 7 })));
    expect(rulesOf(lintKeyPolicy(built, { keyring: workload }))).toEqual([[SID.denyShortDeletionWindow, 'deletion-window-below-floor']]);
  });
});

describe('rule bypass-lockout-safety-check', () => {
  it('GIVEN an Allow of PutKeyPolicy conditioned on bypassing the safety check THEN it is flagged', () => {
    const doc = withExtra(workload, {
      Sid: 'Bypass',
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::222222222222:role/KmsKeyAdministrator' },
      Action: 'kms:Put*',
      Resource: '*',
      Condition: { Bool: { 'kms:BypassPolicyLockoutSafetyCheck': 'true' } },
    });
    expect(rulesOf(lintKeyPolicy(doc, { keyring: workload }))).toEqual([['Bypass', 'bypass-lockout-safety-check']]);
  });
});

describe('lintConfig', () => {
  it('GIVEN a key ring whose policy exceeds 32 KB THEN the finding names the key ring and the limit', () => {
    const raw = validConfig();
    raw.keyrings[1].keyUsers = Array.from({ length: 600 }, (_, i) => `arn:aws:iam::222222222222:role/service-${i}`);
    const findings = lintConfig(parse(raw));
    expect(findings).toEqual([
      { sid: '(whole policy)', rule: 'policy-too-large', keyring: 'payments', message: expect.stringMatching(/key ring payments is \d+ bytes, above KMS's limit of 32768 bytes/) },
    ]);
    expect(describeFinding(findings[0]!)).toMatch(/^key ring payments: statement "\(whole policy\)" breaks policy-too-large: /);
  });
});
