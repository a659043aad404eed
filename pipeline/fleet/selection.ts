/**
 * Which key rings a fleet command acts on. Selectors of one kind widen the selection (`--account A
 * --account B`: either), selectors of different kinds narrow it (`--account A --region eu-west-1`:
 * both); `--all` takes every key ring and is the only way to mean "everything", so a forgotten
 * flag never rotates an organization. A selector that can match nothing is an error naming what
 * exists, and so is an empty selection.
 */
import type { Config, KeyRingConfig } from '../config/types';
import { KeyrotorError } from '../errors';

export interface FleetSelector {
  readonly all?: boolean;
  readonly accounts?: readonly string[];
  readonly regions?: readonly string[];
  /** Key ring names; `*` matches any run of characters (`payments-*`). */
  readonly names?: readonly string[];
  /** `key=value` (the key ring's `tags`); `key` alone matches any value. */
  readonly tags?: readonly string[];
}

function refuse(message: string, nextStep: string): never {
  throw new KeyrotorError(message, { fault: 'operator', nextStep });
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

function parseTag(text: string): { key: string; value?: string } {
  const at = text.indexOf('=');
  const key = at < 0 ? text : text.slice(0, at);
  if (key === '') refuse(`--tag ${JSON.stringify(text)} has no tag key`, 'write --tag key=value (or --tag key for any value)');
  return at < 0 ? { key } : { key, value: text.slice(at + 1) };
}

/** One-line description of a selector, for summaries (`account 111111111111, tag owner=payments`). */
export function describeSelector(selector: FleetSelector): string {
  if (selector.all) return 'all key rings';
  const parts = [
    ...(selector.accounts ?? []).map((a) => `account ${a}`),
    ...(selector.regions ?? []).map((r) => `Region ${r}`),
    ...(selector.names ?? []).map((n) => `name ${n}`),
    ...(selector.tags ?? []).map((t) => `tag ${t}`),
  ];
  return parts.join(', ');
}

export function selectKeyRings(config: Pick<Config, 'keyrings' | 'file'>, selector: FleetSelector): KeyRingConfig[] {
  const { accounts = [], regions = [], names = [], tags = [] } = selector;
  const narrowed = accounts.length + regions.length + names.length + tags.length > 0;
  if (!selector.all && !narrowed) {
    refuse('say which key rings the fleet command acts on', 'add --all, or narrow it with --account ID, --region R, --name GLOB or --tag KEY=VALUE (each may repeat)');
  }
  if (selector.all && narrowed) refuse('--all cannot be combined with --account, --region, --name or --tag', 'use --all alone, or only the narrowing selectors');

  const known = (values: readonly string[]) => [...new Set(values)].sort().join(', ');
  for (const account of accounts) {
    if (!config.keyrings.some((k) => k.account === account)) refuse(`--account ${account}: no key ring of ${config.file} is in that account`, `known accounts: ${known(config.keyrings.map((k) => k.account))}`);
  }
  for (const region of regions) {
    if (!config.keyrings.some((k) => k.region === region)) refuse(`--region ${region}: no key ring of ${config.file} is in that Region`, `known Regions: ${known(config.keyrings.map((k) => k.region))}`);
  }
  const namePatterns = names.map((n) => ({ text: n, re: globToRegExp(n) }));
  for (const pattern of namePatterns) {
    if (!config.keyrings.some((k) => pattern.re.test(k.name))) refuse(`--name ${pattern.text}: matches no key ring of ${config.file}`, `key rings: ${known(config.keyrings.map((k) => k.name))}`);
  }
  const tagFilters = tags.map(parseTag);

  const selected = config.keyrings.filter(
    (k) =>
      (accounts.length === 0 || accounts.includes(k.account)) &&
      (regions.length === 0 || regions.includes(k.region)) &&
      (namePatterns.length === 0 || namePatterns.some((p) => p.re.test(k.name))) &&
      (tagFilters.length === 0 || tagFilters.some((t) => t.key in k.tags && (t.value === undefined || k.tags[t.key] === t.value))),
  );
  if (selected.length === 0) refuse(`no key ring matches ${describeSelector(selector)}`, 'loosen the selection (selectors of different kinds must all match)');
  return selected;
}
