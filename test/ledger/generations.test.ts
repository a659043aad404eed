import { StateError } from '../../pipeline/errors';
import { activeGeneration, canTransition, nextGenerationNumber, withGenerationState } from '../../pipeline/ledger/generations';
import { addGeneration, setGenerationStates } from '../../pipeline/stages/ledger-edits';
import type { Generation, GenerationState, Ledger } from '../../pipeline/ledger/types';

const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-02-01T00:00:00.000Z';

function gen(generation: number, state: GenerationState, extra: Partial<Generation> = {}): Generation {
  return {
    generation,
    keyId: `key-${generation}`,
    keyArn: `arn:aws:kms:us-east-1:111111111111:key/key-${generation}`,
    state,
    origin: 'pipeline',
    createdAt: T0,
    stateChangedAt: T0,
    ...extra,
  };
}

function ledgerOf(...generations: Generation[]): Ledger {
  return { keyring: 'identity-center', version: 3, generations, updatedAt: T0 };
}

describe('ledger generations', () => {
  describe('activeGeneration', () => {
    it('GIVEN one active among others THEN returns it', () => {
      expect(activeGeneration(ledgerOf(gen(1, 'retiring'), gen(2, 'active')))?.generation).toBe(2);
    });
    it('GIVEN no generations THEN returns undefined', () => {
      expect(activeGeneration(ledgerOf())).toBeUndefined();
    });
    it('GIVEN two active generations (a hand-edited ledger) THEN a StateError names both', () => {
      expect(() => activeGeneration(ledgerOf(gen(1, 'active'), gen(2, 'active')))).toThrow(/2 active generations \(1, 2\)/);
    });
  });

  describe('nextGenerationNumber', () => {
    it('GIVEN an empty ledger THEN 1', () => expect(nextGenerationNumber(ledgerOf())).toBe(1));
    it('GIVEN generations 1 and 4 (2 and 3 deleted and pruned) THEN 5, never a reused number', () => {
      expect(nextGenerationNumber(ledgerOf(gen(1, 'active'), gen(4, 'deleted')))).toBe(5);
    });
  });

  describe('addGeneration (what create-key and adopt-key record)', () => {
    it('GIVEN a ledger WHEN a key is added THEN it is appended as given, and the input is untouched', () => {
      const before = ledgerOf(gen(1, 'active'));
      const after = addGeneration(before, gen(2, 'candidate', { runId: 'run-1' }));
      expect(after.generations.map((g) => [g.generation, g.state, g.runId])).toEqual([[1, 'active', undefined], [2, 'candidate', 'run-1']]);
      expect(before.generations).toHaveLength(1);
    });
    it('GIVEN a key already recorded WHEN added again (a resumed stage) THEN the very same ledger comes back', () => {
      const ledger = ledgerOf(gen(1, 'active'), gen(2, 'candidate'));
      expect(addGeneration(ledger, gen(2, 'candidate'))).toBe(ledger);
    });
  });

  describe('withGenerationState', () => {
    it('GIVEN retiring WHEN scheduled for deletion THEN the state, the date, the run and the change time are recorded', () => {
      const after = withGenerationState(ledgerOf(gen(1, 'retiring'), gen(2, 'active')), 1, 'pending-deletion', T1, { deletionDate: '2026-03-03', runId: 'run-9' });
      expect(after.generations[0]).toMatchObject({ state: 'pending-deletion', deletionDate: '2026-03-03', runId: 'run-9', stateChangedAt: T1 });
      expect(after.generations[1]).toEqual(gen(2, 'active'));
    });
    it('GIVEN pending-deletion WHEN the deletion is cancelled THEN it is disabled and the deletion date is gone', () => {
      const after = withGenerationState(ledgerOf(gen(1, 'pending-deletion', { deletionDate: '2026-03-03' })), 1, 'disabled', T1);
      expect(after.generations[0]!.state).toBe('disabled');
      expect(after.generations[0]!.deletionDate).toBeUndefined();
    });
    it('GIVEN the generation already in the state WHEN applied again THEN the very same ledger comes back (idempotent)', () => {
      const ledger = ledgerOf(gen(1, 'retiring'));
      expect(withGenerationState(ledger, 1, 'retiring', T1)).toBe(ledger);
    });
    it('GIVEN a move the lifecycle forbids WHEN applied THEN a StateError names both states and the allowed ones', () => {
      expect(() => withGenerationState(ledgerOf(gen(1, 'deleted')), 1, 'active', T1)).toThrow(/generation 1 cannot go from deleted to active \(allowed: none, it is final\)/);
      expect(() => withGenerationState(ledgerOf(gen(1, 'candidate')), 1, 'pending-deletion', T1, { deletionDate: 'x' })).toThrow(/allowed: active, abandoned/);
    });
    it('GIVEN pending-deletion without a date THEN refused', () => {
      expect(() => withGenerationState(ledgerOf(gen(1, 'retiring')), 1, 'pending-deletion', T1)).toThrow(/needs a deletionDate/);
    });
    it('GIVEN an active generation WHEN a candidate is made active directly THEN refused: two would be active', () => {
      expect(() => withGenerationState(ledgerOf(gen(1, 'active'), gen(2, 'candidate')), 2, 'active', T1)).toThrow(/generations 1 and 2 both active/);
    });
    it('GIVEN an unknown generation THEN a StateError lists the known ones', () => {
      const error = (() => {
        try {
          withGenerationState(ledgerOf(gen(1, 'active')), 7, 'retiring', T1);
        } catch (e) {
          return e as StateError;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(StateError);
      expect(error?.message).toBe('ledger identity-center has no generation 7');
      expect(error?.nextStep).toMatch(/one of 1$/);
    });
  });

  describe('setGenerationStates (by key ARN, as the stages know them)', () => {
    const arn = (n: number): string => gen(n, 'active').keyArn;
    it('GIVEN an active and a candidate WHEN the switch is recorded (new active listed first) THEN the old one retires first and no two are ever active', () => {
      const after = setGenerationStates(ledgerOf(gen(1, 'active'), gen(2, 'candidate')), [{ keyArn: arn(2), state: 'active' }, { keyArn: arn(1), state: 'retiring' }], T1, 'run-1');
      expect(after.generations.map((g) => [g.generation, g.state, g.runId])).toEqual([
        [1, 'retiring', 'run-1'],
        [2, 'active', 'run-1'],
      ]);
    });
    it('GIVEN the change already recorded WHEN applied again THEN the very same ledger comes back', () => {
      const ledger = ledgerOf(gen(1, 'retiring'), gen(2, 'active'));
      expect(setGenerationStates(ledger, [{ keyArn: arn(2), state: 'active' }, { keyArn: arn(1), state: 'retiring' }], T1, 'run-1')).toBe(ledger);
    });
    it('GIVEN a switched ledger WHEN the alias goes back THEN the old one is active again and the new one a candidate', () => {
      const after = setGenerationStates(ledgerOf(gen(1, 'retiring'), gen(2, 'active')), [{ keyArn: arn(1), state: 'active' }, { keyArn: arn(2), state: 'candidate' }], T1, 'run-1');
      expect(after.generations.map((g) => [g.generation, g.state])).toEqual([[1, 'active'], [2, 'candidate']]);
    });
    it('GIVEN the old generation already pending deletion WHEN made active THEN refused: cancel the deletion first', () => {
      expect(() => setGenerationStates(ledgerOf(gen(1, 'pending-deletion', { deletionDate: 'd' }), gen(2, 'abandoned')), [{ keyArn: arn(1), state: 'active' }], T1, 'run-1')).toThrow(
        /generation 1 cannot go from pending-deletion to active/,
      );
      expect(canTransition('pending-deletion', 'disabled')).toBe(true);
    });
    it('GIVEN a key ARN the ledger does not know THEN nothing changes', () => {
      const ledger = ledgerOf(gen(1, 'active'));
      expect(setGenerationStates(ledger, [{ keyArn: 'arn:aws:kms:us-east-1:111111111111:key/other', state: 'retiring' }], T1, 'run-1')).toBe(ledger);
    });
  });
});
