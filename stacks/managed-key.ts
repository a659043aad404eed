import type { KeyRingConfig } from '../pipeline/config/types';
import type { Ledger } from '../pipeline/ledger/types';
import { buildKeyPolicy, renderKeyPolicy, type KeyPolicyDocument } from '../pipeline/policy/builder';
import { Construct, KmsAlias, KmsKey } from './cdktf';
import { activeDeclaration, planGenerations, type DeclaredKey, type GenerationDeclaration } from './generation-plan';
import { generationTags, RUN_ID_TAG } from '../pipeline/key-tags';
import { aliasLogicalId, generationAddress, generationConstructId, generationLogicalId } from './naming';
import { RemovedBlock } from './removed-block';
import { isMultiRegionGeneration } from './replica-plan';

/** Key spec and usage Identity Center requires (and the only kind keyrotor manages). */
export const KEY_SPEC = 'SYMMETRIC_DEFAULT';
export const KEY_USAGE = 'ENCRYPT_DECRYPT';

/**
 * Attributes of `aws_kms_key` a plan must never show as changed on a key the pipeline created or
 * adopted:
 *  - the run tag marks which run created a key (its crash-safe CreateKey finds it by that tag);
 *    Terraform does not own it, so it must not plan to strip it;
 *  - `deletion_window_in_days` and `bypass_policy_lockout_safety_check` are arguments of the
 *    provider's create/destroy calls, not properties of the key: its Read never sets them (its own
 *    import tests ignore both), so after an import they are null and every adopted key would plan
 *    an in-place update to 30 / false. Matching values is impossible (the config value is what
 *    differs from null, and `bypass…` has a schema default of false). Ignoring them costs nothing:
 *    Terraform never destroys a key here (keys leave through the approval gate and `removed`), and
 *    the bypass is never used (the key policy denies it).
 */
export const IGNORED_KEY_ATTRIBUTES: readonly string[] = [
  `tags["${RUN_ID_TAG}"]`,
  `tags_all["${RUN_ID_TAG}"]`,
  'deletion_window_in_days',
  'bypass_policy_lockout_safety_check',
];

export interface ManagedKeyProps {
  /**
   * The key ring as declared in the config.
   *
   * !! REPLACEMENT: `name` is part of every Terraform address (`aws_kms_key.<name>_key_gen<N>`);
   * renaming a key ring makes Terraform plan a destroy + create of every key (blocked on the
   * active one by `prevent_destroy`). `account`/`region` move it to another stack: same effect.
   * Use a `moved` block, or keep the name, instead.
   */
  readonly keyring: KeyRingConfig;
  /**
   * The key ring's ledger. Default: none, i.e. greenfield: generation 1 declared as a plain
   * resource that Terraform creates.
   */
  readonly ledger?: Ledger;
  /**
   * Key policy of every generation. Default: `buildKeyPolicy(keyring)`, the very document the
   * pipeline passes to CreateKey, so adopting a pipeline-created key shows no policy diff.
   */
  readonly policyDocument?: KeyPolicyDocument;
  /** KMS key description. Default: `keyring.description`. */
  readonly description?: string;
}

/**
 * One key ring: a `aws_kms_key` per live generation (stable logical id `<keyring>_key_gen<N>`,
 * never derived from order), import blocks for keys Terraform did not create, `removed` blocks for
 * keys pending deletion, and the alias on the active generation. See generation-plan.ts for the
 * rules per ledger state.
 */
export class ManagedKey extends Construct {
  readonly keyring: KeyRingConfig;
  readonly policyDocument: KeyPolicyDocument;
  /** The rendered policy every generation carries (deterministic JSON). */
  readonly policy: string;
  readonly declarations: readonly GenerationDeclaration[];
  /** Declared keys by generation number. */
  readonly keys: ReadonlyMap<number, KmsKey>;
  /** The alias target; absent when the ledger has no active generation (e.g. after a migration back to an AWS owned key). */
  readonly activeKey?: KmsKey;
  readonly activeGeneration?: DeclaredKey;
  readonly alias?: KmsAlias;
  /** The ledger the declarations follow (absent: none yet). */
  readonly ledger?: Ledger;

  constructor(scope: Construct, id: string, props: ManagedKeyProps) {
    super(scope, id);
    const { keyring } = props;
    this.keyring = keyring;
    this.policyDocument = props.policyDocument ?? buildKeyPolicy(keyring);
    this.policy = renderKeyPolicy(this.policyDocument);
    this.ledger = props.ledger;
    this.declarations = planGenerations(keyring.name, props.ledger, { firstKeyFromPipeline: keyring.identityCenter !== undefined });

    const keys = new Map<number, KmsKey>();
    for (const declaration of this.declarations) {
      if (declaration.kind === 'removed') {
        new RemovedBlock(this, `removed_${generationConstructId(declaration.generation)}`, generationAddress(keyring.name, declaration.generation));
        continue;
      }
      keys.set(declaration.generation, this.declareKey(declaration, props.description ?? keyring.description));
    }
    this.keys = keys;

    this.activeGeneration = activeDeclaration(this.declarations);
    if (this.activeGeneration) {
      this.activeKey = keys.get(this.activeGeneration.generation)!;
      this.alias = new KmsAlias(this, 'alias', { name: keyring.alias, targetKeyId: this.activeKey.keyId });
      this.alias.overrideLogicalId(aliasLogicalId(keyring.name));
      // An adopted or pipeline-created active key came with its alias already in AWS; importing
      // it avoids an AlreadyExists failure (and is a no-op once the alias is in state).
      if (this.activeGeneration.importKeyId !== undefined) this.alias.importFrom(keyring.alias);
    }
  }

  /** Every Terraform address this key ring's keys are declared at, for messages. */
  get keyAddresses(): string[] {
    return [...this.keys.keys()].map((n) => generationAddress(this.keyring.name, n));
  }

  private declareKey(declaration: DeclaredKey, description: string): KmsKey {
    const { keyring } = this;
    const key = new KmsKey(this, generationConstructId(declaration.generation), {
      description,
      customerMasterKeySpec: KEY_SPEC,
      keyUsage: KEY_USAGE,
      // !! REPLACEMENT if it ever changed: decided per generation (replica-plan.ts), never flipped.
      ...(isMultiRegionGeneration(declaration, keyring) ? { multiRegion: true } : {}),
      enableKeyRotation: true,
      rotationPeriodInDays: keyring.rotation.automaticRotationPeriodDays,
      deletionWindowInDays: keyring.rotation.deletionWindowDays,
      isEnabled: declaration.enabled,
      policy: this.policy,
      tags: generationTags(keyring, declaration.generation),
      // Only the key in use may never be destroyed by a plan; retired generations leave through
      // the pipeline's approved ScheduleKeyDeletion and a `removed` block, never through destroy.
      lifecycle: {
        ignoreChanges: [...IGNORED_KEY_ATTRIBUTES],
        ...(declaration.active ? { preventDestroy: true } : {}),
      },
    });
    key.overrideLogicalId(generationLogicalId(keyring.name, declaration.generation));
    if (declaration.importKeyId !== undefined) key.importFrom(declaration.importKeyId);
    return key;
  }
}
