/**
 * The ledger changes stages make, keyed by key ARN (what a stage knows from AWS), as pure functions
 * that return the same object when there is nothing to change — so a re-run stage never writes
 * (and never bumps a version) twice. Moves are checked against the generation lifecycle.
 */
import type { Generation, GenerationState, IdentityCenterTarget, Ledger } from '../ledger/types';
import { canTransition } from '../ledger/generations';
import { StateError } from '../errors';

export { nextGenerationNumber } from '../ledger/generations';

export function generationByArn(ledger: Ledger, keyArn: string | undefined): Generation | undefined {
  return keyArn ? ledger.generations.find((g) => g.keyArn === keyArn) : undefined;
}

export function addGeneration(ledger: Ledger, generation: Generation): Ledger {
  if (generationByArn(ledger, generation.keyArn)) return ledger;
  return { ...ledger, generations: [...ledger.generations, generation] };
}

export function setGenerationStates(
  ledger: Ledger,
  changes: ReadonlyArray<{ keyArn: string | undefined; state: GenerationState; deletionDate?: string }>,
  at: string,
  runId: string,
): Ledger {
  let changed = false;
  const generations = ledger.generations.map((g) => {
    const change = changes.find((c) => c.keyArn === g.keyArn);
    if (!change || (g.state === change.state && g.deletionDate === change.deletionDate)) return g;
    if (g.state !== change.state && !canTransition(g.state, change.state)) {
      throw new StateError(`ledger ${ledger.keyring}: generation ${g.generation} cannot go from ${g.state} to ${change.state}`, {
        fault: 'internal',
        nextStep: 'run `rotate status` to see the generation states; this is a bug if the pipeline did it',
      });
    }
    changed = true;
    const next: Generation = { ...g, state: change.state, stateChangedAt: at, runId };
    if (change.deletionDate) return { ...next, deletionDate: change.deletionDate };
    const { deletionDate: _dropped, ...rest } = next;
    return rest;
  });
  return changed ? { ...ledger, generations } : ledger;
}

export function setIdentityCenterTarget(ledger: Ledger, target: IdentityCenterTarget): Ledger {
  const current = ledger.identityCenter;
  if (current && current.keyType === target.keyType && ('kmsKeyArn' in current ? current.kmsKeyArn : undefined) === ('kmsKeyArn' in target ? target.kmsKeyArn : undefined)) {
    return ledger;
  }
  return { ...ledger, identityCenter: target };
}
