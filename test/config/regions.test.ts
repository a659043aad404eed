/**
 * Region names are checked against the AWS SDK's own list, not only their shape: a misspelt Region
 * would otherwise fail far from the config, against AWS as an endpoint that does not resolve.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isKnownRegion, unknownRegions } from '../../pipeline/config/regions';
import { main } from '../../scripts/cli/main';
import { parse, validConfig } from '../fixtures/config/configs';

describe('Region names', () => {
  it('GIVEN Regions of every partition THEN they are known; a misspelling or a number AWS never used is not', () => {
    for (const region of ['us-east-1', 'eu-west-1', 'ap-southeast-2', 'eu-central-2', 'us-gov-west-1', 'cn-north-1']) expect([region, isKnownRegion(region)]).toEqual([region, true]);
    for (const region of ['us-eest-1', 'eu-west-9', 'us-east1', 'mars-north-1']) expect([region, isKnownRegion(region)]).toEqual([region, false]);
  });

  it('GIVEN a config with a misspelt key ring Region and replica Region THEN each is a finding naming its field', () => {
    const raw = validConfig();
    raw.keyrings[0].region = 'us-eest-1';
    raw.keyrings[1].multiRegion = { replicaRegions: ['eu-wset-1'] };
    const findings = unknownRegions(parse(raw));
    expect(findings.map((f) => [f.field, f.region])).toEqual([
      ['keyrings[identity-center].region', 'us-eest-1'],
      ['keyrings[payments].multiRegion.replicaRegions', 'eu-wset-1'],
    ]);
    expect(findings[0]!.message).toContain('check the spelling');
    expect(unknownRegions(parse(validConfig()))).toEqual([]);
  });

  it('GIVEN a misspelt Region WHEN `rotate lint --json` runs THEN it exits 1 with the Region finding', async () => {
    const raw = validConfig();
    raw.keyrings[0].region = 'us-eest-1';
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'keyrotor-lint-regions-')), 'keyrings.json');
    writeFileSync(file, JSON.stringify(raw));
    let out = '';
    const code = await main(['node', 'rotate', '--config', file, '--json', 'lint'], { io: { out: (t) => (out += t), err: () => undefined, interactive: false, readLine: async () => undefined }, env: {} });
    expect(code).toBe(1);
    expect(JSON.parse(out).regionFindings).toEqual([expect.objectContaining({ field: 'keyrings[identity-center].region', region: 'us-eest-1', keyring: 'identity-center' })]);
  });
});
