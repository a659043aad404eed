/**
 * What a generation's ledger state means in KMS, and when the ledger may move a generation from
 * `pending-deletion` to `deleted`. Pure functions: the checks and the tests share them.
 */
import type { Generation, GenerationState } from '../ledger/types';

/** The KeyState (or absence) KMS should report for a generation in `state`. */
export type ExpectedKeyState = 'Enabled' | 'Disabled' | 'PendingDeletion' | 'absent';

export function expectedKeyState(generation: Pick<Generation, 'state' | 'deletionDate'>): ExpectedKeyState {
  const byState: Record<GenerationState, ExpectedKeyState> = {
    candidate: 'Enabled',
    active: 'Enabled',
    retiring: 'Enabled',
    disabled: 'Disabled',
    // A rolled-back candidate is disabled by create-key's undo; a dated one was scheduled for deletion.
    abandoned: generation.deletionDate ? 'PendingDeletion' : 'Disabled',
    'pending-deletion': 'PendingDeletion',
    deleted: 'absent',
  };
  return byState[generation.state];
}

/**
 * KMS deletes a key at the end of its waiting period. A `pending-deletion` generation whose date
 * has passed and whose key KMS no longer has is `deleted`; one whose key is still there is not
 * (KMS may take a while past the date), and one gone before its date is drift, not deletion.
 */
export function isDueForDeleted(generation: Pick<Generation, 'state' | 'deletionDate'>, liveState: string | undefined, now: Date): boolean {
  return (
    generation.state === 'pending-deletion' &&
    generation.deletionDate !== undefined &&
    Date.parse(generation.deletionDate) <= now.getTime() &&
    liveState === undefined
  );
}
