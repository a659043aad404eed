/**
 * The optional top-level `pipeline` section (team mode): its defaults, its formats and the rules
 * that tie it to the state store and to the key rings' `pipelineRole`. Each case breaks one thing
 * in an otherwise valid config and expects exactly that one message.
 */
import { issuesOf, parse, validConfig } from '../fixtures/config/configs';

type Raw = ReturnType<typeof validConfig>;

/** The valid fixture in team mode: DynamoDB state in 111111111111/us-east-1, the default role name. */
function teamConfig(): Raw {
  const raw = validConfig();
  raw.state = { type: 'dynamodb', table: 'keyrotor-state', region: 'us-east-1' };
  raw.pipeline = { account: '111111111111', region: 'us-east-1', github: { repository: 'example-org/keyrotor' } };
  return raw;
}

function expectOnly(raw: Raw, expected: string | RegExp): void {
  const issues = issuesOf(raw);
  expect(issues).toHaveLength(1);
  if (typeof expected === 'string') expect(issues[0]).toBe(expected);
  else expect(issues[0]).toMatch(expected);
}

describe('defaults', () => {
  it('GIVEN a config without `pipeline` THEN the loaded config has no pipeline key at all (existing configs load as before)', () => {
    expect('pipeline' in parse(validConfig())).toBe(false);
  });

  it('GIVEN only account, region and repository THEN roleName is keyrotor-pipeline and the environments are the rotation workflow\'s', () => {
    expect(parse(teamConfig()).pipeline).toEqual({
      account: '111111111111',
      region: 'us-east-1',
      roleName: 'keyrotor-pipeline',
      github: { repository: 'example-org/keyrotor', environments: ['rotation', 'key-deletion'] },
    });
  });

  it('GIVEN every field set THEN each is taken as declared', () => {
    const raw = teamConfig();
    raw.pipeline.roleName = 'ci-keyrotor';
    raw.pipeline.github.environments = ['prod-rotation'];
    raw.pipeline.oidcProviderArn = 'arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com';
    raw.keyrings[0].pipelineRole = 'arn:aws:iam::111111111111:role/ci-keyrotor';
    raw.keyrings[1].pipelineRole = 'arn:aws:iam::222222222222:role/ci-keyrotor';
    expect(parse(raw).pipeline).toEqual({
      account: '111111111111',
      region: 'us-east-1',
      roleName: 'ci-keyrotor',
      github: { repository: 'example-org/keyrotor', environments: ['prod-rotation'] },
      oidcProviderArn: 'arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com',
    });
  });

  it('GIVEN `pipeline` with the file state store THEN it is valid (roles and OIDC trust without a state table)', () => {
    const raw = teamConfig();
    delete raw.state;
    raw.pipeline.region = 'eu-central-1';
    expect(issuesOf(raw)).toEqual([]);
  });
});

describe('formats', () => {
  it.each([
    ['no owner', 'keyrotor'],
    ['three segments', 'example-org/keyrotor/extra'],
    ['a wildcard', 'example-org/*'],
    ['a colon that would forge the OIDC subject', 'example-org/keyrotor:environment:prod'],
    ['an owner starting with "-"', '-org/keyrotor'],
  ])('GIVEN a repository with %s THEN it is rejected as not owner/name', (_case, repository) => {
    const raw = teamConfig();
    raw.pipeline.github.repository = repository;
    expectOnly(raw, `pipeline.github.repository: ${JSON.stringify(repository)} is not a GitHub repository like "owner/name"`);
  });

  it('GIVEN an environment with a wildcard THEN it is rejected', () => {
    const raw = teamConfig();
    raw.pipeline.github.environments = ['rotation', 'prod*'];
    expectOnly(raw, 'pipeline.github.environments[1]: "prod*" is not a GitHub environment name (1–255 of A-Z a-z 0-9 . _ -)');
  });

  it('GIVEN an empty environment list THEN it is rejected (it would trust no workflow)', () => {
    const raw = teamConfig();
    raw.pipeline.github.environments = [];
    expectOnly(raw, 'pipeline.github.environments: must name at least one GitHub environment (an empty list would trust no workflow)');
  });

  it('GIVEN an environment listed twice THEN the repeat is reported', () => {
    const raw = teamConfig();
    raw.pipeline.github.environments = ['rotation', 'rotation'];
    expectOnly(raw, 'pipeline.github.environments[1]: "rotation" is listed twice');
  });

  it('GIVEN a role name with a slash THEN it is rejected as not an IAM role name', () => {
    const raw = teamConfig();
    raw.pipeline.roleName = 'team/keyrotor';
    expectOnly(raw, /^pipeline\.roleName: "team\/keyrotor" is not an IAM role name/);
  });

  it('GIVEN an OIDC provider ARN of another issuer THEN it is rejected', () => {
    const raw = teamConfig();
    raw.pipeline.oidcProviderArn = 'arn:aws:iam::111111111111:oidc-provider/gitlab.com';
    expectOnly(raw, /^pipeline\.oidcProviderArn: "arn:aws:iam::111111111111:oidc-provider\/gitlab.com" is not the ARN of a GitHub OIDC provider/);
  });

  it('GIVEN an unknown field in `pipeline.github` THEN it is named', () => {
    const raw = teamConfig();
    raw.pipeline.github.branch = 'main';
    expectOnly(raw, 'pipeline.github.branch: unknown field; remove it or fix its spelling');
  });

  it('GIVEN a bad account id THEN it is rejected', () => {
    const raw = teamConfig();
    raw.pipeline.account = '1234';
    expectOnly(raw, 'pipeline.account: "1234" is not a 12-digit AWS account id');
  });
});

describe('rules', () => {
  it('GIVEN a DynamoDB state store without `pipeline` THEN the section is required, naming the table and the Region', () => {
    const raw = teamConfig();
    delete raw.pipeline;
    expectOnly(raw, /^pipeline: is required when state\.type is "dynamodb" \(the pipeline stack declares the state table keyrotor-state\).*"region": "us-east-1"/);
  });

  it('GIVEN the pipeline Region differs from the state table\'s THEN the mismatch is reported with both Regions', () => {
    const raw = teamConfig();
    raw.pipeline.region = 'eu-west-1';
    expectOnly(raw, 'pipeline.region: "eu-west-1" is not state.region us-east-1; the state table lives in the pipeline\'s Region, so make them equal');
  });

  it('GIVEN a key ring whose pipelineRole is not the declared role THEN the key ring and both ARNs are named', () => {
    const raw = teamConfig();
    raw.keyrings[1].pipelineRole = 'arn:aws:iam::222222222222:role/legacy-pipeline';
    expectOnly(
      raw,
      'keyrings[1].pipelineRole: "arn:aws:iam::222222222222:role/legacy-pipeline" (key ring payments) is not the pipeline role the pipeline stack declares in account 222222222222, arn:aws:iam::222222222222:role/keyrotor-pipeline; set pipelineRole to arn:aws:iam::222222222222:role/keyrotor-pipeline or pipeline.roleName to the role\'s name',
    );
  });

  it('GIVEN a key ring without pipelineRole THEN team mode does not require one', () => {
    const raw = teamConfig();
    delete raw.keyrings[1].pipelineRole;
    expect(issuesOf(raw)).toEqual([]);
  });

  it('GIVEN an OIDC provider outside the team account THEN it is rejected: only the CI identity, in the team account, trusts GitHub OIDC', () => {
    const raw = teamConfig();
    raw.pipeline.oidcProviderArn = 'arn:aws:iam::222222222222:oidc-provider/token.actions.githubusercontent.com';
    expectOnly(raw, /^pipeline\.oidcProviderArn: .* is in account 222222222222, not the team account 111111111111 \(pipeline\.account\), where the CI identity trusts GitHub OIDC/);
  });
});
