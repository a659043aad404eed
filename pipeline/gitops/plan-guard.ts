/**
 * The plan guard: refuses a Terraform plan that would change what the pipeline owns.
 *
 * Terraform and the pipeline both write to the same keys, and the ledger in git lags AWS by a pull
 * request. Each attribute has one owner (DESIGN "Who owns what"); a plan made from a stale ledger
 * shows up as Terraform trying to change something it does not own. The guard reads the plan
 * (`terraform show -json`) and the synth manifest of the stack (what the ledger said at synth) and
 * refuses:
 *
 *  | rule                    | what                                                                 |
 *  |-------------------------|----------------------------------------------------------------------|
 *  | key-destroyed           | an aws_kms_key / aws_kms_replica_key deleted or replaced: keys leave only through the approval gate |
 *  | key-created-at-known-generation | a key created at the address of a generation the ledger knows: the provider reads a key pending deletion as gone and would create a new one in its place |
 *  | key-created-unknown     | any other key creation except generation 1 of a greenfield key ring (and its replicas) |
 *  | key-forgotten           | a key dropped from state that the ledger does not have pending deletion |
 *  | key-enablement-changed  | `is_enabled` (a replica's `enabled`) changed: enabling and disabling keys is the pipeline's |
 *  | alias-destroyed         | an aws_kms_alias deleted or replaced (in any Region)                 |
 *  | alias-target-changed    | `target_key_id` changed (or created outside greenfield): the pipeline moves aliases |
 *  | identity-center-changed | the Identity Center `terraform_data` created, replaced or updated to anything but the target the ledger records |
 *  | plan-errored / changes-deferred | a plan Terraform itself could not finish                     |
 *
 * Everything Terraform owns (policy, description, tags, rotation settings, monitoring) may change.
 * Replicas (`aws_kms_replica_key`) follow the rules of their generation's key; the alias of each
 * replica Region those of the key ring's alias.
 */
import type { SynthManifest, SynthManifestGeneration, SynthManifestKeyring, SynthManifestReplica } from './synth-manifest';
import { attributeChanges, changeKind, type ChangeKind, type PlanJson, type PlanResourceChange } from './plan-json';

export type PlanGuardRule =
  | 'key-destroyed'
  | 'key-created-at-known-generation'
  | 'key-created-unknown'
  | 'key-forgotten'
  | 'key-enablement-changed'
  | 'alias-destroyed'
  | 'alias-target-changed'
  | 'identity-center-changed'
  | 'plan-errored'
  | 'changes-deferred';

export interface PlanGuardFinding {
  readonly rule: PlanGuardRule;
  readonly address: string;
  readonly keyring?: string;
  readonly message: string;
  readonly nextStep: string;
}

export interface PlanGuardResult {
  readonly ok: boolean;
  readonly findings: readonly PlanGuardFinding[];
  /** One line per KMS or Identity Center resource the plan touches (allowed changes included). */
  readonly touched: readonly string[];
}

const KEY_TYPES = new Set(['aws_kms_key', 'aws_kms_replica_key']);
const ALIAS_TYPE = 'aws_kms_alias';
const DATA_TYPE = 'terraform_data';

const STALE_LEDGER =
  'merge the open rotation state PR (or wait for the rotation to finish), then re-run the deploy: it synthesizes from the newer ledger';

interface Index {
  readonly generationByAddress: Map<string, { keyring: SynthManifestKeyring; generation: SynthManifestGeneration }>;
  readonly replicaByAddress: Map<string, { keyring: SynthManifestKeyring; replica: SynthManifestReplica }>;
  readonly greenfieldAddresses: Map<string, SynthManifestKeyring>;
  readonly aliasAddresses: Map<string, SynthManifestKeyring>;
  readonly identityCenterAddresses: Map<string, SynthManifestKeyring>;
  readonly generationByKeyId: Map<string, { keyring: string; generation: number; state: string }>;
}

function indexManifest(manifest: SynthManifest): Index {
  const index: Index = {
    generationByAddress: new Map(),
    replicaByAddress: new Map(),
    greenfieldAddresses: new Map(),
    aliasAddresses: new Map(),
    identityCenterAddresses: new Map(),
    generationByKeyId: new Map(),
  };
  for (const keyring of manifest.keyrings) {
    for (const generation of keyring.generations) {
      index.generationByAddress.set(generation.address, { keyring, generation });
      index.generationByKeyId.set(keyIdOf(generation.keyArn)!, { keyring: keyring.name, generation: generation.generation, state: generation.state });
    }
    for (const replica of keyring.replicas) index.replicaByAddress.set(replica.address, { keyring, replica });
    if (keyring.greenfieldAddress) index.greenfieldAddresses.set(keyring.greenfieldAddress, keyring);
    index.aliasAddresses.set(keyring.aliasAddress, keyring);
    for (const alias of keyring.regionalAliases) index.aliasAddresses.set(alias.address, keyring);
    if (keyring.identityCenter) index.identityCenterAddresses.set(keyring.identityCenter.address, keyring);
  }
  return index;
}

/** Key id from a key id or key ARN. */
function keyIdOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value.split('/').pop() : undefined;
}

function describeKeyId(index: Index, value: unknown): string {
  const id = keyIdOf(value);
  if (id === undefined) return 'a key not known until apply';
  const known = index.generationByKeyId.get(id);
  return known ? `${id} (generation ${known.generation}, ${known.state} in the ledger)` : `${id} (not in the ledger)`;
}

export function checkPlan(plan: PlanJson, manifest: SynthManifest): PlanGuardResult {
  const index = indexManifest(manifest);
  const findings: PlanGuardFinding[] = [];
  const touched: string[] = [];

  if (plan.errored) {
    findings.push({ rule: 'plan-errored', address: '(plan)', message: 'Terraform reported errors while planning; an errored plan is never applied', nextStep: 'fix the errors `terraform plan` printed and plan again' });
  }
  for (const deferred of plan.deferred_changes ?? []) {
    findings.push({
      rule: 'changes-deferred',
      address: deferred.resource_change.address ?? '(unknown)',
      message: `Terraform deferred this change (${deferred.reason ?? 'no reason given'}), so the guard cannot see what it would do`,
      nextStep: 'plan without deferral (no -allow-deferral) so every change is visible',
    });
  }

  for (const rc of plan.resource_changes ?? []) {
    if (rc.mode !== 'managed') continue;
    const kind = changeKind(rc.change.actions);
    if (rc.type === 'aws_kms_replica_key') checkReplica(rc, kind, index, findings, touched);
    else if (KEY_TYPES.has(rc.type)) checkKey(rc, kind, index, findings, touched);
    else if (rc.type === ALIAS_TYPE) checkAlias(rc, kind, index, findings, touched);
    else if (rc.type === DATA_TYPE && isIdentityCenterData(rc, index)) checkIdentityCenter(rc, kind, index, findings, touched);
  }
  return { ok: findings.length === 0, findings, touched };
}

function checkKey(rc: PlanResourceChange, kind: ChangeKind, index: Index, findings: PlanGuardFinding[], touched: string[]): void {
  const known = index.generationByAddress.get(rc.address);
  const keyring = known?.keyring.name ?? index.greenfieldAddresses.get(rc.address)?.name;
  const refuse = (rule: PlanGuardRule, message: string, nextStep: string) => findings.push({ rule, address: rc.address, ...(keyring ? { keyring } : {}), message, nextStep });
  if (kind !== 'no-op') touched.push(`${rc.address}: ${kind}${rc.change.importing ? ' (import)' : ''}`);

  if (kind === 'delete' || kind === 'replace') {
    const paths = (rc.change.replace_paths ?? []).map((p) => p.join('.')).join(', ');
    refuse(
      'key-destroyed',
      `the plan would ${kind === 'replace' ? 'replace' : 'destroy'} this KMS key${rc.action_reason ? ` (${rc.action_reason})` : ''}${paths ? `; forced by ${paths}` : ''}. Terraform's destroy schedules the key's deletion, bypassing the approval gate`,
      kind === 'replace'
        ? 'change the config back so no attribute forces replacement (key spec, key usage, multi-Region), or rotate through the pipeline'
        : 'a generation that must go is retired through the pipeline (`rotate start <keyring> --kind retire-key`); if the ledger lost it, restore the ledger',
    );
    return;
  }
  if (kind === 'create') {
    if (!known && index.greenfieldAddresses.has(rc.address)) return; // generation 1 of a greenfield key ring
    if (known) {
      const { generation } = known;
      refuse(
        'key-created-at-known-generation',
        `the plan would create a new key at the address of generation ${generation.generation} (${generation.keyArn}), which the ledger has as ${generation.state}. ` +
          'Terraform\'s refresh found no usable key there: the provider reads a key pending deletion as gone, so this is what a deploy plans when ScheduleKeyDeletion ran after the ledger it used (the state PR not merged yet) — or when the key was deleted outside the pipeline',
        `${STALE_LEDGER}; if no rotation is in flight, run \`rotate drift ${known.keyring.name}\` to see what happened to the key`,
      );
      return;
    }
    refuse('key-created-unknown', 'the plan would create a KMS key at an address the ledger does not know; new generations come only from the pipeline (`rotate start`)', 'synthesize again from the current config and ledger (`rotate synth`) and plan that output');
    return;
  }
  if (kind === 'forget') {
    if (known && known.generation.declaredAs === 'removed') return;
    refuse(
      'key-forgotten',
      `the plan would drop this key from Terraform's state, but the ledger has ${known ? `generation ${known.generation.generation} as ${known.generation.state}` : 'no such generation'}`,
      'synthesize again from the current ledger; only generations pending deletion leave the state',
    );
    return;
  }
  if (kind === 'update') {
    const change = enablementChange(rc, 'is_enabled', 'this key');
    if (change) refuse('key-enablement-changed', `${change}. Enabling and disabling generations is the pipeline's: a stale ledger here disables the key Identity Center uses`, STALE_LEDGER);
  }
}

/** "the plan would disable KEY (ATTRIBUTE true → false)" when the plan changes the key's enablement. */
function enablementChange(rc: PlanResourceChange, attribute: 'is_enabled' | 'enabled', what: string): string | undefined {
  const enabled = attributeChanges(rc, attribute);
  if (!enabled.changed) return undefined;
  const verb = enabled.after === true ? 'enable' : enabled.after === false ? 'disable' : 'change the enablement of';
  return `the plan would ${verb} ${what} (${attribute} ${String(enabled.before)} → ${enabled.unknown ? '(known after apply)' : String(enabled.after)})`;
}

/** A replica follows its generation's rules: it leaves through the gate, only greenfield ones are created by Terraform, the pipeline enables and disables it. */
function checkReplica(rc: PlanResourceChange, kind: ChangeKind, index: Index, findings: PlanGuardFinding[], touched: string[]): void {
  const known = index.replicaByAddress.get(rc.address);
  const refuse = (rule: PlanGuardRule, message: string, nextStep: string) => findings.push({ rule, address: rc.address, ...(known ? { keyring: known.keyring.name } : {}), message, nextStep });
  if (kind !== 'no-op') touched.push(`${rc.address}: ${kind}${rc.change.importing ? ' (import)' : ''}`);
  const what = known ? `the replica of generation ${known.replica.generation} in ${known.replica.region}` : 'this replica key';

  if (kind === 'delete' || kind === 'replace') {
    refuse(
      'key-destroyed',
      `the plan would ${kind === 'replace' ? 'replace' : 'destroy'} ${what}${rc.action_reason ? ` (${rc.action_reason})` : ''}. Terraform's destroy schedules the replica's deletion, bypassing the approval gate, and a multi-Region Identity Center needs a replica in each of its Regions`,
      'keep the Region in the config (replicas leave with their generation, through the pipeline); if the ledger lost the replica, restore the ledger',
    );
    return;
  }
  if (kind === 'create') {
    if (known?.replica.greenfield && known.replica.declaredAs === 'replica') return; // with generation 1 of a greenfield key ring
    if (known?.replica.keyArn) {
      refuse(
        'key-created-at-known-generation',
        `the plan would create a new key in place of ${what} (${known.replica.keyArn}), which the ledger records. Terraform's refresh found no usable replica there: one pending deletion reads as gone, so this is what a deploy plans when the pipeline scheduled its deletion after the ledger it used`,
        `${STALE_LEDGER}; if no rotation is in flight, run \`rotate drift ${known.keyring.name}\` to see what happened to the replica`,
      );
      return;
    }
    refuse(
      'key-created-unknown',
      'the plan would create a replica key the ledger does not know; a Region added to the config gets its replica with the next new key (`rotate start`), which replicates to every configured Region',
      'synthesize again from the current config and ledger (`rotate synth`) and plan that output; then rotate to add the Region',
    );
    return;
  }
  if (kind === 'forget') {
    if (known?.replica.declaredAs === 'removed') return;
    refuse('key-forgotten', `the plan would drop ${what} from Terraform's state, but the ledger does not have it pending deletion`, 'synthesize again from the current ledger; only replicas pending deletion leave the state');
    return;
  }
  if (kind === 'update') {
    const change = enablementChange(rc, 'enabled', what);
    if (change) refuse('key-enablement-changed', `${change}. Enabling and disabling generations, replicas included, is the pipeline's`, STALE_LEDGER);
  }
}

function checkAlias(rc: PlanResourceChange, kind: ChangeKind, index: Index, findings: PlanGuardFinding[], touched: string[]): void {
  const keyring = index.aliasAddresses.get(rc.address);
  const refuse = (rule: PlanGuardRule, message: string, nextStep: string) => findings.push({ rule, address: rc.address, ...(keyring ? { keyring: keyring.name } : {}), message, nextStep });
  if (kind !== 'no-op') touched.push(`${rc.address}: ${kind}${rc.change.importing ? ' (import)' : ''}`);

  if (kind === 'delete' || kind === 'replace') {
    refuse('alias-destroyed', `the plan would ${kind === 'replace' ? 'replace' : 'delete'} this alias; consumers resolve the key through it`, 'restore the alias in the config (its name must not change); a key ring is retired through `rotate start <keyring> --kind migrate-to-aws-owned`');
    return;
  }
  if (kind === 'create') {
    if (keyring?.greenfield) return; // greenfield: the alias on the generation 1 Terraform creates
    refuse(
      'alias-target-changed',
      `the plan would create this alias on ${describeKeyId(index, rc.change.after?.target_key_id)}; outside a greenfield key ring the alias exists already and the pipeline points it`,
      keyring ? `adopt the existing alias and key first: \`rotate start ${keyring.name} --kind adopt\`` : 'synthesize again from the current config and ledger',
    );
    return;
  }
  if (kind !== 'update') return;
  const target = attributeChanges(rc, 'target_key_id');
  if (!target.changed || keyIdOf(target.before) === keyIdOf(target.after) && !target.unknown) return;
  refuse(
    'alias-target-changed',
    `the plan would move the alias from ${describeKeyId(index, target.before)} to ${target.unknown ? 'a key not known until apply' : describeKeyId(index, target.after)}. The pipeline moves aliases and the ledger follows through a state PR; a deploy that moves one is working from a ledger behind AWS`,
    STALE_LEDGER,
  );
}

/**
 * after_unknown mirrors `after` with `true` for each value not known until apply and known leaves
 * left out (an all-known object is `{}`), per Terraform's jsonplan unknownAsBool.
 */
function containsUnknown(marker: unknown): boolean {
  if (marker === true) return true;
  if (Array.isArray(marker)) return marker.some(containsUnknown);
  if (marker && typeof marker === 'object') return Object.values(marker).some(containsUnknown);
  return false;
}

/** A terraform_data at a key ring's Identity Center address, or one whose input names an Identity Center instance. */
function isIdentityCenterData(rc: PlanResourceChange, index: Index): boolean {
  if (index.identityCenterAddresses.has(rc.address)) return true;
  const input = (values: Record<string, unknown> | null | undefined) => (values?.input ?? values?.triggers_replace) as Record<string, unknown> | undefined;
  return [rc.change.before, rc.change.after].some((v) => typeof input(v)?.instance_arn === 'string' && String(input(v)!.instance_arn).startsWith('arn:aws:sso:'));
}

function checkIdentityCenter(rc: PlanResourceChange, kind: ChangeKind, index: Index, findings: PlanGuardFinding[], touched: string[]): void {
  const keyring = index.identityCenterAddresses.get(rc.address);
  if (kind === 'no-op' || kind === 'read') return;
  touched.push(`${rc.address}: ${kind}`);
  // Dropping the resource runs nothing (the helper runs only at create): Identity Center keeps its key.
  if (kind === 'delete' || kind === 'forget') return;
  const recorded = keyring?.identityCenter?.target ?? null;
  const input = (rc.change.after?.input ?? null) as Record<string, unknown> | null;
  const inputUnknown = typeof rc.change.after_unknown === 'object' && rc.change.after_unknown !== null && containsUnknown(rc.change.after_unknown.input);
  const problem = (() => {
    if (!keyring?.identityCenter) return 'the stack declares no Identity Center setting at this address';
    if (recorded === null) return `the ledger of ${keyring.name} records no Identity Center target (first use: the pipeline must adopt or switch first)`;
    if (inputUnknown || input === null) return 'its target is not known until apply, i.e. a key this apply creates — one that never passed verify-key and the integration checks';
    if (input.instance_arn !== keyring.identityCenter.instanceArn) return `it names instance ${String(input.instance_arn)}, not ${keyring.identityCenter.instanceArn}`;
    if (input.key_type !== recorded.keyType) return `it sets ${String(input.key_type)} but the ledger records ${recorded.keyType}`;
    const wanted = recorded.keyType === 'CUSTOMER_MANAGED_KEY' ? recorded.kmsKeyArn : undefined;
    if ((input.kms_key_arn ?? undefined) !== wanted) return `it sets key ${String(input.kms_key_arn ?? '(none)')} but the ledger records ${wanted ?? 'an AWS owned key'}`;
    return undefined;
  })();
  if (problem === undefined) return; // converges to exactly what the pipeline already set: the helper makes no call
  findings.push({
    rule: 'identity-center-changed',
    address: rc.address,
    ...(keyring ? { keyring: keyring.name } : {}),
    message: `the plan would ${kind} the Identity Center encryption setting, and ${problem}. Only the pipeline's switch stage points Identity Center at a key`,
    nextStep: keyring && recorded === null ? `run \`rotate start ${keyring.name} --kind migrate-to-cmk\` (or \`--kind adopt\`), merge its state PR, then deploy` : STALE_LEDGER,
  });
}
