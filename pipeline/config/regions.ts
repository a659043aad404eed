/**
 * Region names the config uses that AWS does not list. The schema checks only the shape
 * (`us-eest-1` passes it); a misspelt Region then fails far from the config — against AWS as an
 * endpoint that does not resolve, which reads as a network error worth retrying. `rotate lint`
 * reports each one, naming the field. The list is the AWS SDK's own partition data (the same the
 * clients resolve endpoints from), so a Region newer than the installed SDK shows up too: update
 * the SDK (`npm update`) rather than work around it.
 */
import { partition } from '@aws-sdk/core/client';
import type { Config } from './types';

export interface RegionFinding {
  /** The config field, e.g. `keyrings[payments].multiRegion.replicaRegions`. */
  readonly field: string;
  readonly region: string;
  readonly keyring?: string;
  readonly message: string;
}

/**
 * True when the SDK's partition data lists `region`. partition() answers any name that fits a
 * partition's pattern; only a listed Region comes back with its entry's fields (its description),
 * which the SDK's types do not declare — hence the `in` test (test/config/regions.test.ts pins it).
 */
export function isKnownRegion(region: string): boolean {
  try {
    const info: object = partition(region);
    return 'description' in info;
  } catch {
    return false;
  }
}

export function unknownRegions(config: Config): RegionFinding[] {
  const uses: Array<{ field: string; region: string; keyring?: string }> = [];
  for (const k of config.keyrings) {
    uses.push({ field: `keyrings[${k.name}].region`, region: k.region, keyring: k.name });
    for (const r of k.multiRegion?.replicaRegions ?? []) uses.push({ field: `keyrings[${k.name}].multiRegion.replicaRegions`, region: r, keyring: k.name });
    for (const r of k.identityCenter?.additionalRegions ?? []) uses.push({ field: `keyrings[${k.name}].identityCenter.additionalRegions`, region: r, keyring: k.name });
  }
  if (config.backend.type === 's3') uses.push({ field: 'backend.region', region: config.backend.region });
  if (config.state.type === 'dynamodb') uses.push({ field: 'state.region', region: config.state.region });
  if (config.pipeline) uses.push({ field: 'pipeline.region', region: config.pipeline.region });
  return uses
    .filter((u) => !isKnownRegion(u.region))
    .map((u) => ({
      ...u,
      message: `${u.field} is "${u.region}", which is not an AWS Region the installed AWS SDK knows: check the spelling (e.g. us-east-1, eu-west-1); if the Region is newer than the SDK, update it (npm update @aws-sdk/core)`,
    }));
}
