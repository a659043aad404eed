/**
 * Pure functions over a ledger's generations: which one is active, the next generation number, and
 * state changes that follow the generation lifecycle.
 * They never mutate their input; the caller writes the result through the StateStore.
 */
import { StateError } from '../errors';
import type { Generation, GenerationState, Ledger } from './types';

/**
 * Allowed moves. Forward: candidate → active → retiring → disabled → pending-deletion → deleted.
 * Backward (rollback, cancel-deletion): retiring/disabled → active (the old key returns),
 * active/candidate → abandoned (the new key is given up), pending-deletion → disabled
 * (CancelKeyDeletion leaves the key Disabled), disabled → retiring (re-enabled after soak),
 * active → candidate (alias moved back after a refused switch), pending-deletion → retiring.
 */
const TRANSITIONS: Readonly<Record<GenerationState, readonly GenerationState[]>> = {
  candidate: ['active', 'abandoned'],
  // active → candidate: the alias went back after Identity Center refused the switch; the run retries.
  active: ['retiring', 'abandoned', 'candidate'],
  retiring: ['disabled', 'pending-deletion', 'active'],
  disabled: ['pending-deletion', 'retiring', 'active'],
  // pending-deletion → retiring: CancelKeyDeletion followed by EnableKey (`cancel-deletion --enable`).
  'pending-deletion': ['deleted', 'disabled', 'retiring'],
  deleted: [],
  abandoned: ['pending-deletion'],
};

export function canTransition(from: GenerationState, to: GenerationState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The generation the alias and Identity Center target; undefined before the first one exists. */
export function activeGeneration(ledger: Ledger): Generation | undefined {
  const active = ledger.generations.filter((g) => g.state === 'active');
  if (active.length > 1) {
    throw new StateError(
      `ledger ${ledger.keyring} has ${active.length} active generations (${active.map((g) => g.generation).join(', ')}); exactly one may be active`,
      { fault: 'operator', nextStep: `restore the ledger of ${ledger.keyring} from version control, then run \`rotate status\`` },
    );
  }
  return active[0];
}

/** Generation numbers are never reused: one past the highest ever recorded. */
export function nextGenerationNumber(ledger: Ledger): number {
  return ledger.generations.reduce((max, g) => Math.max(max, g.generation), 0) + 1;
}

export function findGeneration(ledger: Ledger, generation: number): Generation {
  const found = ledger.generations.find((g) => g.generation === generation);
  if (!found) {
    throw new StateError(`ledger ${ledger.keyring} has no generation ${generation}`, {
      fault: 'operator',
      nextStep: `list the generations with \`rotate status\` and pass one of ${ledger.generations.map((g) => g.generation).join(', ') || '(none)'}`,
    });
  }
  return found;
}

export interface StateChangeOptions {
  /** Required when moving to `pending-deletion`. */
  readonly deletionDate?: string;
  readonly runId?: string;
}

/**
 * Moves one generation to `state`. Idempotent: a generation already in `state` is returned
 * unchanged (same object), so a stage re-run after a crash writes nothing new. A move the lifecycle
 * does not allow, or one that would leave two active generations, is refused.
 */
export function withGenerationState(ledger: Ledger, generation: number, state: GenerationState, at: string, options: StateChangeOptions = {}): Ledger {
  const current = findGeneration(ledger, generation);
  // Already there: the first recorded change (and deletion date, which KMS fixed) stands.
  if (current.state === state) return ledger;
  if (!canTransition(current.state, state)) {
    throw new StateError(
      `ledger ${ledger.keyring}: generation ${generation} cannot go from ${current.state} to ${state} (allowed: ${TRANSITIONS[current.state].join(', ') || 'none, it is final'})`,
      { fault: 'internal', nextStep: 'run `rotate status` to see the generation states; this is a bug if the pipeline did it' },
    );
  }
  if (state === 'pending-deletion' && options.deletionDate === undefined) {
    throw new StateError(`ledger ${ledger.keyring}: generation ${generation} needs a deletionDate to become pending-deletion`, { fault: 'internal' });
  }
  const { deletionDate: _dropped, ...rest } = current;
  const changed: Generation = {
    ...rest,
    state,
    stateChangedAt: at,
    ...(options.runId !== undefined ? { runId: options.runId } : current.runId !== undefined ? { runId: current.runId } : {}),
    ...(state === 'pending-deletion' ? { deletionDate: options.deletionDate } : {}),
  };
  const next = { ...ledger, generations: ledger.generations.map((g) => (g.generation === generation ? changed : g)), updatedAt: at };
  const active = next.generations.filter((g) => g.state === 'active');
  if (active.length > 1) {
    throw new StateError(
      `ledger ${ledger.keyring}: making generation ${generation} active would leave generations ${active.map((g) => g.generation).join(' and ')} both active`,
      { fault: 'internal', nextStep: 'retire the active generation first (promoteGeneration does both)' },
    );
  }
  return next;
}

