/**
 * The optional top-level `people` section: who is who for the approval gate. Each case breaks one
 * thing in an otherwise valid config and expects exactly that one message.
 */
import { issuesOf, parse, validConfig } from '../fixtures/config/configs';

type Raw = ReturnType<typeof validConfig> & { people?: unknown[] };

function withPeople(people: unknown[]): Raw {
  return { ...validConfig(), people } as Raw;
}

function expectOnly(raw: Raw, expected: string | RegExp): void {
  const issues = issuesOf(raw);
  expect(issues).toHaveLength(1);
  if (typeof expected === 'string') expect(issues[0]).toBe(expected);
  else expect(issues[0]).toMatch(expected);
}

const ALICE_SSO = 'arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_KeyAdmin_*/alice@example.com';

describe('people', () => {
  it('GIVEN no people THEN the loaded config has none', () => {
    expect(parse(validConfig()).people).toEqual([]);
  });

  it('GIVEN a person with signers, an Identity Center session, an IAM user and a GitHub login THEN each is kept, lists defaulting to empty', () => {
    const config = parse(withPeople([
      { name: 'alice', signers: ['alice@example.com'], aws: [ALICE_SSO, 'arn:aws:iam::111111111111:user/alice'], github: ['alice-gh'] },
      { name: 'ops-bot' },
    ]));
    expect(config.people).toEqual([
      { name: 'alice', signers: ['alice@example.com'], aws: [ALICE_SSO, 'arn:aws:iam::111111111111:user/alice'], github: ['alice-gh'] },
      { name: 'ops-bot', signers: [], aws: [], github: [] },
    ]);
  });

  it('GIVEN a role whose session name the caller chooses THEN it is refused: only names AWS sets tie a caller to a person', () => {
    expectOnly(withPeople([{ name: 'alice', aws: ['arn:aws:sts::111111111111:assumed-role/Admin/alice@example.com'] }]), /^people\[0\]\.aws\[0\]: .* is not an IAM user ARN .* only names AWS itself sets tie a caller to a person$/);
  });

  it('GIVEN a wildcard in the user name part THEN it is refused', () => {
    expectOnly(withPeople([{ name: 'alice', aws: ['arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_KeyAdmin_0a1b/*'] }]), /^people\[0\]\.aws\[0\]: /);
  });

  it('GIVEN a signer pattern instead of a literal principal THEN it is refused', () => {
    expectOnly(withPeople([{ name: 'alice', signers: ['*@example.com'] }]), /^people\[0\]\.signers\[0\]: "\*@example.com" is not a literal allowed_signers principal/);
  });

  it('GIVEN one principal under two people THEN the second is refused naming the first', () => {
    expectOnly(
      withPeople([{ name: 'alice', signers: ['alice@example.com'] }, { name: 'al', signers: ['ALICE@example.com'] }]),
      'people[1].signers[0]: "ALICE@example.com" already belongs to people[0] (alice); one principal is one person',
    );
  });

  it('GIVEN one GitHub login under two people, or two people with one name THEN each is refused', () => {
    expectOnly(withPeople([{ name: 'a', github: ['gh-a'] }, { name: 'b', github: ['gh-a'] }]), 'people[1].github[0]: "gh-a" already belongs to people[0] (a); one GitHub login is one person');
    expectOnly(withPeople([{ name: 'a' }, { name: 'A' }]), 'people[1].name: "A" is already the name of people[0]; person names must be unique');
  });

  it('GIVEN an unknown field THEN it is refused (a typo never falls back silently)', () => {
    expectOnly(withPeople([{ name: 'alice', sigers: ['alice@example.com'] }]), 'people[0].sigers: unknown field; remove it or fix its spelling');
  });
});
