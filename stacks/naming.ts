/**
 * Names of stacks and Terraform addresses. They end up in state files and import/removed blocks,
 * so they must be pure functions of stable inputs (account, Region, key ring name, generation
 * number) and never of declaration order.
 */

/** `keys-111111111111-us-east-1`: one stack per account+Region. */
export function stackNameFor(account: string, region: string): string {
  return `keys-${account}-${region}`;
}

/**
 * Terraform identifier prefix of a key ring: its name with `-` as `_` (key ring names are
 * `[a-z0-9-]`, so the mapping is one-to-one and the result is a valid identifier).
 */
export function keyringLogicalPrefix(keyring: string): string {
  return keyring.replace(/-/g, '_');
}

/** Construct id of a generation's key inside its ManagedKey: `key_gen<N>`. */
export function generationConstructId(generation: number): string {
  return `key_gen${generation}`;
}

/** Logical id (Terraform resource name) of a generation's key: `<keyring>_key_gen<N>`. */
export function generationLogicalId(keyring: string, generation: number): string {
  return `${keyringLogicalPrefix(keyring)}_${generationConstructId(generation)}`;
}

/** Full Terraform address of a generation's key, as used by `removed { from = … }`. */
export function generationAddress(keyring: string, generation: number): string {
  return `aws_kms_key.${generationLogicalId(keyring, generation)}`;
}

/** Logical id of a key ring's alias: `<keyring>_alias`. */
export function aliasLogicalId(keyring: string): string {
  return `${keyringLogicalPrefix(keyring)}_alias`;
}

/** Logical id of a key ring's Identity Center setting: `<keyring>_identity_center_encryption`. */
export function identityCenterLogicalId(keyring: string): string {
  return `${keyringLogicalPrefix(keyring)}_identity_center_encryption`;
}
