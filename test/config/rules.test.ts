/**
 * One case per config rule: GIVEN a valid config with exactly one field broken, THEN the loader
 * reports exactly that problem, naming the path, the value and the rule.
 */
import { issuesOf, validConfig } from '../fixtures/config/configs';

type Raw = ReturnType<typeof validConfig>;
type Case = [rule: string, breakIt: (raw: Raw) => void, expected: string | RegExp];

function expectOnly(breakIt: (raw: Raw) => void, expected: string | RegExp): void {
  const raw = validConfig();
  breakIt(raw);
  const issues = issuesOf(raw);
  expect(issues).toHaveLength(1);
  if (typeof expected === 'string') expect(issues[0]).toBe(expected);
  else expect(issues[0]).toMatch(expected);
}

it('GIVEN the valid fixture THEN it loads without issues (the baseline every case breaks once)', () => {
  expect(issuesOf(validConfig())).toEqual([]);
});

describe('shape', () => {
  const cases: Case[] = [
    ['unknown top-level field', (r) => (r.keyring = []), 'keyring: unknown field; remove it or fix its spelling'],
    ['unknown key ring field', (r) => (r.keyrings[0].admins = []), 'keyrings[0].admins: unknown field; remove it or fix its spelling'],
    ['unknown nested field', (r) => (r.keyrings[1].rotation = { deletionWindow: 7 }), 'keyrings[1].rotation.deletionWindow: unknown field; remove it or fix its spelling'],
    ['unknown field in the Identity Center attachment', (r) => (r.keyrings[0].identityCenter.region = 'us-east-1'), 'keyrings[0].identityCenter.region: unknown field; remove it or fix its spelling'],
    ['required field missing', (r) => delete r.keyrings[1].account, 'keyrings[1].account: is required (a string)'],
    ['wrong type', (r) => (r.keyrings[1].keyUsers = 'arn:aws:iam::222222222222:role/x'), 'keyrings[1].keyUsers: "arn:aws:iam::222222222222:role/x" is a string, expected an array'],
    ['no key rings', (r) => (r.keyrings = []), 'keyrings: must declare at least one key ring'],
    ['key ring name starting with a digit', (r) => (r.keyrings[1].name = '1password'), /^keyrings\[1\]\.name: "1password" .*starting with a letter \(Terraform names cannot start with a digit\)/],
    ['version other than 1', (r) => (r.version = 2), 'version: 2 must be 1 (the only config version)'],
    ['backend type unknown', (r) => (r.backend = { type: 'gcs' }), /^backend\.type: "gcs" has no valid "type"; expected one of "s3", "local"/],
    ['s3 backend without a bucket', (r) => (r.backend = { region: 'us-east-1' }), 'backend.bucket: is required (a string)'],
    ['s3 bucket name invalid', (r) => (r.backend.bucket = 'Bad_Bucket'), /^backend\.bucket: "Bad_Bucket" is not a valid S3 bucket name/],
    ['monitoring e-mail invalid', (r) => (r.monitoring = { emailSubscriptions: ['not-an-address'] }), 'monitoring.emailSubscriptions[0]: "not-an-address" is not an e-mail address'],
    ['tag key with a reserved prefix', (r) => (r.keyrings[1].tags = { 'aws:owner': 'x' }), /^keyrings\[1\]\.tags\["aws:owner"\]: key "aws:owner" uses a reserved prefix/],
    ['keyrotor tag prefix reserved', (r) => (r.keyrings[1].tags = { 'keyrotor:generation': '1' }), /key "keyrotor:generation" uses a reserved prefix/],
  ];
  it.each(cases)('%s', (_rule, breakIt, expected) => expectOnly(breakIt, expected));

  it('GIVEN $schema at the top level THEN it is accepted', () => {
    const raw = validConfig();
    raw.$schema = './keyrings.schema.json';
    expect(issuesOf(raw)).toEqual([]);
  });
});

describe('names and aliases', () => {
  const cases: Case[] = [
    ['name with uppercase', (r) => (r.keyrings[1].name = 'Payments'), /^keyrings\[1\]\.name: "Payments" must be 1–40 characters of lowercase letters/],
    ['name longer than 40', (r) => (r.keyrings[1].name = 'a'.repeat(41)), /^keyrings\[1\]\.name: "a{41}" must be 1–40/],
    ['name ending with -', (r) => (r.keyrings[1].name = 'payments-'), /and not ending with "-"/],
    ['names unique', (r) => (r.keyrings[1].name = 'identity-center'), 'keyrings[1].name: "identity-center" is already the name of keyrings[0]; key ring names must be unique'],
    ['a name the stack uses for itself', (r) => (r.keyrings[1].name = 'monitoring'), 'keyrings[1].name: "monitoring" is a name its stack uses for itself (aws, backend, monitoring, replica-monitoring); choose another'],
    [
      'the name of another key ring\'s Identity Center part in the same stack',
      (r) => r.keyrings.push({ ...r.keyrings[0], name: 'identity-center-identity-center', alias: 'alias/other', identityCenter: undefined }),
      'keyrings[2].name: "identity-center-identity-center" is the name keyrings[0] (identity-center) gives its Identity Center part in the same account and Region stack; choose another',
    ],
    ['alias without the alias/ prefix', (r) => (r.keyrings[1].alias = 'payments'), 'keyrings[1].alias: "payments" is not a KMS alias name: it must start with "alias/" and use only A-Z a-z 0-9 / _ -'],
    ['alias with a forbidden character', (r) => (r.keyrings[1].alias = 'alias/pay.ments'), /^keyrings\[1\]\.alias: "alias\/pay\.ments" is not a KMS alias name/],
    ['alias with only the prefix', (r) => (r.keyrings[1].alias = 'alias/'), /^keyrings\[1\]\.alias: "alias\/" is not a KMS alias name/],
    ['alias longer than 256', (r) => (r.keyrings[1].alias = `alias/${'a'.repeat(251)}`), /^keyrings\[1\]\.alias: "alias\/a+\.\.\. is longer than the maximum of 256 characters$/],
    ['alias in the reserved alias/aws/ namespace', (r) => (r.keyrings[1].alias = 'alias/aws/payments'), 'keyrings[1].alias: "alias/aws/payments" uses the prefix alias/aws/, which KMS reserves for AWS managed keys; choose another alias'],
    [
      'alias unique per account and Region',
      (r) => r.keyrings.push({ ...r.keyrings[1], name: 'payments-2' }),
      'keyrings[2].alias: "alias/payments" is already used by keyrings[1] in account 222222222222, eu-west-1; an alias names one key per account and Region',
    ],
  ];
  it.each(cases)('%s', (_rule, breakIt, expected) => expectOnly(breakIt, expected));

  it('GIVEN an alias 256 characters long THEN it is accepted (the limit is inclusive)', () => {
    const raw = validConfig();
    raw.keyrings[1].alias = `alias/${'a'.repeat(250)}`;
    expect(issuesOf(raw)).toEqual([]);
  });

  it('GIVEN the same alias in another Region or account THEN it is accepted', () => {
    const raw = validConfig();
    raw.keyrings.push({ ...raw.keyrings[1], name: 'payments-us', region: 'us-east-1' });
    expect(issuesOf(raw)).toEqual([]);
  });
});

describe('accounts, Regions and role ARNs', () => {
  const cases: Case[] = [
    ['account id not 12 digits', (r) => (r.keyrings[1].account = '22222222222'), 'keyrings[1].account: "22222222222" is not a 12-digit AWS account id'],
    ['account id with letters', (r) => (r.keyrings[1].account = '22222222222a'), /is not a 12-digit AWS account id/],
    ['Region format', (r) => (r.keyrings[1].region = 'eu_west_1'), 'keyrings[1].region: "eu_west_1" is not an AWS Region code like us-east-1'],
    ['backend Region format', (r) => (r.backend.region = 'EU'), 'backend.region: "EU" is not an AWS Region code like us-east-1'],
    ['no key administrator', (r) => (r.keyrings[1].keyAdministrators = []), 'keyrings[1].keyAdministrators: needs at least one administrator role ARN'],
    ['administrator is a user, not a role', (r) => (r.keyrings[1].keyAdministrators = ['arn:aws:iam::222222222222:user/alice']), /^keyrings\[1\]\.keyAdministrators\[0\]: "arn:aws:iam::222222222222:user\/alice" is not an IAM role ARN/],
    ['role ARN with a short account', (r) => (r.keyrings[1].keyUsers = ['arn:aws:iam::2222:role/app']), /^keyrings\[1\]\.keyUsers\[0\]: .* is not an IAM role ARN/],
    ['pipeline role malformed', (r) => (r.keyrings[1].pipelineRole = 'keyrotor-pipeline'), /^keyrings\[1\]\.pipelineRole: "keyrotor-pipeline" is not an IAM role ARN/],
    [
      'administrator in another account',
      (r) => (r.keyrings[1].keyAdministrators = ['arn:aws:iam::111111111111:role/KmsKeyAdministrator']),
      /^keyrings\[1\]\.keyAdministrators\[0\]: "arn:aws:iam::111111111111:role\/KmsKeyAdministrator" is in account 111111111111, not the key ring's account 222222222222/,
    ],
    ['key user in another account', (r) => r.keyrings[1].keyUsers.push('arn:aws:iam::333333333333:role/app'), /^keyrings\[1\]\.keyUsers\[1\]: .* is in account 333333333333, not the key ring's account 222222222222/],
    ['pipeline role in another account', (r) => (r.keyrings[1].pipelineRole = 'arn:aws:iam::111111111111:role/keyrotor-pipeline'), /^keyrings\[1\]\.pipelineRole: .* is in account 111111111111, not the key ring's account/],
  ];
  it.each(cases)('%s', (_rule, breakIt, expected) => expectOnly(breakIt, expected));

  it('GIVEN role ARNs with a path THEN they are accepted', () => {
    const raw = validConfig();
    raw.keyrings[1].keyUsers = ['arn:aws:iam::222222222222:role/service-role/payments/app-runner'];
    expect(issuesOf(raw)).toEqual([]);
  });
});

describe('Identity Center attachment', () => {
  const cases: Case[] = [
    ['instance ARN format', (r) => (r.keyrings[0].identityCenter.instanceArn = 'arn:aws:sso:::instance/ssoins-XYZ'), /^keyrings\[0\]\.identityCenter\.instanceArn: "arn:aws:sso:::instance\/ssoins-XYZ" is not an Identity Center instance ARN/],
    ['instance ARN with an account', (r) => (r.keyrings[0].identityCenter.instanceArn = 'arn:aws:sso::111111111111:instance/ssoins-7223f2cd9d6a6b51'), /is not an Identity Center instance ARN/],
    ['identity store ARN format', (r) => (r.keyrings[0].identityCenter.identityStoreArn = 'arn:aws:identitystore::111111111111:identitystore/d-123'), /^keyrings\[0\]\.identityCenter\.identityStoreArn: .* is not an identity store ARN/],
    [
      'identity store in another account than the key ring',
      (r) => (r.keyrings[0].identityCenter.identityStoreArn = 'arn:aws:identitystore::222222222222:identitystore/d-9067c0a1b2'),
      /^keyrings\[0\]\.identityCenter\.identityStoreArn: .* is in account 222222222222, not the key ring's account 111111111111/,
    ],
    ['organization id format', (r) => (r.keyrings[0].identityCenter.organizationId = 'o-123'), 'keyrings[0].identityCenter.organizationId: "o-123" is not an AWS Organizations id (o- followed by 10–32 lowercase letters or digits)'],
    ['delegated admin account format', (r) => (r.keyrings[0].identityCenter.delegatedAdminAccounts = ['12345']), 'keyrings[0].identityCenter.delegatedAdminAccounts[0]: "12345" is not a 12-digit AWS account id'],
    ['delegated admin is the key ring\'s own account', (r) => (r.keyrings[0].identityCenter.delegatedAdminAccounts = ['111111111111']), /^keyrings\[0\]\.identityCenter\.delegatedAdminAccounts\[0\]: "111111111111" is the key ring's own account/],
    ['delegated admin listed twice', (r) => (r.keyrings[0].identityCenter.delegatedAdminAccounts = ['333333333333', '333333333333']), 'keyrings[0].identityCenter.delegatedAdminAccounts[1]: "333333333333" is listed twice'],
    [
      'at most one key ring per instance',
      (r) => r.keyrings.push({ ...r.keyrings[0], name: 'identity-center-2', alias: 'alias/identity-center-2' }),
      'keyrings[2].identityCenter.instanceArn: "arn:aws:sso:::instance/ssoins-7223f2cd9d6a6b51" is already attached to keyrings[0]; an Identity Center instance is encrypted by one key ring',
    ],
  ];
  it.each(cases)('%s', (_rule, breakIt, expected) => expectOnly(breakIt, expected));
});

describe('ranges', () => {
  const cases: Case[] = [
    ['deletion window below 7', (r) => (r.keyrings[1].rotation = { deletionWindowDays: 3 }), 'keyrings[1].rotation.deletionWindowDays: 3 is below the minimum of 7'],
    ['deletion window above 30', (r) => (r.keyrings[1].rotation = { deletionWindowDays: 31 }), 'keyrings[1].rotation.deletionWindowDays: 31 is above the maximum of 30'],
    ['deletion window not whole', (r) => (r.keyrings[1].rotation = { deletionWindowDays: 7.5 }), 'keyrings[1].rotation.deletionWindowDays: 7.5 is a number, expected a whole number'],
    ['rotation period below 90', (r) => (r.keyrings[1].rotation = { automaticRotationPeriodDays: 89 }), 'keyrings[1].rotation.automaticRotationPeriodDays: 89 is below the minimum of 90'],
    ['rotation period above 2560', (r) => (r.keyrings[1].rotation = { automaticRotationPeriodDays: 2561 }), 'keyrings[1].rotation.automaticRotationPeriodDays: 2561 is above the maximum of 2560'],
    ['negative soak', (r) => (r.keyrings[1].rotation = { minimumSoakHours: -1 }), 'keyrings[1].rotation.minimumSoakHours: -1 is below the minimum of 0'],
    ['quorum 0', (r) => (r.keyrings[1].approvals = { quorum: 0 }), 'keyrings[1].approvals.quorum: 0 is below the minimum of 1'],
    ['quorum above 10', (r) => (r.keyrings[1].approvals = { quorum: 11 }), 'keyrings[1].approvals.quorum: 11 is above the maximum of 10'],
    ['approval lifetime 0', (r) => (r.keyrings[1].approvals = { lifetimeHours: 0 }), 'keyrings[1].approvals.lifetimeHours: 0 is below the minimum of 1'],
    ['approval lifetime above 720', (r) => (r.keyrings[1].approvals = { lifetimeHours: 721 }), 'keyrings[1].approvals.lifetimeHours: 721 is above the maximum of 720'],
    ['empty allowed signers path', (r) => (r.keyrings[1].approvals = { allowedSignersFile: '' }), 'keyrings[1].approvals.allowedSignersFile: "" must not be empty'],
    ['a broken default is named under defaults', (r) => (r.defaults = { rotation: { deletionWindowDays: 3 } }), 'defaults.rotation.deletionWindowDays: 3 is below the minimum of 7'],
    ['unknown field under defaults', (r) => (r.defaults = { checks: [] }), 'defaults.checks: unknown field; remove it or fix its spelling'],
  ];
  it.each(cases)('%s', (_rule, breakIt, expected) => expectOnly(breakIt, expected));

  it('GIVEN the inclusive limits (7, 30, 90, 2560, quorum 1 and 10, lifetime 1 and 720) THEN they are accepted', () => {
    for (const [rotation, approvals] of [
      [{ deletionWindowDays: 7, automaticRotationPeriodDays: 90, minimumSoakHours: 0 }, { quorum: 1, lifetimeHours: 1 }],
      [{ deletionWindowDays: 30, automaticRotationPeriodDays: 2560 }, { quorum: 10, lifetimeHours: 720 }],
    ]) {
      const raw = validConfig();
      raw.keyrings[1].rotation = rotation;
      raw.keyrings[1].approvals = approvals;
      expect(issuesOf(raw)).toEqual([]);
    }
  });
});

describe('check commands', () => {
  const cases: Case[] = [
    ['empty argv', (r) => (r.keyrings[1].checks = [{ name: 'c', command: [] }]), 'keyrings[1].checks[0].command: must be a non-empty argv array, e.g. ["node", "check.js"]'],
    ['empty program name', (r) => (r.keyrings[1].checks = [{ name: 'c', command: [''] }]), 'keyrings[1].checks[0].command[0]: "" must not be empty'],
    ['a shell string instead of argv', (r) => (r.keyrings[1].checks = [{ name: 'c', command: 'node check.js' }]), 'keyrings[1].checks[0].command: "node check.js" is a string, expected an array'],
    ['missing command', (r) => (r.keyrings[1].checks = [{ name: 'c' }]), 'keyrings[1].checks[0].command: is required (an array)'],
    ['timeout 0', (r) => (r.keyrings[1].checks = [{ name: 'c', command: ['true'], timeoutSeconds: 0 }]), 'keyrings[1].checks[0].timeoutSeconds: 0 is below the minimum of 1'],
    [
      'duplicate check names',
      (r) => (r.keyrings[1].checks = [{ name: 'c', command: ['true'] }, { name: 'c', command: ['false'] }]),
      'keyrings[1].checks[1].name: "c" is already the name of checks[0]; check names must be unique (they label evidence)',
    ],
  ];
  it.each(cases)('%s', (_rule, breakIt, expected) => expectOnly(breakIt, expected));
});
