/**
 * The formats the config is checked against, in one place, each with the rule text an operator
 * sees when a value breaks it. Only the `aws` partition is supported (the Identity Center ARN
 * formats the task documents are `arn:aws:`); other partitions would need a partition field.
 */

export interface FormatRule {
  readonly pattern: RegExp;
  /** Completes "<path>: <value> ..." in an issue. */
  readonly rule: string;
}

export const ACCOUNT_ID: FormatRule = {
  pattern: /^\d{12}$/,
  rule: 'is not a 12-digit AWS account id',
};

// Region codes: two-letter area, one or more words, a number (us-east-1, us-gov-west-1, ap-southeast-2).
export const REGION: FormatRule = {
  pattern: /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/,
  rule: 'is not an AWS Region code like us-east-1',
};

// The name becomes part of Terraform resource and stack names, which must start with a letter.
export const KEYRING_NAME: FormatRule = {
  pattern: /^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$/,
  rule: 'must be 1–40 characters of lowercase letters, digits and "-", starting with a letter (Terraform names cannot start with a digit) and not ending with "-"',
};

/** KMS alias names: `alias/` prefix, [A-Za-z0-9/_-], at most 256 characters (CreateAlias AliasName). */
export const ALIAS_NAME: FormatRule = {
  pattern: /^alias\/[A-Za-z0-9/_-]+$/,
  rule: 'is not a KMS alias name: it must start with "alias/" and use only A-Z a-z 0-9 / _ -',
};
export const ALIAS_MAX_LENGTH = 256;
/** KMS reserves this prefix for AWS managed keys; CreateAlias rejects it. */
export const RESERVED_ALIAS_PREFIX = 'alias/aws/';

// IAM role ARN: optional path, then the role name ([\w+=,.@-], at most 64 characters).
export const ROLE_ARN_PATTERN = /^arn:aws:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
export const ROLE_ARN: FormatRule = {
  pattern: ROLE_ARN_PATTERN,
  rule: 'is not an IAM role ARN like arn:aws:iam::111111111111:role/name',
};

export const SSO_INSTANCE_ARN: FormatRule = {
  pattern: /^arn:aws:sso:::instance\/ssoins-[0-9a-f]{16}$/,
  rule: 'is not an Identity Center instance ARN like arn:aws:sso:::instance/ssoins-0123456789abcdef',
};

export const IDENTITY_STORE_ARN_PATTERN = /^arn:aws:identitystore::(\d{12}):identitystore\/d-[0-9a-z]{10}$/;
export const IDENTITY_STORE_ARN: FormatRule = {
  pattern: IDENTITY_STORE_ARN_PATTERN,
  rule: 'is not an identity store ARN like arn:aws:identitystore::111111111111:identitystore/d-1234567890',
};

export const ORGANIZATION_ID: FormatRule = {
  pattern: /^o-[a-z0-9]{10,32}$/,
  rule: 'is not an AWS Organizations id (o- followed by 10–32 lowercase letters or digits)',
};

// S3 general purpose bucket naming rules (3–63, lowercase, digits, dots, hyphens).
export const S3_BUCKET: FormatRule = {
  pattern: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
  rule: 'is not a valid S3 bucket name (3–63 lowercase letters, digits, "." and "-")',
};

export const DYNAMODB_TABLE: FormatRule = {
  pattern: /^[A-Za-z0-9_.-]{3,255}$/,
  rule: 'is not a valid DynamoDB table name (3–255 of A-Z a-z 0-9 _ . -)',
};

export const SNS_TOPIC_NAME: FormatRule = {
  pattern: /^[A-Za-z0-9_-]{1,256}$/,
  rule: 'is not a valid SNS topic name (1–256 of A-Z a-z 0-9 _ -)',
};

/** The account id inside a role or identity store ARN, or undefined when the ARN does not parse. */
export function accountOfArn(arn: string): string | undefined {
  return ROLE_ARN_PATTERN.exec(arn)?.[1] ?? IDENTITY_STORE_ARN_PATTERN.exec(arn)?.[1];
}

// GitHub environment names go into OIDC subjects; `*` and `?` are kept out so no one mistakes the
// (StringEquals) condition for a pattern, and `:` so the subject cannot be forged.
export const GITHUB_ENVIRONMENT: FormatRule = {
  pattern: /^[A-Za-z0-9._-]{1,255}$/,
  rule: 'is not a GitHub environment name (1–255 of A-Z a-z 0-9 . _ -)',
};

// IAM role names: [\w+=,.@-], 1–64 characters (CreateRole RoleName).
export const IAM_ROLE_NAME: FormatRule = {
  pattern: /^[\w+=,.@-]{1,64}$/,
  rule: 'is not an IAM role name (1–64 of A-Z a-z 0-9 + = , . @ _ -)',
};
