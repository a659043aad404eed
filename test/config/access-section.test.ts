/**
 * The `access` section: per-account roles declared once (pipelineRole, terraformRole), the CI
 * identity, the state and backend roles — their team-mode defaults, the key rings' pipelineRole
 * taken from them, and the rules the key policy's lockout imposes. Each bad case breaks one thing.
 */
import { issuesOf, parse, validConfig } from '../fixtures/config/configs';

type Raw = ReturnType<typeof validConfig>;

const A = '111111111111';
const B = '222222222222';
const role = (account: string, name: string) => `arn:aws:iam::${account}:role/${name}`;

function withAccess(): Raw {
  const raw = validConfig();
  delete raw.keyrings[0].pipelineRole;
  delete raw.keyrings[1].pipelineRole;
  raw.access = { accounts: { [A]: { pipelineRole: role(A, 'rotator') }, [B]: { pipelineRole: role(B, 'rotator') } } };
  return raw;
}

function teamConfig(): Raw {
  const raw = validConfig();
  raw.state = { type: 'dynamodb', table: 'keyrotor-state', region: 'us-east-1' };
  raw.pipeline = { account: A, region: 'us-east-1', github: { repository: 'example-org/keyrotor' } };
  return raw;
}

function expectOnly(raw: Raw, expected: RegExp): void {
  const issues = issuesOf(raw);
  expect(issues).toHaveLength(1);
  expect(issues[0]).toMatch(expected);
}

describe('defaults', () => {
  it('GIVEN neither `access` nor `pipeline` THEN the config has no access (every command uses the credentials it is given)', () => {
    expect('access' in parse(validConfig())).toBe(false);
  });

  it('GIVEN team mode without `access` THEN every account gets the pipeline role for the CLI and Terraform, the team account its CI identity, state and backend role', () => {
    const access = parse(teamConfig()).access!;
    expect(access).toEqual({
      ciRole: role(A, 'keyrotor-ci'),
      accounts: {
        [A]: { pipelineRole: role(A, 'keyrotor-pipeline'), terraformRole: role(A, 'keyrotor-pipeline') },
        [B]: { pipelineRole: role(B, 'keyrotor-pipeline'), terraformRole: role(B, 'keyrotor-pipeline') },
      },
      stateRole: role(A, 'keyrotor-pipeline'),
      backendRole: role(A, 'keyrotor-pipeline'),
      bootstrapRoleName: 'OrganizationAccountAccessRole',
      github: { deployEnvironments: ['production'], planSubjects: ['ref:refs/heads/main'] },
    });
  });

  it('GIVEN a role declared once per account THEN key rings without their own pipelineRole take their account\'s (and their key policies name it)', () => {
    const config = parse(withAccess());
    expect(config.keyrings.map((k) => k.pipelineRole)).toEqual([role(A, 'rotator'), role(B, 'rotator')]);
    expect(config.access!.accounts[B]).toEqual({ pipelineRole: role(B, 'rotator'), terraformRole: role(B, 'rotator') });
  });

  it('GIVEN team mode with a state table in an account without key rings THEN that account gets a role too (the state role)', () => {
    const raw = teamConfig();
    raw.pipeline.account = '333333333333';
    raw.access = { accounts: {} };
    const access = parse(raw).access!;
    expect(Object.keys(access.accounts)).toEqual([A, B, '333333333333']);
    expect(access.stateRole).toBe(role('333333333333', 'keyrotor-pipeline'));
  });
});

describe('rules', () => {
  it('GIVEN an account with key rings but no entry THEN the account and its key rings are named', () => {
    const raw = withAccess();
    delete raw.access.accounts[B];
    raw.keyrings[1].pipelineRole = role(B, 'rotator');
    expectOnly(raw, /^access\.accounts: has no entry for account 222222222222 \(key rings payments\)/);
  });

  it('GIVEN a role of another account THEN the field, the value and both accounts are named', () => {
    const raw = withAccess();
    raw.access.accounts[B].pipelineRole = role(A, 'rotator');
    const issues = issuesOf(raw);
    expect(issues).toContainEqual(expect.stringMatching(/^access\.accounts\["222222222222"\]\.pipelineRole: "arn:aws:iam::111111111111:role\/rotator" is in account 111111111111, not 222222222222/));
  });

  it('GIVEN a key ring whose own pipelineRole differs from its account\'s THEN it is refused: the role is declared once', () => {
    const raw = withAccess();
    raw.keyrings[1].pipelineRole = role(B, 'other');
    expectOnly(raw, /^keyrings\[1\]\.pipelineRole: .* \(key ring payments\) is not access\.accounts\["222222222222"\]\.pipelineRole/);
  });

  it('GIVEN a terraformRole that is neither the pipelineRole nor a key administrator THEN the lockout is explained', () => {
    const raw = withAccess();
    raw.access.accounts[B].terraformRole = role(B, 'terraform');
    expectOnly(raw, /terraformRole: .* is neither the account's pipelineRole nor a key administrator of payments: their key policies deny it PutKeyPolicy, so KMS would refuse Terraform's CreateKey/);
  });

  it('GIVEN a terraformRole that is a key administrator THEN it is accepted outside team mode (a person applies, with MFA)', () => {
    const raw = withAccess();
    raw.access.accounts[B].terraformRole = role(B, 'KmsKeyAdministrator');
    expect(issuesOf(raw)).toEqual([]);
  });

  it('GIVEN team mode and a key administrator as terraformRole THEN it is refused: CI sessions never carry MFA', () => {
    const raw = teamConfig();
    raw.access = { accounts: { [B]: { pipelineRole: role(B, 'keyrotor-pipeline'), terraformRole: role(B, 'KmsKeyAdministrator') } } };
    expectOnly(raw, /is a key administrator, which the key policy lets act only with MFA, and the deploy workflow applies through GitHub OIDC/);
  });

  it('GIVEN team mode and a pipelineRole other than the one the pipeline stack declares THEN both ARNs are named', () => {
    const raw = teamConfig();
    raw.keyrings[1].pipelineRole = role(B, 'elsewhere');
    raw.access = { accounts: { [B]: { pipelineRole: role(B, 'elsewhere') } } };
    const issues = issuesOf(raw);
    expect(issues).toContainEqual(expect.stringMatching(/access\.accounts\["222222222222"\]\.pipelineRole: .* is not the pipeline role the pipeline stack declares in 222222222222, arn:aws:iam::222222222222:role\/keyrotor-pipeline/));
  });

  it('GIVEN a CI role outside the team account, or equal to a pipeline role THEN each is named', () => {
    const raw = teamConfig();
    raw.access = { ciRole: role(B, 'keyrotor-ci') };
    expectOnly(raw, /^access\.ciRole: .* is not in the team account 111111111111/);
    raw.access = { ciRole: role(A, 'keyrotor-pipeline') };
    expectOnly(raw, /^access\.ciRole: .* is also a pipeline role/);
  });

  it('GIVEN a plan subject with a wildcard or an unknown shape THEN it is rejected naming the accepted forms', () => {
    const raw = teamConfig();
    raw.access = { github: { planSubjects: ['ref:refs/heads/*'] } };
    expectOnly(raw, /^access\.github\.planSubjects\[0\]: "ref:refs\/heads\/\*" is not a GitHub OIDC subject suffix/);
  });

  it('GIVEN an unknown field THEN it is named', () => {
    const raw = withAccess();
    raw.access.accounts[A].role = role(A, 'x');
    expectOnly(raw, /access\.accounts\["111111111111"\]/);
  });
});
