/**
 * Finding a key ring in the config and a run in the store, with the errors an operator needs.
 * Kept apart from the engine so read-only commands (`rotate status`) never load the AWS SDK.
 */
import type { Config, KeyRingConfig } from '../config/types';
import type { Run, StateStore } from '../state/types';
import { KeyrotorError } from '../errors';

export function findKeyring(config: Config, name: string): KeyRingConfig {
  const keyring = config.keyrings.find((k) => k.name === name);
  if (!keyring) {
    throw new KeyrotorError(`no key ring named "${name}" in ${config.file} (known: ${config.keyrings.map((k) => k.name).join(', ') || 'none'})`, {
      fault: 'operator',
      nextStep: 'check the name with `rotate lint`, or add the key ring to the config through a pull request',
    });
  }
  return keyring;
}

export async function loadRun(store: StateStore, runId: string): Promise<Run> {
  const run = await store.getRun(runId);
  if (!run) {
    throw new KeyrotorError(`no run with id "${runId}" in the ${store.description}`, {
      fault: 'operator',
      nextStep: 'list runs with `rotate status`',
    });
  }
  return run;
}
