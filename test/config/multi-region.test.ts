/**
 * The multi-Region config section (issue 12): a key ring's keys may be multi-Region with replica
 * Regions, Identity Center may have additional Regions, and the loader (so `rotate lint` and every
 * synth) refuses a multi-Region Identity Center attached to a single-Region key.
 */
import { issuesOf, parse, validConfig } from '../fixtures/config/configs';
import { keyRegions } from '../../pipeline/config/multi-region';
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../scripts/cli/main';

type Raw = ReturnType<typeof validConfig>;

function multiRegionConfig(): Raw {
  const raw = validConfig();
  raw.keyrings[0].multiRegion = { replicaRegions: ['eu-west-1', 'ap-southeast-2'] };
  raw.keyrings[0].identityCenter.additionalRegions = ['eu-west-1'];
  return raw;
}

describe('GIVEN a multi-Region key ring attached to a two-Region Identity Center', () => {
  it('THEN it loads, with the primary in the key ring region and the replicas in config order', () => {
    const keyring = parse(multiRegionConfig()).keyrings[0]!;
    expect(keyring.multiRegion).toEqual({ replicaRegions: ['eu-west-1', 'ap-southeast-2'] });
    expect(keyring.identityCenter?.additionalRegions).toEqual(['eu-west-1']);
    expect(keyRegions(keyring)).toEqual(['us-east-1', 'eu-west-1', 'ap-southeast-2']);
  });

  it('THEN a key ring without the section stays single-Region, with no additional Identity Center Regions', () => {
    const keyrings = parse(validConfig()).keyrings;
    expect(keyrings[0]!.multiRegion).toBeUndefined();
    expect(keyrings[0]!.identityCenter?.additionalRegions).toEqual([]);
    expect(keyRegions(keyrings[1]!)).toEqual(['eu-west-1']);
  });

  it('THEN `multiRegion: {}` is a multi-Region key without replicas yet', () => {
    const raw = validConfig();
    raw.keyrings[1].multiRegion = {};
    expect(parse(raw).keyrings[1]!.multiRegion).toEqual({ replicaRegions: [] });
  });

  it('THEN the on-demand rotation reserve defaults to 5 and inherits from defaults.rotation', () => {
    expect(parse(validConfig()).keyrings[0]!.rotation.onDemandRotationReserve).toBe(5);
    const raw = validConfig();
    raw.defaults = { rotation: { onDemandRotationReserve: 10 } };
    raw.keyrings[1].rotation = { onDemandRotationReserve: 0 };
    const [ic, payments] = parse(raw).keyrings;
    expect([ic!.rotation.onDemandRotationReserve, payments!.rotation.onDemandRotationReserve]).toEqual([10, 0]);
  });
});

describe('WHEN one multi-Region field is wrong THEN the loader names exactly that field and the fix', () => {
  type Case = [rule: string, breakIt: (raw: Raw) => void, expected: string | RegExp];
  const cases: Case[] = [
    [
      'a multi-Region Identity Center on a single-Region key ring',
      (r) => delete r.keyrings[0].multiRegion,
      /^keyrings\[0\]\.identityCenter\.additionalRegions\[0\]: "eu-west-1" makes Identity Center multi-Region, but key ring identity-center has single-Region keys: .*add "multiRegion": \{ "replicaRegions": \["eu-west-1"\] \}.*`rotate start identity-center`/,
    ],
    [
      'an Identity Center Region without a replica',
      (r) => (r.keyrings[0].identityCenter.additionalRegions = ['us-west-2']),
      'keyrings[0].identityCenter.additionalRegions[0]: "us-west-2" has no replica of key ring identity-center\'s key: add it to keyrings[0].multiRegion.replicaRegions (Identity Center needs a replica in each of its Regions)',
    ],
    [
      'Identity Center primary Region listed as additional',
      (r) => (r.keyrings[0].identityCenter.additionalRegions = ['us-east-1']),
      /^keyrings\[0\]\.identityCenter\.additionalRegions\[0\]: "us-east-1" is the key ring's region, which is Identity Center's primary Region/,
    ],
    [
      'a replica in the primary Region',
      (r) => (r.keyrings[0].multiRegion.replicaRegions = ['eu-west-1', 'us-east-1']),
      /^keyrings\[0\]\.multiRegion\.replicaRegions\[1\]: "us-east-1" is the key ring's own region \(where the primary key lives\)/,
    ],
    ['a replica Region twice', (r) => (r.keyrings[0].multiRegion.replicaRegions = ['eu-west-1', 'eu-west-1']), 'keyrings[0].multiRegion.replicaRegions[1]: "eu-west-1" is listed twice'],
    ['a replica Region that is not a Region', (r) => (r.keyrings[0].multiRegion.replicaRegions = ['eu-west-1', 'Europe']), 'keyrings[0].multiRegion.replicaRegions[1]: "Europe" is not an AWS Region code like us-east-1'],
    ['an unknown field in the section', (r) => (r.keyrings[0].multiRegion.primaryRegion = 'us-east-1'), 'keyrings[0].multiRegion.primaryRegion: unknown field; remove it or fix its spelling'],
    ['a reserve above 24', (r) => (r.keyrings[1].rotation = { onDemandRotationReserve: 25 }), /^keyrings\[1\]\.rotation\.onDemandRotationReserve: 25 /],
  ];
  it.each(cases)('%s', (_rule, breakIt, expected) => {
    const raw = multiRegionConfig();
    breakIt(raw);
    const issues = issuesOf(raw);
    expect(issues).toHaveLength(1);
    if (typeof expected === 'string') expect(issues[0]).toBe(expected);
    else expect(issues[0]).toMatch(expected);
  });

  it("a replica Region where another key ring already uses the alias (the alias follows the key into every Region)", () => {
    const raw = multiRegionConfig();
    raw.keyrings[1].account = '111111111111';
    raw.keyrings[1].keyAdministrators = ['arn:aws:iam::111111111111:role/KmsKeyAdministrator'];
    raw.keyrings[1].keyUsers = [];
    raw.keyrings[1].pipelineRole = 'arn:aws:iam::111111111111:role/keyrotor-pipeline';
    raw.keyrings[1].alias = 'alias/identity-center';
    expect(issuesOf(raw)).toEqual([
      'keyrings[0].multiRegion.replicaRegions[0]: "eu-west-1" would put alias alias/identity-center in eu-west-1, where keyrings[1] (payments) already uses it in account 111111111111; an alias names one key per account and Region',
    ]);
  });
});

it('GIVEN a multi-Region Identity Center on a single-Region key ring WHEN `rotate lint` runs THEN it exits 2 naming the field and the fix', async () => {
  const raw = multiRegionConfig();
  delete raw.keyrings[0].multiRegion;
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'keyrotor-lint-')), 'keyrings.json');
  writeFileSync(file, JSON.stringify(raw));
  let err = '';
  const code = await main(['node', 'rotate', '--config', file, 'lint'], { io: { out: () => undefined, err: (t) => (err += t), interactive: false, readLine: async () => undefined }, env: {} });
  expect(code).toBe(2);
  expect(err).toMatch(/keyrings\[0\]\.identityCenter\.additionalRegions\[0\]: "eu-west-1" makes Identity Center multi-Region, but key ring identity-center has single-Region keys/);
});
