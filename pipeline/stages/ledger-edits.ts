/**
 * The ledger changes stages make, keyed by key ARN (what a stage knows from AWS), as pure functions
 * that return the same object when there is nothing to change — so a re-run stage never writes
 * (and never bumps a version) twice. State moves go through pipeline/ledger/generations.
 */
import type { Generation, GenerationState, IdentityCenterTarget, Ledger } from '../ledger/types';
import { withGenerationState } from '../ledger/generations';

export { nextGenerationNumber } from '../ledger/generations';

export function generationByArn(ledger: Ledger, keyArn: string | undefined): Generation | undefined {
  return keyArn ? ledger.generations.find((g) => g.keyArn === keyArn) : undefined;
}

export function addGeneration(ledger: Ledger, generation: Generation): Ledger {
  if (generationByArn(ledger, generation.keyArn)) return ledger;
  return { ...ledger, generations: [...ledger.generations, generation] };
}

/**
 * Moves generations (named by key ARN) to new states through the lifecycle's own checks
 * (withGenerationState). Demotions go first, so a promotion never sees two active generations.
 */
export function setGenerationStates(
  ledger: Ledger,
  changes: ReadonlyArray<{ keyArn: string | undefined; state: GenerationState; deletionDate?: string }>,
  at: string,
  runId: string,
): Ledger {
  const ordered = [...changes].sort((a, b) => Number(a.state === 'active') - Number(b.state === 'active'));
  return ordered.reduce((current, change) => {
    const generation = generationByArn(current, change.keyArn);
    if (!generation) return current;
    return withGenerationState(current, generation.generation, change.state, at, { runId, ...(change.deletionDate ? { deletionDate: change.deletionDate } : {}) });
  }, ledger);
}

export function setIdentityCenterTarget(ledger: Ledger, target: IdentityCenterTarget): Ledger {
  const current = ledger.identityCenter;
  if (current && current.keyType === target.keyType && ('kmsKeyArn' in current ? current.kmsKeyArn : undefined) === ('kmsKeyArn' in target ? target.kmsKeyArn : undefined)) {
    return ledger;
  }
  return { ...ledger, identityCenter: target };
}

/**
 * A generation brought back from its scheduled deletion. The deletion's `removed { destroy = false }`
 * took it out of Terraform's state, so the stacks must import it again, even when Terraform created
 * it: marked adopted, it is declared with an import block (a no-op where the state PR that removed
 * it was never applied). Left `terraform`, synth would declare it with none, and every plan would
 * create a new key at its address, which the plan guard refuses forever.
 */
export function backInTerraformByImport(ledger: Ledger, keyArn: string): Ledger {
  const generation = generationByArn(ledger, keyArn);
  if (!generation || generation.origin !== 'terraform') return ledger;
  return { ...ledger, generations: ledger.generations.map((g) => (g.keyArn === keyArn ? { ...g, origin: 'adopted' as const } : g)) };
}
