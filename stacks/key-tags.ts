/**
 * Tags of a generation's key. The pipeline's CreateKey must apply exactly
 * `{ ...KEYROTOR_PROVIDER_DEFAULT_TAGS, ...generationTags(keyring, n) }` (this file imports no cdktf),
 * so that adopting a pipeline-created key with an import block shows no tag diff.
 */
import type { KeyRingConfig } from '../pipeline/config/types';

/** Applied by every stack's AWS provider (`default_tags`) to everything it manages. */
export const KEYROTOR_PROVIDER_DEFAULT_TAGS: Readonly<Record<string, string>> = { 'keyrotor:managed-by': 'keyrotor' };

export const KEYRING_TAG = 'keyrotor:keyring';
export const GENERATION_TAG = 'keyrotor:generation';

/** The key ring's own tags plus `keyrotor:keyring` and `keyrotor:generation` (which win over same-named config tags). */
export function generationTags(keyring: KeyRingConfig, generation: number): Record<string, string> {
  return { ...keyring.tags, [KEYRING_TAG]: keyring.name, [GENERATION_TAG]: String(generation) };
}
