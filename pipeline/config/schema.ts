/**
 * The shape of keyrings.json as zod schemas: strict objects (an unknown field is an error, so a
 * typo never silently falls back to a default), per-field formats and ranges, and the documented
 * defaults. Rules that relate several fields (uniqueness, "role in the key ring's account") live in
 * rules.ts; they run on the typed result.
 *
 * Inheritance: a top-level `defaults` object may set any `rotation` and `approvals` field. Each key
 * ring takes, field by field, its own value, else the `defaults` value, else the built-in default
 * (ROTATION_DEFAULTS / APPROVAL_DEFAULTS). So `defaults.approvals.quorum: 3` raises the quorum of
 * every key ring that does not set `approvals.quorum` itself.
 */
import * as path from 'node:path';
import { z } from 'zod';
import { notificationsSchema } from './notifications';
import { accessSchema, resolveAccess, withAccountPipelineRole } from './access';
import type {
  ApprovalPolicy,
  BackendConfig,
  Config,
  KeyRingConfig,
  PersonConfig,
  PipelineInfraConfig,
  RotationSettings,
  StateConfig,
} from './types';
import {
  ACCOUNT_ID,
  ALIAS_MAX_LENGTH,
  ALIAS_NAME,
  DYNAMODB_TABLE,
  GITHUB_ENVIRONMENT,
  IAM_ROLE_NAME,
  IDENTITY_STORE_ARN,
  KEYRING_NAME,
  ORGANIZATION_ID,
  REGION,
  RESERVED_ALIAS_PREFIX,
  ROLE_ARN,
  S3_BUCKET,
  SNS_TOPIC_NAME,
  SSO_INSTANCE_ARN,
  type FormatRule,
} from './patterns';
import { identityCenterRegionsShape, multiRegionSchema } from './multi-region';

export const ROTATION_DEFAULTS: RotationSettings = {
  deletionWindowDays: 30,
  minimumSoakHours: 24,
  disableOldKeyDuringSoak: false,
  automaticRotationPeriodDays: 365,
  onDemandRotationReserve: 5,
};

/** `allowedSignersFile` is relative to the config file's directory until resolved. */
export const APPROVAL_DEFAULTS: ApprovalPolicy = {
  quorum: 2,
  allowedSignersFile: 'approvers/allowed_signers',
  lifetimeHours: 72,
};

export const DEFAULT_STATE_DIR = 'state';
export const DEFAULT_LOCAL_BACKEND_DIR = 'terraform-state';
export const DEFAULT_SNS_TOPIC = 'keyrotor-key-events';
export const DEFAULT_CHECK_TIMEOUT_SECONDS = 120;
export const DEFAULT_PIPELINE_ROLE_NAME = 'keyrotor-pipeline';
/** The environments of .github/workflows/rotation.yml (its stage jobs and its deletion job). */
export const DEFAULT_PIPELINE_ENVIRONMENTS: readonly string[] = ['rotation', 'key-deletion'];

/** Tag prefixes a config may not set: `aws:` is reserved by AWS, `keyrotor:` by this tool's own tags. */
const RESERVED_TAG_PREFIXES = ['aws:', 'keyrotor:'];

const formatted = (format: FormatRule) => z.string().regex(format.pattern, { error: format.rule });

const accountId = formatted(ACCOUNT_ID);
const region = formatted(REGION);
const roleArn = formatted(ROLE_ARN);
const nonEmpty = z.string().min(1, { error: 'must not be empty' });

const aliasName = z
  .string()
  .max(ALIAS_MAX_LENGTH)
  .regex(ALIAS_NAME.pattern, { error: ALIAS_NAME.rule })
  .refine((alias) => !alias.startsWith(RESERVED_ALIAS_PREFIX), {
    error: `uses the prefix ${RESERVED_ALIAS_PREFIX}, which KMS reserves for AWS managed keys; choose another alias`,
  });

const tagKey = z
  .string()
  .min(1)
  .max(128)
  .refine((key) => !RESERVED_TAG_PREFIXES.some((prefix) => key.startsWith(prefix)), {
    error: `uses a reserved prefix (${RESERVED_TAG_PREFIXES.join(', ')}); keyrotor sets its own keyrotor: tags`,
  });

export const rotationSchema = z.strictObject({
  deletionWindowDays: z.int().min(7).max(30).optional(),
  minimumSoakHours: z.number().min(0).optional(),
  disableOldKeyDuringSoak: z.boolean().optional(),
  automaticRotationPeriodDays: z.int().min(90).max(2560).optional(),
  onDemandRotationReserve: z.int().min(0).max(24).optional(),
});

export const approvalsSchema = z.strictObject({
  quorum: z.int().min(1).max(10).optional(),
  allowedSignersFile: nonEmpty.optional(),
  lifetimeHours: z.int().min(1).max(720).optional(),
});

const identityCenterSchema = z.strictObject({
  instanceArn: formatted(SSO_INSTANCE_ARN),
  identityStoreArn: formatted(IDENTITY_STORE_ARN),
  organizationId: formatted(ORGANIZATION_ID),
  delegatedAdminAccounts: z.array(accountId).default([]),
  scopeToInstance: z.boolean().default(true),
});

const checkSchema = z.strictObject({
  name: z.string().min(1).max(64),
  command: z.array(nonEmpty).min(1, { error: 'must be a non-empty argv array, e.g. ["node", "check.js"]' }),
  timeoutSeconds: z.int().min(1).max(3600).default(DEFAULT_CHECK_TIMEOUT_SECONDS),
});

const keyRingSchema = z.strictObject({
  name: formatted(KEYRING_NAME),
  alias: aliasName,
  account: accountId,
  region,
  // CreateKey accepts descriptions up to 8192 characters.
  description: z.string().max(8192).optional(),
  tags: z.record(tagKey, z.string().max(256)).default({}),
  keyAdministrators: z.array(roleArn).min(1, { error: 'needs at least one administrator role ARN' }),
  keyUsers: z.array(roleArn).default([]),
  pipelineRole: roleArn.optional(),
  identityCenter: identityCenterSchema.extend(identityCenterRegionsShape).optional(),
  multiRegion: multiRegionSchema.optional(),
  rotation: rotationSchema.default({}),
  approvals: approvalsSchema.default({}),
  checks: z.array(checkSchema).default([]),
});

const s3BackendSchema = z.strictObject({
  type: z.literal('s3'),
  bucket: formatted(S3_BUCKET),
  keyPrefix: nonEmpty.default('keyrotor'),
  region,
  useLockfile: z.boolean().default(true),
});

const localBackendSchema = z.strictObject({
  type: z.literal('local'),
  dir: nonEmpty.optional(),
});

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

// `type` may be left out of the backend: s3 is the documented default.
const backendSchema = z.preprocess(
  (value) => (isPlainObject(value) && !('type' in value) ? { ...value, type: 's3' } : value),
  z.discriminatedUnion('type', [s3BackendSchema, localBackendSchema]),
);

const stateSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('file'), dir: nonEmpty.optional() }),
  // exportDir: where every command writes the ledgers it read or changed, in the file store's
  // layout (<exportDir>/ledgers/<keyring>.json), so synth reads them with no AWS access.
  z.strictObject({ type: z.literal('dynamodb'), table: formatted(DYNAMODB_TABLE), region, exportDir: nonEmpty.optional() }),
]);

const monitoringSchema = z.strictObject({
  enabled: z.boolean().default(true),
  snsTopicName: formatted(SNS_TOPIC_NAME).default(DEFAULT_SNS_TOPIC),
  emailSubscriptions: z.array(z.email({ error: 'is not an e-mail address' })).default([]),
  configRules: z.boolean().default(true),
});

// GitHub: owner 1–39 of [A-Za-z0-9-], repository 1–100 of [A-Za-z0-9._-]. The value is spliced
// into the OIDC subject `repo:<owner>/<name>:environment:<env>`, so nothing else may pass.
const GITHUB_REPOSITORY: FormatRule = {
  pattern: /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/,
  rule: 'is not a GitHub repository like "owner/name"',
};
export const GITHUB_OIDC_PROVIDER_ARN_PATTERN = /^arn:aws:iam::(\d{12}):oidc-provider\/token\.actions\.githubusercontent\.com$/;
const GITHUB_OIDC_PROVIDER_ARN: FormatRule = {
  pattern: GITHUB_OIDC_PROVIDER_ARN_PATTERN,
  rule: 'is not the ARN of a GitHub OIDC provider like arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com',
};

const pipelineSchema = z.strictObject({
  account: accountId,
  region,
  roleName: formatted(IAM_ROLE_NAME).default(DEFAULT_PIPELINE_ROLE_NAME),
  github: z.strictObject({
    repository: formatted(GITHUB_REPOSITORY),
    environments: z
      .array(formatted(GITHUB_ENVIRONMENT))
      .min(1, { error: 'must name at least one GitHub environment (an empty list would trust no workflow)' })
      .default([...DEFAULT_PIPELINE_ENVIRONMENTS]),
  }),
  oidcProviderArn: formatted(GITHUB_OIDC_PROVIDER_ARN).optional(),
});

// people: who is who (see PersonConfig). Principals are literal allowed_signers principals.
const PERSON_NAME: FormatRule = {
  pattern: /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/,
  rule: 'is not a person label (1–64 of A-Z a-z 0-9 . _ @ -, starting with a letter or digit)',
};
const SIGNER_PRINCIPAL: FormatRule = {
  pattern: /^[^\s,*?!"]{1,256}$/,
  rule: 'is not a literal allowed_signers principal (no spaces, commas, quotes or pattern characters * ? !)',
};
/**
 * IAM users and Identity Center sessions only: in both, AWS sets the last segment (the user name),
 * so a caller cannot claim to be someone else. A role session name chosen by the caller is refused.
 */
export const PERSON_AWS_IDENTITY: FormatRule = {
  pattern: /^arn:aws(?:-[a-z]+)*:(?:iam::\d{12}:user\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]+|sts::\d{12}:assumed-role\/AWSReservedSSO_[\w+=,.@*-]+\/[\w+=,.@-]+)$/,
  rule: 'is not an IAM user ARN (arn:aws:iam::<account>:user/<name>) or an Identity Center session ARN (arn:aws:sts::<account>:assumed-role/AWSReservedSSO_<set>_<id>/<user name>; `*` only in the role part): only names AWS itself sets tie a caller to a person',
};
const GITHUB_LOGIN: FormatRule = {
  pattern: /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/,
  rule: 'is not a GitHub login (1–39 of A-Z a-z 0-9 -, not starting with -)',
};

const personSchema = z.strictObject({
  name: formatted(PERSON_NAME),
  signers: z.array(formatted(SIGNER_PRINCIPAL)).default([]),
  aws: z.array(formatted(PERSON_AWS_IDENTITY)).default([]),
  github: z.array(formatted(GITHUB_LOGIN)).default([]),
});

/** keyrings.json as written (before defaults are layered and paths resolved). */
export const rawConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  version: z.literal(1, { error: 'must be 1 (the only config version)' }).default(1),
  backend: backendSchema,
  state: stateSchema.optional(),
  monitoring: monitoringSchema.default({ enabled: true, snsTopicName: DEFAULT_SNS_TOPIC, emailSubscriptions: [], configRules: true }),
  defaults: z.strictObject({ rotation: rotationSchema.optional(), approvals: approvalsSchema.optional() }).default({}),
  keyrings: z.array(keyRingSchema).min(1, { error: 'must declare at least one key ring' }),
  pipeline: pipelineSchema.optional(),
  people: z.array(personSchema).default([]),
  notifications: notificationsSchema.optional(),
  access: accessSchema.optional(),
});

export type RawConfig = z.output<typeof rawConfigSchema>;
type RawKeyRing = RawConfig['keyrings'][number];

/** Layers key ring → `defaults` → built-in defaults, and resolves paths against the config's directory. */
export function resolveConfig(raw: RawConfig, file: string): Config {
  const baseDir = path.dirname(file);
  const inBaseDir = (p: string) => path.resolve(baseDir, p);
  const state = resolveState(raw.state, inBaseDir);
  const pipeline = raw.pipeline === undefined ? undefined : resolvePipeline(raw.pipeline);
  const keyrings = raw.keyrings.map((keyring) => resolveKeyRing(keyring, raw.defaults, inBaseDir));
  const access = resolveAccess(raw.access, { keyrings, state, ...(pipeline === undefined ? {} : { pipeline }) });
  return {
    file,
    baseDir,
    version: raw.version,
    backend: resolveBackend(raw.backend, inBaseDir),
    state,
    monitoring: raw.monitoring,
    // A key ring without its own pipelineRole takes its account's (declared once, in `access`).
    keyrings: keyrings.map((keyring) => withAccountPipelineRole(keyring, access)),
    // Only present when declared, so a config without team mode resolves exactly as before.
    ...(pipeline === undefined ? {} : { pipeline }),
    people: raw.people satisfies readonly PersonConfig[],
    ...(raw.notifications === undefined ? {} : { notifications: raw.notifications }),
    ...(access === undefined ? {} : { access }),
  };
}

function resolvePipeline(pipeline: NonNullable<RawConfig['pipeline']>): PipelineInfraConfig {
  const { oidcProviderArn, ...rest } = pipeline;
  return { ...rest, ...(oidcProviderArn === undefined ? {} : { oidcProviderArn }) };
}

function resolveBackend(backend: RawConfig['backend'], inBaseDir: (p: string) => string): BackendConfig {
  if (backend.type === 'local') return { type: 'local', dir: inBaseDir(backend.dir ?? DEFAULT_LOCAL_BACKEND_DIR) };
  return backend;
}

function resolveState(state: RawConfig['state'], inBaseDir: (p: string) => string): StateConfig {
  if (state?.type === 'dynamodb') return { ...state, exportDir: inBaseDir(state.exportDir ?? DEFAULT_STATE_DIR) };
  return { type: 'file', dir: inBaseDir(state?.dir ?? DEFAULT_STATE_DIR) };
}

function resolveKeyRing(
  keyring: RawKeyRing,
  defaults: RawConfig['defaults'],
  inBaseDir: (p: string) => string,
): KeyRingConfig {
  const { description, pipelineRole, identityCenter, multiRegion, rotation, approvals, ...rest } = keyring;
  const approvalPolicy: ApprovalPolicy = { ...APPROVAL_DEFAULTS, ...dropUndefined(defaults.approvals), ...dropUndefined(approvals) };
  return {
    ...rest,
    description: description ?? `${keyring.alias} (key ring ${keyring.name}, managed by keyrotor)`,
    ...(pipelineRole === undefined ? {} : { pipelineRole }),
    ...(identityCenter === undefined ? {} : { identityCenter }),
    ...(multiRegion === undefined ? {} : { multiRegion }),
    rotation: { ...ROTATION_DEFAULTS, ...dropUndefined(defaults.rotation), ...dropUndefined(rotation) },
    approvals: { ...approvalPolicy, allowedSignersFile: inBaseDir(approvalPolicy.allowedSignersFile) },
  };
}

function dropUndefined<T extends object>(value: T | undefined): Partial<T> {
  if (value === undefined) return {};
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

// Compile-time guarantee that what the schema accepts fits the contract: if types.ts gains a
// required field the schema does not produce, or a field's type drifts, this stops compiling.
// (The layered fields are checked by resolveConfig's return type, which is Config.)
type Assert<T extends true> = T;
type LayeredFields = 'description' | 'rotation' | 'approvals';
export type SchemaMatchesContract = Assert<
  Omit<RawKeyRing, LayeredFields> extends Omit<KeyRingConfig, LayeredFields> ? true : false
>;
