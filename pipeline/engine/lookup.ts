/**
 * Finding a key ring in the config and a run in the store, with the errors an operator needs.
 * Kept apart from the engine so read-only commands (`rotate status`) never load the AWS SDK.
 */
import type { Config, KeyRingConfig } from '../config/types';
import type { Run, StateStore } from '../state/types';
import { KeyrotorError } from '../errors';
import { closestNames } from '../runs/closest';
import { runNotFound } from '../runs/resolve-run';

export function findKeyring(config: Config, name: string): KeyRingConfig {
  const keyring = config.keyrings.find((k) => k.name === name);
  if (!keyring) {
    const names = config.keyrings.map((k) => k.name);
    const closest = closestNames(name, names);
    throw new KeyrotorError(`no key ring named "${name}" in ${config.file} (${closest.length > 0 ? `closest: ${closest.join(', ')}; ` : ''}known: ${names.join(', ') || 'none'})`, {
      fault: 'operator',
      nextStep: `${closest.length > 0 ? `did you mean ${closest[0]}? ` : ''}check the name with \`rotate lint\`, or add the key ring to the config through a pull request`,
    });
  }
  return keyring;
}

export async function loadRun(store: StateStore, runId: string): Promise<Run> {
  const run = await store.getRun(runId);
  if (!run) throw await runNotFound(store, runId);
  return run;
}
