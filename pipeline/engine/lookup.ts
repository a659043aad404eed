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

/**
 * The key ring a run acts on, as the config declares it now, refused when the config moved it: a
 * run's account, Region, alias and Identity Center instance are fixed in its plan at start, and its
 * keys live there. Clients built from a config that now says another Region or account would
 * create, repoint or undo in the wrong place (a rollback could then never find what it undoes).
 */
export function findKeyringOfRun(config: Config, run: Pick<Run, 'id' | 'keyring' | 'plan'>): KeyRingConfig {
  const keyring = findKeyring(config, run.keyring);
  const moved = locationChanges(keyring, run.plan);
  if (moved.length > 0) {
    const said = moved.map((m) => `${m.field} is ${m.now} in the config, but the run was started with ${m.planned}`).join('; ');
    throw new KeyrotorError(`key ring ${keyring.name} was moved while run ${run.id} is open: ${said}. The run's keys and alias are where it started`, {
      fault: 'operator',
      nextStep:
        `restore ${moved.map((m) => `keyrings[${keyring.name}].${m.field} to ${m.planned}`).join(' and ')} in ${config.file} to advance or roll back run ${run.id}; ` +
        'to move the key ring, finish or roll back this run first, then change the config',
    });
  }
  return keyring;
}

interface LocationChange {
  readonly field: string;
  readonly now: string;
  readonly planned: string;
}

function locationChanges(keyring: KeyRingConfig, plan: Run['plan']): LocationChange[] {
  const changes: LocationChange[] = [];
  const compare = (field: string, now: string | undefined, planned: string | undefined): void => {
    if (planned !== undefined && now !== planned) changes.push({ field, now: now === undefined ? '(absent)' : `"${now}"`, planned: `"${planned}"` });
  };
  compare('account', keyring.account, plan.account);
  compare('region', keyring.region, plan.region);
  compare('alias', keyring.alias, plan.alias);
  compare('identityCenter.instanceArn', keyring.identityCenter?.instanceArn, plan.identityCenterInstanceArn);
  return changes;
}

export async function loadRun(store: StateStore, runId: string): Promise<Run> {
  const run = await store.getRun(runId);
  if (!run) throw await runNotFound(store, runId);
  return run;
}
