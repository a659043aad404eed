/**
 * Tags of a generation's key, shared by the stacks and the pipeline: CreateKey applies exactly
 * `createKeyTags(...)`, which is what the stacks declare plus the run tag the stacks ignore, so
 * adopting a pipeline-created key with an import block shows no tag diff.
 */
import type { KeyRingConfig } from './config/types';

/** Applied by every stack's AWS provider (`default_tags`) to everything it manages. */
export const KEYROTOR_PROVIDER_DEFAULT_TAGS: Readonly<Record<string, string>> = { 'keyrotor:managed-by': 'keyrotor' };

export const KEYRING_TAG = 'keyrotor:keyring';
export const GENERATION_TAG = 'keyrotor:generation';

/** The key ring's own tags plus `keyrotor:keyring` and `keyrotor:generation` (which win over same-named config tags). */
export function generationTags(keyring: KeyRingConfig, generation: number): Record<string, string> {
  return { ...keyring.tags, [KEYRING_TAG]: keyring.name, [GENERATION_TAG]: String(generation) };
}

/** Marks the key a run created, so a resumed create-key finds it instead of creating a second one. */
export const RUN_ID_TAG = 'keyrotor:run-id';

/** Tags for the pipeline's CreateKey: the declared tags, the provider's default tags and the run tag. */
export function createKeyTags(keyring: KeyRingConfig, generation: number, runId: string): Record<string, string> {
  return { ...KEYROTOR_PROVIDER_DEFAULT_TAGS, ...generationTags(keyring, generation), [RUN_ID_TAG]: runId };
}
