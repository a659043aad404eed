/**
 * The multi-Region part of keyrings.json, in one place (schema and cross-field rules), so the rest
 * of the config schema only references it:
 *
 * - `keyrings[].multiRegion` — the key ring's keys are multi-Region keys. The primary lives in the
 *   key ring's `region`; `replicaRegions` get a replica of every generation (`ReplicateKey`), each
 *   with the same policy (KMS does not synchronize policies between a primary and its replicas).
 * - `keyrings[].identityCenter.additionalRegions` — the Regions Identity Center was replicated to
 *   besides its primary Region (the key ring's `region`). Identity Center refuses an additional
 *   Region unless the instance's key is a multi-Region key with a replica there ("Using IAM Identity
 *   Center across multiple AWS Regions", prerequisites), so every additional Region must be a
 *   replica Region of a multi-Region key ring.
 */
import { z } from 'zod';
import type { Config, KeyRingConfig } from './types';
import { formatPath, showValue } from './issues';
import { REGION, type FormatRule } from './patterns';

const formatted = (format: FormatRule) => z.string().regex(format.pattern, { error: format.rule });

/** `keyrings[].multiRegion`. */
export const multiRegionSchema = z.strictObject({
  replicaRegions: z.array(formatted(REGION)).default([]),
});

/** Fields the Identity Center attachment gains (merged into its schema with `.extend`). */
export const identityCenterRegionsShape = {
  additionalRegions: z.array(formatted(REGION)).default([]),
};

function issue(path: readonly (string | number)[], value: unknown, rule: string): string {
  return `${formatPath(path)}: ${showValue(value)} ${rule}`;
}

function repeats(values: readonly string[]): number[] {
  return values.flatMap((v, i) => (values.indexOf(v) < i ? [i] : []));
}

function replicaRegionIssues(k: KeyRingConfig, index: number): string[] {
  const replicas = k.multiRegion?.replicaRegions ?? [];
  const at = (i: number) => ['keyrings', index, 'multiRegion', 'replicaRegions', i];
  return [
    ...replicas.flatMap((region, i) =>
      region === k.region ? [issue(at(i), region, `is the key ring's own region (where the primary key lives); list only the other Regions that get a replica`)] : [],
    ),
    ...repeats(replicas).map((i) => issue(at(i), replicas[i], 'is listed twice')),
  ];
}

/** The lint rule of issue 12: a multi-Region Identity Center needs a multi-Region key with a replica in each of its Regions. */
function identityCenterRegionIssues(k: KeyRingConfig, index: number): string[] {
  const regions = k.identityCenter?.additionalRegions ?? [];
  const at = (i: number) => ['keyrings', index, 'identityCenter', 'additionalRegions', i];
  const out = repeats(regions).map((i) => issue(at(i), regions[i], 'is listed twice'));
  regions.forEach((region, i) => {
    if (region === k.region) {
      out.push(issue(at(i), region, `is the key ring's region, which is Identity Center's primary Region; list only the Regions it was replicated to`));
    } else if (!k.multiRegion) {
      out.push(
        issue(
          at(i),
          region,
          `makes Identity Center multi-Region, but key ring ${k.name} has single-Region keys: Identity Center needs a multi-Region key with a replica in every additional Region; add "multiRegion": { "replicaRegions": ["${regions.join('", "')}"] } to the key ring and rotate to a multi-Region key (\`rotate start ${k.name}\`) before adding the Region`,
        ),
      );
    } else if (!k.multiRegion.replicaRegions.includes(region)) {
      out.push(issue(at(i), region, `has no replica of key ring ${k.name}'s key: add it to keyrings[${index}].multiRegion.replicaRegions (Identity Center needs a replica in each of its Regions)`));
    }
  });
  return out;
}

/** An alias names one key per account and Region, and a multi-Region key ring's alias exists in each replica Region too. */
function aliasesAcrossRegions(keyrings: readonly KeyRingConfig[]): string[] {
  const owners = new Map<string, number>();
  keyrings.forEach((k, index) => {
    if (!owners.has(`${k.account}/${k.region}/${k.alias}`)) owners.set(`${k.account}/${k.region}/${k.alias}`, index);
  });
  const out: string[] = [];
  keyrings.forEach((k, index) => {
    (k.multiRegion?.replicaRegions ?? []).forEach((region, i) => {
      const id = `${k.account}/${region}/${k.alias}`;
      const first = owners.get(id);
      if (first === undefined) owners.set(id, index);
      else if (first !== index) {
        out.push(
          issue(
            ['keyrings', index, 'multiRegion', 'replicaRegions', i],
            region,
            `would put alias ${k.alias} in ${region}, where keyrings[${first}] (${keyrings[first]!.name}) already uses it in account ${k.account}; an alias names one key per account and Region`,
          ),
        );
      }
    });
  });
  return out;
}

/** Every multi-Region problem of a validated config (empty when it holds together). */
export function multiRegionIssues(config: Pick<Config, 'keyrings'>): string[] {
  return [
    ...config.keyrings.flatMap((k, index) => [...replicaRegionIssues(k, index), ...identityCenterRegionIssues(k, index)]),
    ...aliasesAcrossRegions(config.keyrings),
  ];
}

/** The Regions a key ring's keys live in: the primary's first, then the replicas' in config order. */
export function keyRegions(keyring: Pick<KeyRingConfig, 'region' | 'multiRegion'>): string[] {
  return [keyring.region, ...(keyring.multiRegion?.replicaRegions ?? [])];
}
