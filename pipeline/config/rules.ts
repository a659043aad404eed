/**
 * Rules that relate several fields of the config. They run on the validated, defaulted config, so
 * each can rely on every format already being right. Each returns issues in the same
 * `<path>: <value> <rule>` form as the schema's.
 */
import type { Config, KeyRingConfig, PipelineInfraConfig } from './types';
import { accountOfArn } from './patterns';
import { formatPath, showValue } from './issues';
import { GITHUB_OIDC_PROVIDER_ARN_PATTERN } from './schema';
import { multiRegionIssues } from './multi-region';
import { accessIssues } from './access';

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

/**
 * Names a stack's own parts already use (stacks/key-stack.ts): the provider, the backend and the
 * monitoring constructs, and `<name>-identity-center` for a key ring attached to Identity Center.
 * A key ring named like one of them would collide in its account+Region's stack at synth.
 */
const STACK_PART_NAMES = new Set(['aws', 'backend', 'monitoring', 'replica-monitoring']);

const namesFreeInStack: Rule = ({ keyrings }) =>
  keyrings.flatMap((k, index) => {
    if (STACK_PART_NAMES.has(k.name)) {
      return [issue(['keyrings', index, 'name'], k.name, `is a name its stack uses for itself (${[...STACK_PART_NAMES].join(', ')}); choose another`)];
    }
    const owner = keyrings.findIndex((o) => o.identityCenter !== undefined && `${o.name}-identity-center` === k.name && o.account === k.account && o.region === k.region);
    return owner < 0 ? [] : [issue(['keyrings', index, 'name'], k.name, `is the name keyrings[${owner}] (${keyrings[owner]!.name}) gives its Identity Center part in the same account and Region stack; choose another`)];
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

// ---- team mode (`pipeline`) ---------------------------------------------------------------

/** `arn:aws:iam::<account>:role/<roleName>`: the pipeline role the pipeline stack declares in `account`. */
export function pipelineRoleArn(account: string, pipeline: Pick<PipelineInfraConfig, 'roleName'>): string {
  return `arn:aws:iam::${account}:role/${pipeline.roleName}`;
}

/**
 * Accounts that get a pipeline role: every account with key rings, plus the team account when the
 * state lives in its DynamoDB table (the role there reads and writes it). Sorted, distinct.
 */
export function pipelineRoleAccounts(config: Pick<Config, 'keyrings' | 'state' | 'pipeline'>): string[] {
  const accounts = new Set(config.keyrings.map((k) => k.account));
  if (config.pipeline && config.state.type === 'dynamodb') accounts.add(config.pipeline.account);
  return [...accounts].sort();
}

/**
 * Key rings whose `pipelineRole` is not the role the pipeline stack declares in their account: the
 * key policy would trust one role while CI assumes another, and the first CreateKey would fail.
 */
export function pipelineRoleMismatches(config: Pick<Config, 'keyrings' | 'pipeline'>): string[] {
  const pipeline = config.pipeline;
  if (!pipeline) return [];
  return config.keyrings.flatMap((k, index) => {
    const declared = pipelineRoleArn(k.account, pipeline);
    if (k.pipelineRole === undefined || k.pipelineRole === declared) return [];
    return [
      issue(
        ['keyrings', index, 'pipelineRole'],
        k.pipelineRole,
        `(key ring ${k.name}) is not the pipeline role the pipeline stack declares in account ${k.account}, ${declared}; set pipelineRole to ${declared} or pipeline.roleName to the role's name`,
      ),
    ];
  });
}

const teamModeState: Rule = ({ state, pipeline }) => {
  if (state.type !== 'dynamodb') return [];
  if (!pipeline) {
    return [
      `${formatPath(['pipeline'])}: is required when state.type is "dynamodb" (the pipeline stack declares the state table ${state.table}); add { "account", "region": "${state.region}", "github": { "repository": "owner/name" } }`,
    ];
  }
  if (pipeline.region === state.region) return [];
  return [issue(['pipeline', 'region'], pipeline.region, `is not state.region ${state.region}; the state table lives in the pipeline's Region, so make them equal`)];
};

const teamModeTrust: Rule = ({ pipeline }) => {
  if (!pipeline) return [];
  const out = duplicates(pipeline.github.environments, (e) => e).map(({ index }) =>
    issue(['pipeline', 'github', 'environments', index], pipeline.github.environments[index], 'is listed twice'),
  );
  // GitHub OIDC is trusted by the CI identity only, which lives in the team account.
  const providerAccount = pipeline.oidcProviderArn === undefined ? undefined : GITHUB_OIDC_PROVIDER_ARN_PATTERN.exec(pipeline.oidcProviderArn)?.[1];
  if (providerAccount !== undefined && providerAccount !== pipeline.account) {
    out.push(
      issue(
        ['pipeline', 'oidcProviderArn'],
        pipeline.oidcProviderArn,
        `is in account ${providerAccount}, not the team account ${pipeline.account} (pipeline.account), where the CI identity trusts GitHub OIDC; name that account's provider or remove the field`,
      ),
    );
  }
  return out;
};

const teamModeRoles: Rule = (config) => pipelineRoleMismatches(config);

// ---- people ---------------------------------------------------------------------------------

/**
 * One name, one principal, one login, one AWS identity per person: a principal listed under two
 * people would make the gate's "who is who" ambiguous, so it is refused rather than guessed.
 */
const peopleAreDistinct: Rule = ({ people = [] }) => {
  const out = duplicates(people, (p) => p.name.toLowerCase()).map(({ index, first }) =>
    issue(['people', index, 'name'], people[index]!.name, `is already the name of people[${first}]; person names must be unique`),
  );
  const fields = ['signers', 'aws', 'github'] as const;
  for (const field of fields) {
    const owners = people.flatMap((p, index) => p[field].map((value, i) => ({ value, index, i })));
    duplicates(owners, (o) => o.value.toLowerCase()).forEach(({ index: at, first }) => {
      const o = owners[at]!;
      const f = owners[first]!;
      const where = f.index === o.index ? `is listed twice in people[${o.index}].${field}` : `already belongs to people[${f.index}] (${people[f.index]!.name}); one ${field === 'signers' ? 'principal' : field === 'aws' ? 'AWS identity' : 'GitHub login'} is one person`;
      out.push(issue(['people', o.index, field, o.i], o.value, where));
    });
  }
  return out;
};

const RULES: readonly Rule[] = [uniqueNames, namesFreeInStack, uniqueAliasPerAccountRegion, oneKeyRingPerInstance, perKeyRing, teamModeState, teamModeTrust, teamModeRoles, peopleAreDistinct, multiRegionIssues, accessIssues];

/** Every cross-field problem of a validated config (empty when it holds together). */
export function crossFieldIssues(config: Config): string[] {
  return RULES.flatMap((rule) => rule(config));
}
