/**
 * The declared configuration (keyrings.json), after validation and defaulting. This is the
 * contract every module codes against; `schema.ts` validates raw JSON into exactly these types.
 * Paths (allowed signers, state dir) are resolved relative to the config file's directory.
 */
import type { NotificationsConfig } from './notifications';

export interface Config {
  /** Absolute path of the file this was loaded from (for messages). */
  readonly file: string;
  /** Directory of the config file; relative paths resolve against it. */
  readonly baseDir: string;
  readonly version: 1;
  /** Terraform backend of the synthesized stacks. Default: s3 (see BackendConfig). */
  readonly backend: BackendConfig;
  /** Where ledgers, runs and the audit log live. Default: `{ type: 'file', dir: '<baseDir>/state' }`. */
  readonly state: StateConfig;
  /** Monitoring resources per stack. Default: enabled, topic `keyrotor-key-events`. */
  readonly monitoring: MonitoringConfig;
  readonly keyrings: readonly KeyRingConfig[];
  /**
   * Team mode: the pipeline's own infrastructure (the DynamoDB state table, the pipeline role in
   * every account with key rings, GitHub OIDC trust). Absent: no pipeline stack is synthesized.
   * Required when `state.type` is `dynamodb`.
   */
  readonly pipeline?: PipelineInfraConfig;
  /**
   * Who is who, reviewed like allowed_signers: ties the identities a run can be started under (an
   * IAM user or Identity Center session ARN, a GitHub login) to the allowed_signers principals of
   * the same person, so the gate can keep a run's initiator from approving it under any name, and
   * groups several principals of one person so they count once. Default none (the loader always
   * sets it; optional so configs built in code need not).
   */
  readonly people?: readonly PersonConfig[];
  /** Hooks fired when a run waits for approvals, is ready for deletion, fails or completes (notifications.ts). Absent: none. */
  readonly notifications?: NotificationsConfig;
  /**
   * Which role acts in each account (Terraform, the CLI, the state store) and the identity CI starts
   * from (pipeline/config/access.ts). Present when `access` or `pipeline` is declared (team mode
   * derives every field); absent: every command uses the credentials it is given.
   */
  readonly access?: AccessConfig;
}

export interface AccessConfig {
  /** The identity CI has (GitHub OIDC assumes it); every account's roles trust it. Default in team mode `<team>:role/keyrotor-ci`. */
  readonly ciRole?: string;
  /** Roles by account id. Every account with key rings has an entry. */
  readonly accounts: Readonly<Record<string, AccountRoles>>;
  /** Role the DynamoDB state store assumes (team account). Default in team mode: the team account's pipeline role. */
  readonly stateRole?: string;
  /** Role Terraform's S3 backend assumes. Default in team mode: the team account's pipeline role. */
  readonly backendRole?: string;
  /** Role an administrator's bootstrap apply assumes in every account but the team account. Default `OrganizationAccountAccessRole`. */
  readonly bootstrapRoleName: string;
  /** OIDC subjects the CI identity trusts besides pipeline.github.environments. */
  readonly github: { readonly deployEnvironments: readonly string[]; readonly planSubjects: readonly string[] };
}

export interface AccountRoles {
  /** The role the pipeline (the CLI, the rotation workflow) acts as: the key policies' pipelineRole. */
  readonly pipelineRole: string;
  /** The role Terraform applies with; default the pipelineRole (the key policy's lockout rules). */
  readonly terraformRole: string;
}

export interface PersonConfig {
  /** A label for messages (`alice`); unique. */
  readonly name: string;
  /** The person's principals in allowed_signers, literally (no patterns). Each belongs to one person. */
  readonly signers: readonly string[];
  /**
   * AWS identities that are this person, as STS GetCallerIdentity reports them: IAM user ARNs, or
   * Identity Center sessions `arn:aws:sts::<account>:assumed-role/AWSReservedSSO_<set>_<id>/<user>`
   * (the role part may use `*`). Only names AWS itself sets: a session name the caller picks proves nothing.
   */
  readonly aws: readonly string[];
  /** GitHub logins that are this person (a run dispatched from CI through the pipeline role). */
  readonly github: readonly string[];
}

export interface PipelineInfraConfig {
  /** Account that holds the team infrastructure (the state table). */
  readonly account: string;
  /** Region of the team infrastructure; equals `state.region` when the state is in DynamoDB. */
  readonly region: string;
  /** Name of the pipeline role declared in each account that has key rings. Default `keyrotor-pipeline`. */
  readonly roleName: string;
  readonly github: GitHubOidcTrust;
  /**
   * ARN of an existing GitHub OIDC provider (`arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com`).
   * Its account uses it; every other role account gets the provider declared by the pipeline stack.
   */
  readonly oidcProviderArn?: string;
}

export interface GitHubOidcTrust {
  /** `owner/name` of the repository whose workflows may assume the role. */
  readonly repository: string;
  /** GitHub environments allowed in the OIDC subject. Default `["rotation", "key-deletion"]`. */
  readonly environments: readonly string[];
}

export type BackendConfig =
  | {
      readonly type: 's3';
      readonly bucket: string;
      /** Object key prefix; the state key is `<keyPrefix>/<stack name>.tfstate`. Default `keyrotor`. */
      readonly keyPrefix: string;
      readonly region: string;
      /** S3 native lockfile locking (Terraform >= 1.10). Default true. */
      readonly useLockfile: boolean;
    }
  | {
      readonly type: 'local';
      /** Directory for `<stack name>.tfstate`. Default `<baseDir>/terraform-state`. */
      readonly dir: string;
    };

export type StateConfig =
  | { readonly type: 'file'; readonly dir: string }
  | {
      readonly type: 'dynamodb';
      readonly table: string;
      readonly region: string;
      /**
       * The ledger export: every command writes the ledgers it read into `<exportDir>/ledgers/`, which
       * the rotation workflow commits and synth reads (no AWS access at synth). Default `<baseDir>/state`.
       * Optional so configs built in code need not set it.
       */
      readonly exportDir?: string;
    };

export interface MonitoringConfig {
  readonly enabled: boolean;
  readonly snsTopicName: string;
  /** E-mail endpoints subscribed to the topic. Default none. */
  readonly emailSubscriptions: readonly string[];
  /** AWS Config managed rules (rotation enabled, not pending deletion). Default true. */
  readonly configRules: boolean;
}

export interface KeyRingConfig {
  /** Short id used on the command line and in resource names: lowercase, digits, `-`; 1–40 chars. Unique. */
  readonly name: string;
  /** KMS alias, `alias/` prefix, not `alias/aws/`, [A-Za-z0-9/_-], at most 256 chars. Unique per account+Region. */
  readonly alias: string;
  /** 12-digit AWS account id that owns the key. */
  readonly account: string;
  /** AWS Region, e.g. `us-east-1`. */
  readonly region: string;
  readonly description: string;
  /** Tags applied to every generation (plus `keyrotor:keyring` and `keyrotor:generation`). */
  readonly tags: Readonly<Record<string, string>>;
  /** IAM role ARNs that administer the key (same account). At least one. */
  readonly keyAdministrators: readonly string[];
  /** IAM role ARNs that use the key for cryptographic operations. */
  readonly keyUsers: readonly string[];
  /** The role the pipeline runs as (may schedule deletion without MFA). Optional. */
  readonly pipelineRole?: string;
  /** Set when Identity Center encrypts with this key ring's active key. */
  readonly identityCenter?: IdentityCenterAttachment;
  /** Set when the key ring's keys are multi-Region keys (primary in `region`); see multi-region.ts. */
  readonly multiRegion?: MultiRegionConfig;
  readonly rotation: RotationSettings;
  readonly approvals: ApprovalPolicy;
  /** Extra integration checks run by the `integration-checks` stage. */
  readonly checks: readonly CheckCommand[];
}

export interface IdentityCenterAttachment {
  /** `arn:aws:sso:::instance/ssoins-<16 hex>` (instance ARNs carry neither account nor Region). */
  readonly instanceArn: string;
  /** `arn:aws:identitystore::<account>:identitystore/d-<10 alnum>`; its account must be the key ring's. */
  readonly identityStoreArn: string;
  /** `o-<10–32 lowercase alnum>`; used by the org-principal and managed-app statements. */
  readonly organizationId: string;
  /** Delegated administrator accounts that also get the admin statement. Default none. */
  readonly delegatedAdminAccounts: readonly string[];
  /** Add per-instance encryption-context equality conditions. Default true. */
  readonly scopeToInstance: boolean;
  /**
   * Regions Identity Center was replicated to besides its primary Region (the key ring's region).
   * Each needs a replica of the key there, so they must be `multiRegion.replicaRegions`. Default none.
   */
  readonly additionalRegions?: readonly string[];
}

export interface MultiRegionConfig {
  /**
   * Regions that get a replica of every generation (ReplicateKey), with the same policy, tags and
   * description, and the alias. Not the key ring's own region. Default none (a multi-Region key
   * without replicas yet).
   */
  readonly replicaRegions: readonly string[];
}

export interface RotationSettings {
  /** ScheduleKeyDeletion pending window, 7–30. Default 30. */
  readonly deletionWindowDays: number;
  /** Minimum hours between the switch and the approval gate. Default 24. */
  readonly minimumSoakHours: number;
  /** Disable the old key during soak to surface hidden consumers. Default false. */
  readonly disableOldKeyDuringSoak: boolean;
  /** KMS automatic rotation period, 90–2560. Default 365. */
  readonly automaticRotationPeriodDays: number;
  /**
   * On-demand rotations (RotateKeyOnDemand, at most 25 per key for its lifetime) a `rotate-material`
   * run must leave unused, 0–24. Default 5 (the loader always sets it; optional for configs built in code).
   */
  readonly onDemandRotationReserve?: number;
}

export interface ApprovalPolicy {
  /** M: distinct valid signers needed, excluding the run's initiator. 1–10, default 2. */
  readonly quorum: number;
  /** Absolute path of the `allowed_signers` file (git's format). Default `<baseDir>/approvers/allowed_signers`. */
  readonly allowedSignersFile: string;
  /** Hours an approval stays valid after it is issued. Default 72, at most 720. */
  readonly lifetimeHours: number;
}

export interface CheckCommand {
  /** Short name shown in status and evidence. */
  readonly name: string;
  /**
   * argv (no shell). Runs in the config's directory with KEYROTOR_RUN_ID, KEYROTOR_RUN_KIND,
   * KEYROTOR_KEYRING, KEYROTOR_ALIAS, KEYROTOR_ACCOUNT, KEYROTOR_REGION, KEYROTOR_OLD_KEY_ARN and
   * KEYROTOR_NEW_KEY_ARN (empty when there is none) in its environment.
   */
  readonly command: readonly string[];
  /** Default 120. */
  readonly timeoutSeconds: number;
}
