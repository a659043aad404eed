/**
 * What `rotate drift` reports: live AWS against the config and the latest ledger. The `--json`
 * output is exactly a DriftReport (versioned; new fields may be added, existing ones keep their
 * meaning within a version).
 */

/**
 * What drifted (a multi-Region generation's replicas are checked like keys, each in its Region, and
 * the alias in each replica Region like the alias). Pipeline-owned (the generation set,
 * enablement, deletion, alias, Identity Center):
 *  - `key-state`: a generation's KeyState is not what its ledger state means (Enabled for
 *    candidate/active/retiring, Disabled for disabled/abandoned, PendingDeletion for pending-deletion);
 *  - `key-missing`: KMS has no such key (or it left before its deletion date);
 *  - `key-not-deleted`: the ledger says deleted but KMS still has the key;
 *  - `deletion-date`: the pending deletion date differs from the ledger's;
 *  - `alias-target`: the alias points elsewhere than the ledger's active generation (or exists
 *    without one, or is missing);
 *  - `identity-center`: the instance's encryption (key type, key ARN, status) is not what the
 *    ledger records;
 *  - `identity-center-unrecorded`: an attached key ring's ledger has generations but no target;
 *  - `orphan-key`: a key tagged by keyrotor that no ledger knows (an interrupted run's key);
 *  - `stale-synth`: the ledger a synthesized stack followed is not the latest in the state store.
 * Terraform-owned (a deploy converges them; reported, never blocking a deploy):
 *  - `key-policy`: a live generation's key policy differs from the policy builder's output;
 *  - `identity-center-policy`: the key Identity Center uses lacks statements Identity Center needs
 *    (it never re-checks the policy after the switch, so this is a lockout waiting to happen);
 *  - `rotation`: automatic rotation off, or another period than the config's;
 *  - `key-spec`: not a customer managed SYMMETRIC_DEFAULT / ENCRYPT_DECRYPT key, or another description;
 *  - `undeclared-keyring`: the state tracks live keys or an open run of a key ring the config no
 *    longer declares (renamed or removed): synth would drop its keys from the stacks.
 */
export type DriftKind =
  | 'key-state'
  | 'key-missing'
  | 'key-not-deleted'
  | 'deletion-date'
  | 'alias-target'
  | 'identity-center'
  | 'identity-center-unrecorded'
  | 'orphan-key'
  | 'undeclared-keyring'
  | 'stale-synth'
  | 'key-policy'
  | 'identity-center-policy'
  | 'rotation'
  | 'key-spec';

export interface DriftFinding {
  readonly kind: DriftKind;
  /** Who owns what drifted (DESIGN "Who owns what"). */
  readonly owner: 'pipeline' | 'terraform';
  /**
   * True when a deploy must not plan or apply over it: Terraform would act on a ledger that no
   * longer describes AWS (`rotate drift --deploy-gate` fails only on these).
   */
  readonly blocksDeploy: boolean;
  readonly keyring?: string;
  readonly generation?: number;
  /** The key ARN, alias, instance ARN or stack the finding is about. */
  readonly subject: string;
  readonly expected: string;
  readonly actual: string;
  readonly message: string;
  readonly nextStep: string;
}

/** A ledger change `rotate drift` made (or would make with --read-only). */
export interface LedgerUpdate {
  readonly keyring: string;
  readonly generation: number;
  readonly keyArn: string;
  readonly from: 'pending-deletion';
  readonly to: 'deleted';
  readonly reason: string;
  /** False with --read-only (or when the write lost a race and was not retried). */
  readonly written: boolean;
}

export interface KeyringDriftReport {
  readonly name: string;
  readonly account: string;
  readonly region: string;
  /** Version of the ledger compared against; null when the key ring has none yet. */
  readonly ledgerVersion: number | null;
  /** What was compared, in words (for the operator and the drift issue). */
  readonly checked: readonly string[];
  readonly findings: readonly DriftFinding[];
  readonly updates: readonly LedgerUpdate[];
  /** Set when the key ring could not be checked (credentials, AWS error); its findings are then incomplete. */
  readonly error?: { readonly message: string; readonly nextStep?: string; readonly fault: 'operator' | 'aws' | 'internal' };
  /** Facts worth knowing that are not drift (e.g. a key ring not yet adopted). */
  readonly notes: readonly string[];
}

export interface DriftReport {
  readonly version: 1;
  readonly checkedAt: string;
  /** Any finding at all (with --deploy-gate: any finding that blocks a deploy). */
  readonly drift: boolean;
  /** The exit code the command returns: 0 no drift, 1 drift, 2 operator error, 3 AWS error. */
  readonly exitCode: number;
  readonly keyrings: readonly KeyringDriftReport[];
  /** Keys tagged by keyrotor that no ledger knows, per account and Region scanned. */
  readonly orphans: readonly DriftFinding[];
  /** Findings about synthesized stacks (with --synth-dir). */
  readonly synth: readonly DriftFinding[];
}
