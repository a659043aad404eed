import { z } from 'zod';
import { KeyrotorError } from '../pipeline/errors';
import type { RoleDefinition } from './roles';

/** The organization an emulator starts with: accounts, Identity Center instances, STS callers. */
export interface OrganizationSeed {
  readonly organizationId: string; // o-…
  readonly managementAccount: string; // 12 digits
  readonly accounts: readonly string[]; // incl. the management account
  readonly instances: readonly {
    readonly account: string;
    readonly region: string;
    readonly instanceArn: string; // arn:aws:sso:::instance/ssoins-<16 hex>
    readonly identityStoreId: string; // d-<10 alnum>
    readonly name?: string;
    readonly users?: readonly { readonly userName: string; readonly displayName?: string }[];
    readonly groups?: readonly { readonly displayName: string }[];
    /** Accounts registered as delegated administrators of the instance (they may read it). */
    readonly delegatedAdministrators?: readonly string[];
  }[];
  /** STS callers: access key id → principal ARN (its account is the caller's account). */
  readonly principals?: readonly { readonly accessKeyId: string; readonly arn: string }[];
  /** IAM roles STS AssumeRole can hand out sessions for, with who may assume them (see RoleDefinition). */
  readonly roles?: readonly RoleDefinition[];
}

/**
 * The default organization. Its ids match the committed keyrings.json, so `rotate demo` and the
 * pipeline tests can use the emulator with no seed file.
 */
export const DEFAULT_SEED: OrganizationSeed = {
  organizationId: 'o-a1b2c3d4e5',
  managementAccount: '111111111111',
  accounts: ['111111111111', '222222222222'],
  instances: [
    {
      account: '111111111111',
      region: 'us-east-1',
      instanceArn: 'arn:aws:sso:::instance/ssoins-7223f2cd9d6a6b51',
      identityStoreId: 'd-9067c0a1b2',
      name: 'example-org',
      users: [
        { userName: 'alice', displayName: 'Alice Example' },
        { userName: 'bob', displayName: 'Bob Example' },
        { userName: 'carol', displayName: 'Carol Example' },
      ],
      groups: [{ displayName: 'platform-admins' }],
    },
  ],
};

const accountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be a Region name like us-east-1');

const seedSchema = z
  .object({
    organizationId: z.string().regex(/^o-[a-z0-9]{10,32}$/, 'must look like o-a1b2c3d4e5'),
    managementAccount: accountId,
    accounts: z.array(accountId).min(1),
    instances: z.array(
      z
        .object({
          account: accountId,
          region,
          instanceArn: z
            .string()
            .regex(/^arn:aws:sso:::instance\/(sso)?ins-[a-zA-Z0-9-.]{16}$/, 'must be arn:aws:sso:::instance/ssoins-<16 chars>'),
          identityStoreId: z.string().regex(/^d-[0-9a-z]{10}$/, 'must be d-<10 lowercase alphanumerics>'),
          name: z.string().optional(),
          users: z.array(z.object({ userName: z.string().min(1), displayName: z.string().optional() }).strict()).optional(),
          groups: z.array(z.object({ displayName: z.string().min(1) }).strict()).optional(),
          delegatedAdministrators: z.array(accountId).optional(),
        })
        .strict(),
    ),
    principals: z
      .array(
        z
          .object({
            accessKeyId: z.string().min(16),
            arn: z.string().regex(/^arn:aws:(iam|sts)::\d{12}:.+$/, 'must be an IAM or STS principal ARN'),
          })
          .strict(),
      )
      .optional(),
    roles: z
      .array(
        z
          .object({
            arn: z.string().regex(/^arn:aws:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/, 'must be an IAM role ARN like arn:aws:iam::111111111111:role/name'),
            trustedPrincipals: z.array(z.string().min(1)).min(1),
            maxSessionDurationSeconds: z.number().int().min(3600).max(43_200).optional(),
          })
          .strict(),
      )
      .optional(),
  })
  .strict()
  .superRefine((seed, ctx) => {
    if (!seed.accounts.includes(seed.managementAccount)) {
      ctx.addIssue({ code: 'custom', path: ['accounts'], message: `must include the management account ${seed.managementAccount}` });
    }
    seed.instances.forEach((instance, i) => {
      if (!seed.accounts.includes(instance.account)) {
        ctx.addIssue({ code: 'custom', path: ['instances', i, 'account'], message: `${instance.account} is not in accounts` });
      }
      (instance.delegatedAdministrators ?? []).forEach((account, j) => {
        if (!seed.accounts.includes(account)) ctx.addIssue({ code: 'custom', path: ['instances', i, 'delegatedAdministrators', j], message: `${account} is not in accounts` });
      });
    });
    (seed.roles ?? []).forEach((role, i) => {
      const account = role.arn.split(':')[4]!;
      if (!seed.accounts.includes(account)) ctx.addIssue({ code: 'custom', path: ['roles', i, 'arn'], message: `account ${account} is not in accounts` });
    });
  });

/** A seed file or object breaks the seed schema. */
export class EmulatorSeedError extends KeyrotorError {
  constructor(readonly source: string, readonly issues: readonly string[]) {
    super(`emulator seed ${source}: ${issues.join('; ')}`, {
      fault: 'operator',
      nextStep: `fix ${source} (see emulator/README.md for the seed format) and start the emulator again`,
    });
  }
}

/** Validates a parsed seed document; `source` names the file in error messages. */
export function parseSeed(value: unknown, source = 'seed'): OrganizationSeed {
  const result = seedSchema.safeParse(value);
  if (!result.success) {
    throw new EmulatorSeedError(
      source,
      result.error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`),
    );
  }
  return result.data;
}

/** Parses seed JSON text (a seed file's contents). */
export function parseSeedJson(text: string, source = 'seed'): OrganizationSeed {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new EmulatorSeedError(source, [`not valid JSON (${(error as Error).message})`]);
  }
  return parseSeed(value, source);
}
