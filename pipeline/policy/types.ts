/**
 * The key policy document as keyrotor builds and reads it (IAM policy grammar, the subset KMS key
 * policies use). Lint and the Identity Center check also accept documents keyrotor did not build,
 * so the optional `NotAction` / `NotPrincipal` forms are part of the type.
 */
export type PolicyPrincipal =
  | '*'
  | {
      readonly AWS?: string | readonly string[];
      readonly Service?: string | readonly string[];
      readonly Federated?: string | readonly string[];
    };

/** `{ operator: { conditionKey: value | values } }`, e.g. `{ StringEquals: { 'aws:SourceAccount': '111111111111' } }`. */
export type PolicyConditions = Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;

export interface PolicyStatement {
  /** Stable: lint findings and the verify-key stage name statements by Sid. */
  readonly Sid: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Principal?: PolicyPrincipal;
  readonly NotPrincipal?: PolicyPrincipal;
  readonly Action?: string | readonly string[];
  readonly NotAction?: string | readonly string[];
  /** Always `*` in a key policy: it means "this key". */
  readonly Resource: string | readonly string[];
  readonly Condition?: PolicyConditions;
}

export interface KeyPolicyDocument {
  readonly Version: '2012-10-17';
  readonly Id?: string;
  readonly Statement: readonly PolicyStatement[];
}
