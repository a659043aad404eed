/**
 * The `access` section: which IAM role acts in each account, declared once for Terraform, the CLI
 * and the state store, and the one identity CI starts from.
 *
 *   "access": {
 *     "ciRole": "arn:aws:iam::<team>:role/keyrotor-ci",            the identity CI has (GitHub OIDC)
 *     "accounts": {
 *       "<account>": { "pipelineRole": "<role ARN>", "terraformRole": "<role ARN>" }
 *     },
 *     "stateRole": "<role ARN>",       the DynamoDB state store's own credentials (team account)
 *     "backendRole": "<role ARN>",     Terraform's S3 backend
 *     "bootstrapRoleName": "OrganizationAccountAccessRole",
 *     "github": { "deployEnvironments": ["production"], "planSubjects": ["ref:refs/heads/main"] }
 *   }
 *
 * In team mode (`pipeline` declared) every field has a default derived from the pipeline stack's
 * own roles, so `access` may be left out entirely; fields given override them. Without `pipeline`
 * and without `access`, nothing is assumed: every command uses the credentials it is given (as
 * before this section existed).
 *
 * The key policy's lockout rules decide what the roles may be: only the key ring's `pipelineRole`
 * and its key administrators may call PutKeyPolicy, DisableKey and ScheduleKeyDeletion, the
 * administrators only with MFA, and KMS refuses a CreateKey whose policy would lock its caller out
 * of PutKeyPolicy. So the role Terraform applies with is the pipeline role (CI sessions never carry
 * MFA) unless a human administrator applies; the rules below refuse anything else.
 */
import { z } from 'zod';
import type { AccessConfig, AccountRoles, Config, KeyRingConfig } from './types';
import { ACCOUNT_ID, accountOfArn, GITHUB_ENVIRONMENT, IAM_ROLE_NAME, ROLE_ARN, type FormatRule } from './patterns';
import { formatPath, showValue } from './issues';

export const DEFAULT_CI_ROLE_NAME = 'keyrotor-ci';
/** The role AWS Organizations creates in every member account it creates, trusted by the management account. */
export const DEFAULT_BOOTSTRAP_ROLE_NAME = 'OrganizationAccountAccessRole';
export const DEFAULT_DEPLOY_ENVIRONMENTS: readonly string[] = ['production'];
/**
 * OIDC subjects (after `repo:<owner>/<name>:`) of the deploy workflow's plan job. Main only by
 * default: a pull request's workflow code is not reviewed yet, and whoever can push a branch could
 * make it assume the CI identity (see README "Team mode").
 */
export const DEFAULT_PLAN_SUBJECTS: readonly string[] = ['ref:refs/heads/main'];

const formatted = (format: FormatRule) => z.string().regex(format.pattern, { error: format.rule });
const roleArn = formatted(ROLE_ARN);
// The part of a GitHub OIDC `sub` after `repo:<owner>/<name>:` — `ref:refs/heads/<branch>`,
// `environment:<name>` or `pull_request`; no wildcards (the trust compares with StringEquals).
const GITHUB_SUBJECT_SUFFIX: FormatRule = {
  pattern: /^(?:ref:refs\/(?:heads|tags)\/[A-Za-z0-9._\/-]{1,200}|environment:[A-Za-z0-9._-]{1,255}|pull_request)$/,
  rule: 'is not a GitHub OIDC subject suffix: "ref:refs/heads/<branch>", "ref:refs/tags/<tag>", "environment:<name>" or "pull_request" (no wildcards)',
};

export const accessSchema = z.strictObject({
  ciRole: roleArn.optional(),
  accounts: z
    .record(
      formatted(ACCOUNT_ID),
      z.strictObject({
        pipelineRole: roleArn,
        terraformRole: roleArn.optional(),
      }),
    )
    .default({}),
  stateRole: roleArn.optional(),
  backendRole: roleArn.optional(),
  bootstrapRoleName: formatted(IAM_ROLE_NAME).default(DEFAULT_BOOTSTRAP_ROLE_NAME),
  github: z
    .strictObject({
      deployEnvironments: z.array(formatted(GITHUB_ENVIRONMENT)).default([...DEFAULT_DEPLOY_ENVIRONMENTS]),
      planSubjects: z.array(formatted(GITHUB_SUBJECT_SUFFIX)).default([...DEFAULT_PLAN_SUBJECTS]),
    })
    .default({ deployEnvironments: [...DEFAULT_DEPLOY_ENVIRONMENTS], planSubjects: [...DEFAULT_PLAN_SUBJECTS] }),
});

export type RawAccess = z.output<typeof accessSchema>;

/** `arn:aws:iam::<account>:role/<name>`. */
export function roleArnIn(account: string, name: string): string {
  return `arn:aws:iam::${account}:role/${name}`;
}

/** Accounts that hold key rings, sorted. */
export function keyRingAccounts(keyrings: readonly Pick<KeyRingConfig, 'account'>[]): string[] {
  return [...new Set(keyrings.map((k) => k.account))].sort();
}

/**
 * The access section as it applies: the declared fields over the team-mode defaults. Undefined when
 * neither `access` nor `pipeline` is declared (nothing is assumed). Pure; also used on hand-built
 * configs that carry `pipeline` but no resolved `access`.
 */
export function resolveAccess(raw: RawAccess | undefined, config: Pick<Config, 'keyrings' | 'pipeline' | 'state'>): AccessConfig | undefined {
  const pipeline = config.pipeline;
  if (raw === undefined && pipeline === undefined) return undefined;
  const team = pipeline?.account;
  const declared = raw?.accounts ?? {};
  const accounts: Record<string, AccountRoles> = {};
  const derivedAccounts = pipeline ? [...keyRingAccounts(config.keyrings), ...(config.state.type === 'dynamodb' ? [pipeline.account] : [])] : [];
  for (const account of [...new Set([...derivedAccounts, ...Object.keys(declared)])].sort()) {
    const given = declared[account];
    const pipelineRole = given?.pipelineRole ?? roleArnIn(account, pipeline!.roleName);
    accounts[account] = { pipelineRole, terraformRole: given?.terraformRole ?? pipelineRole };
  }
  const teamPipelineRole = team === undefined ? undefined : accounts[team]?.pipelineRole ?? roleArnIn(team, pipeline!.roleName);
  const stateRole = raw?.stateRole ?? (config.state.type === 'dynamodb' ? teamPipelineRole : undefined);
  const backendRole = raw?.backendRole ?? teamPipelineRole;
  const ciRole = raw?.ciRole ?? (team === undefined ? undefined : roleArnIn(team, DEFAULT_CI_ROLE_NAME));
  return {
    ...(ciRole === undefined ? {} : { ciRole }),
    accounts,
    ...(stateRole === undefined ? {} : { stateRole }),
    ...(backendRole === undefined ? {} : { backendRole }),
    bootstrapRoleName: raw?.bootstrapRoleName ?? DEFAULT_BOOTSTRAP_ROLE_NAME,
    github: {
      deployEnvironments: raw?.github.deployEnvironments ?? [...DEFAULT_DEPLOY_ENVIRONMENTS],
      planSubjects: raw?.github.planSubjects ?? [...DEFAULT_PLAN_SUBJECTS],
    },
  };
}

/** The config's access, resolving the team-mode defaults for configs built in code. */
export function accessOf(config: Pick<Config, 'access' | 'keyrings' | 'pipeline' | 'state'>): AccessConfig | undefined {
  return config.access ?? resolveAccess(undefined, config);
}

/** The roles of `account`, when the config declares (or team mode derives) them. */
export function rolesOf(config: Pick<Config, 'access' | 'keyrings' | 'pipeline' | 'state'>, account: string): AccountRoles | undefined {
  return accessOf(config)?.accounts[account];
}

/**
 * A key ring's pipelineRole, declared once: the key ring's own, else its account's in `access`.
 * (resolveConfig applies it, so key policies name the role the pipeline really acts as.)
 */
export function withAccountPipelineRole(keyring: KeyRingConfig, access: AccessConfig | undefined): KeyRingConfig {
  if (keyring.pipelineRole !== undefined) return keyring;
  const role = access?.accounts[keyring.account]?.pipelineRole;
  return role === undefined ? keyring : { ...keyring, pipelineRole: role };
}

// ---- rules -------------------------------------------------------------------------------

function issue(path: readonly (string | number)[], value: unknown, rule: string): string {
  return `${formatPath(path)}: ${showValue(value)} ${rule}`;
}

/** Same account and role name: a role's path is not part of an STS session ARN, and names are unique per account. */
export function sameRole(a: string, b: string): boolean {
  const name = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);
  return accountOfArn(a) === accountOfArn(b) && name(a) === name(b);
}

/** Every problem of the access section of a validated config (empty when it holds together). */
export function accessIssues(config: Config): string[] {
  const access = config.access;
  if (!access) return [];
  const out: string[] = [];

  for (const [account, roles] of Object.entries(access.accounts)) {
    for (const field of ['pipelineRole', 'terraformRole'] as const) {
      if (accountOfArn(roles[field]) !== account) {
        out.push(issue(['access', 'accounts', account, field], roles[field], `is in account ${accountOfArn(roles[field])}, not ${account}; name a role of ${account} (each account's roles act in that account)`));
      }
    }
  }

  // Every account with key rings needs its roles: a half-declared organization would act in some
  // accounts as one identity and in others as another.
  const missing = new Map<string, string[]>();
  config.keyrings.forEach((k) => {
    if (access.accounts[k.account] === undefined) missing.set(k.account, [...(missing.get(k.account) ?? []), k.name]);
  });
  for (const [account, names] of missing) {
    out.push(`${formatPath(['access', 'accounts'])}: has no entry for account ${account} (key rings ${names.join(', ')}); add "${account}": { "pipelineRole": "arn:aws:iam::${account}:role/<name>" }`);
  }

  // (In team mode the pipeline section's own rule names a key ring whose pipelineRole differs.)
  if (!config.pipeline) config.keyrings.forEach((k, index) => {
    const roles = access.accounts[k.account];
    if (!roles || k.pipelineRole === undefined) return;
    if (!sameRole(k.pipelineRole, roles.pipelineRole)) {
      out.push(issue(['keyrings', index, 'pipelineRole'], k.pipelineRole, `(key ring ${k.name}) is not access.accounts["${k.account}"].pipelineRole ${roles.pipelineRole}; declare the role once: remove the key ring's pipelineRole, or make the two equal`));
    }
  });

  // The lockout rules: who applies must keep PutKeyPolicy under the key policy.
  for (const [account, roles] of Object.entries(access.accounts)) {
    if (sameRole(roles.terraformRole, roles.pipelineRole)) continue;
    const own = config.keyrings.filter((k) => k.account === account);
    const notAdmin = own.filter((k) => !k.keyAdministrators.some((admin) => sameRole(admin, roles.terraformRole)));
    const at = ['access', 'accounts', account, 'terraformRole'];
    if (notAdmin.length > 0) {
      out.push(issue(at, roles.terraformRole, `is neither the account's pipelineRole nor a key administrator of ${notAdmin.map((k) => k.name).join(', ')}: their key policies deny it PutKeyPolicy, so KMS would refuse Terraform's CreateKey (lockout safety check) and every policy update; use the pipelineRole, or list it in keyAdministrators`));
    } else if (config.pipeline) {
      out.push(issue(at, roles.terraformRole, `is a key administrator, which the key policy lets act only with MFA, and the deploy workflow applies through GitHub OIDC, whose sessions never carry MFA; in team mode Terraform applies with the pipelineRole (remove terraformRole)`));
    }
  }

  if (config.pipeline) {
    const team = config.pipeline.account;
    const declaredRole = (account: string) => roleArnIn(account, config.pipeline!.roleName);
    for (const [account, roles] of Object.entries(access.accounts)) {
      if (!sameRole(roles.pipelineRole, declaredRole(account))) {
        out.push(issue(['access', 'accounts', account, 'pipelineRole'], roles.pipelineRole, `is not the pipeline role the pipeline stack declares in ${account}, ${declaredRole(account)}; set it to that role (or pipeline.roleName to the role's name)`));
      }
    }
    if (access.ciRole !== undefined) {
      if (accountOfArn(access.ciRole) !== team) {
        out.push(issue(['access', 'ciRole'], access.ciRole, `is not in the team account ${team} (pipeline.account), where the pipeline stack declares the CI identity`));
      }
      if (Object.values(access.accounts).some((r) => sameRole(r.pipelineRole, access.ciRole!))) {
        out.push(issue(['access', 'ciRole'], access.ciRole, 'is also a pipeline role; the CI identity only assumes the pipeline roles, so give it its own name (default keyrotor-ci)'));
      }
    }
    const dupes = access.github.deployEnvironments.filter((e, i, all) => all.indexOf(e) !== i);
    for (const env of new Set(dupes)) out.push(issue(['access', 'github', 'deployEnvironments'], env, 'is listed twice'));
  }
  if (config.state.type === 'dynamodb' && access.stateRole !== undefined && config.pipeline && accountOfArn(access.stateRole) !== config.pipeline.account) {
    out.push(issue(['access', 'stateRole'], access.stateRole, `is not in the team account ${config.pipeline.account}, which holds the state table ${config.state.table}`));
  }
  return out;
}
