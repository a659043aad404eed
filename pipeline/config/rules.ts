/**
 * Rules that relate several fields of the config. They run on the validated, defaulted config, so
 * each can rely on every format already being right. Each returns issues in the same
 * `<path>: <value> <rule>` form as the schema's.
 */
import type { Config, KeyRingConfig } from './types';
import { accountOfArn } from './patterns';
import { formatPath, showValue } from './issues';

type Rule = (config: Config) => string[];

function issue(path: readonly (string | number)[], value: unknown, rule: string): string {
  return `${formatPath(path)}: ${showValue(value)} ${rule}`;
}

/** For each value, the index where it was first seen; reports later repeats. */
function duplicates<T>(items: readonly T[], keyOf: (item: T) => string | undefined): Array<{ index: number; first: number }> {
  const seen = new Map<string, number>();
  const out: Array<{ index: number; first: number }> = [];
  items.forEach((item, index) => {
    const key = keyOf(item);
    if (key === undefined) return;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, index);
    else out.push({ index, first });
  });
  return out;
}

const uniqueNames: Rule = ({ keyrings }) =>
  duplicates(keyrings, (k) => k.name).map(({ index, first }) =>
    issue(['keyrings', index, 'name'], keyrings[index]!.name, `is already the name of keyrings[${first}]; key ring names must be unique`),
  );

const uniqueAliasPerAccountRegion: Rule = ({ keyrings }) =>
  duplicates(keyrings, (k) => `${k.account}/${k.region}/${k.alias}`).map(({ index, first }) => {
    const k = keyrings[index]!;
    return issue(
      ['keyrings', index, 'alias'],
      k.alias,
      `is already used by keyrings[${first}] in account ${k.account}, ${k.region}; an alias names one key per account and Region`,
    );
  });

// Identity Center accepts one encryption key per instance, so two key rings on one instance would fight.
const oneKeyRingPerInstance: Rule = ({ keyrings }) =>
  duplicates(keyrings, (k) => k.identityCenter?.instanceArn).map(({ index, first }) =>
    issue(
      ['keyrings', index, 'identityCenter', 'instanceArn'],
      keyrings[index]!.identityCenter!.instanceArn,
      `is already attached to keyrings[${first}]; an Identity Center instance is encrypted by one key ring`,
    ),
  );

function rolesInOwnAccount(k: KeyRingConfig, index: number): string[] {
  const roles: Array<{ at: Array<string | number>; arn: string }> = [
    ...k.keyAdministrators.map((arn, i) => ({ at: ['keyAdministrators', i], arn })),
    ...k.keyUsers.map((arn, i) => ({ at: ['keyUsers', i], arn })),
    ...(k.pipelineRole === undefined ? [] : [{ at: ['pipelineRole'], arn: k.pipelineRole }]),
  ];
  return roles
    .filter(({ arn }) => accountOfArn(arn) !== k.account)
    .map(({ at, arn }) =>
      issue(
        ['keyrings', index, ...at],
        arn,
        `is in account ${accountOfArn(arn)}, not the key ring's account ${k.account}; name roles of ${k.account} (other accounts get access through their own IAM policies)`,
      ),
    );
}

function identityCenterInOwnAccount(k: KeyRingConfig, index: number): string[] {
  const ic = k.identityCenter;
  if (!ic) return [];
  const out: string[] = [];
  // Instance ARNs carry neither account nor Region, and identity store ARNs carry no Region, so
  // the account is checked here through the identity store ARN; the instance's Region is checked
  // live by the preflight stage (DescribeInstance in the key ring's Region).
  const storeAccount = accountOfArn(ic.identityStoreArn);
  if (storeAccount !== k.account) {
    out.push(
      issue(
        ['keyrings', index, 'identityCenter', 'identityStoreArn'],
        ic.identityStoreArn,
        `is in account ${storeAccount}, not the key ring's account ${k.account}; Identity Center needs its key in its own (management) account`,
      ),
    );
  }
  ic.delegatedAdminAccounts.forEach((account, i) => {
    if (account === k.account) {
      out.push(
        issue(
          ['keyrings', index, 'identityCenter', 'delegatedAdminAccounts', i],
          account,
          'is the key ring\'s own account; list only delegated administrator accounts (the own account is always an administrator)',
        ),
      );
    }
  });
  duplicates(ic.delegatedAdminAccounts, (a) => a).forEach(({ index: i }) => {
    out.push(issue(['keyrings', index, 'identityCenter', 'delegatedAdminAccounts', i], ic.delegatedAdminAccounts[i], 'is listed twice'));
  });
  return out;
}

function uniqueCheckNames(k: KeyRingConfig, index: number): string[] {
  return duplicates(k.checks, (c) => c.name).map(({ index: i, first }) =>
    issue(['keyrings', index, 'checks', i, 'name'], k.checks[i]!.name, `is already the name of checks[${first}]; check names must be unique (they label evidence)`),
  );
}

const perKeyRing: Rule = ({ keyrings }) =>
  keyrings.flatMap((k, index) => [
    ...rolesInOwnAccount(k, index),
    ...identityCenterInOwnAccount(k, index),
    ...uniqueCheckNames(k, index),
  ]);

const RULES: readonly Rule[] = [uniqueNames, uniqueAliasPerAccountRegion, oneKeyRingPerInstance, perKeyRing];

/** Every cross-field problem of a validated config (empty when it holds together). */
export function crossFieldIssues(config: Config): string[] {
  return RULES.flatMap((rule) => rule(config));
}
