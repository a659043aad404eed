/**
 * The ledger: per key ring, the generations (physical KMS keys) and their states. It is the
 * contract between the pipeline and Terraform: `main.ts` reads it at synth time so the stacks
 * declare exactly the live generations, the alias on the active one, and Identity Center on the
 * active one.
 */

/**
 * candidate → active → retiring (enabled, not targeted) → disabled (optional soak) →
 * pending-deletion → deleted; or abandoned after a rollback.
 */
export type GenerationState =
  | 'candidate'
  | 'active'
  | 'retiring'
  | 'disabled'
  | 'pending-deletion'
  | 'deleted'
  | 'abandoned';

/** Generations that exist as enabled-or-disabled keys in AWS and so are declared in the stacks. */
export const LIVE_GENERATION_STATES: readonly GenerationState[] = ['candidate', 'active', 'retiring', 'disabled'];

export interface Generation {
  /** 1, 2, 3 … never reused; names the Terraform resource (`key_gen<N>`), so it must never change. */
  readonly generation: number;
  readonly keyId: string;
  readonly keyArn: string;
  readonly state: GenerationState;
  /**
   * `terraform`: created by the stacks (declared as a plain resource, never imported);
   * `pipeline`: created by a run (adopted with an import block);
   * `adopted`: existed before keyrotor (adopted with an import block).
   */
  readonly origin: 'terraform' | 'pipeline' | 'adopted';
  /** Run that created or last changed it. */
  readonly runId?: string;
  readonly createdAt: string;
  readonly stateChangedAt: string;
  /**
   * ISO date; set when state is `pending-deletion`. For a multi-Region primary whose replicas are
   * still pending deletion (KMS: PendingReplicaDeletion) it is the earliest date KMS can delete it:
   * the latest replica's deletion date plus the primary's window, which starts only once its last
   * replica is deleted.
   */
  readonly deletionDate?: string;
  /**
   * A multi-Region generation's replicas (the generation itself is the primary, in the key ring's
   * Region). Absent for single-Region keys.
   */
  readonly replicas?: readonly ReplicaKey[];
}

/** One Region's replica of a multi-Region generation (same key id, its own ARN, state and policy). */
export interface ReplicaKey {
  readonly region: string;
  readonly keyArn: string;
  /**
   * `live`: exists and follows the generation's enablement (enabled or disabled with it);
   * `pending-deletion`: ScheduleKeyDeletion was sent in its Region (`deletionDate`); `deleted`: gone.
   */
  readonly state: ReplicaState;
  readonly deletionDate?: string;
}

export type ReplicaState = 'live' | 'pending-deletion' | 'deleted';

/** What Identity Center should encrypt with. */
export type IdentityCenterTarget =
  | { readonly keyType: 'AWS_OWNED_KMS_KEY' }
  | { readonly keyType: 'CUSTOMER_MANAGED_KEY'; readonly kmsKeyArn: string };

export interface Ledger {
  readonly keyring: string;
  /** Optimistic-concurrency version; the store bumps it on every write. */
  readonly version: number;
  readonly generations: readonly Generation[];
  /** Desired Identity Center encryption; absent when the key ring is not attached. */
  readonly identityCenter?: IdentityCenterTarget;
  readonly updatedAt: string;
}
