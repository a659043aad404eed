/**
 * A key's on-demand rotation budget from ListKeyRotations (the pure function `rotate status`,
 * `rotate drift` and the rotate-material stage share).
 */
import { describeBudget, onDemandRefusal, rotationBudget, ON_DEMAND_ROTATION_LIMIT } from '../../pipeline/material-rotation/budget';

const entry = (day: number, type: string, current = false) => ({ KeyMaterialId: `m${day}`, KeyMaterialState: current ? 'CURRENT' : 'NON_CURRENT', RotationDate: new Date(Date.UTC(2026, 0, day)), RotationType: type });

describe('rotationBudget', () => {
  it('GIVEN no rotations THEN the whole budget of 25 remains and the history is empty', () => {
    expect(rotationBudget({ Rotations: [] })).toEqual({ limit: 25, onDemandUsed: 0, remaining: 25, automatic: 0, history: [] });
    expect(rotationBudget({})).toEqual(expect.objectContaining({ remaining: 25 }));
  });

  it('GIVEN automatic and on-demand rotations over several pages THEN only ON_DEMAND ones count, and the history is oldest first', () => {
    const budget = rotationBudget([{ Rotations: [entry(3, 'ON_DEMAND'), entry(1, 'AUTOMATIC')] }, { Rotations: [entry(5, 'ON_DEMAND', true)] }]);
    expect(budget).toEqual(expect.objectContaining({ onDemandUsed: 2, remaining: 23, automatic: 1 }));
    expect(budget.history.map((h) => [h.date?.slice(0, 10), h.type, h.current])).toEqual([
      ['2026-01-01', 'AUTOMATIC', false],
      ['2026-01-03', 'ON_DEMAND', false],
      ['2026-01-05', 'ON_DEMAND', true],
    ]);
  });

  it('GIVEN the first material listed (ALL_KEY_MATERIAL, no RotationType) and ISO string dates THEN it is history, not a rotation', () => {
    const budget = rotationBudget({ Rotations: [{ KeyMaterialId: 'first', KeyMaterialState: 'NON_CURRENT' }, { ...entry(2, 'ON_DEMAND', true), RotationDate: '2026-01-02T00:00:00Z' }] });
    expect(budget.onDemandUsed).toBe(1);
    expect(budget.history).toHaveLength(2);
  });

  it('GIVEN more ON_DEMAND entries than the limit (a bad reading) THEN remaining never goes below 0', () => {
    const budget = rotationBudget({ Rotations: Array.from({ length: 27 }, (_, i) => entry(i + 1, 'ON_DEMAND')) });
    expect(budget.remaining).toBe(0);
  });
});

describe('onDemandRefusal', () => {
  const withUsed = (used: number) => rotationBudget({ Rotations: Array.from({ length: used }, (_, i) => entry(i + 1, 'ON_DEMAND')) });

  it.each([
    [0, 5, undefined],
    [19, 5, undefined], // 6 left, one more leaves 5: exactly the reserve
    [20, 5, 'the key has 5 of 25 on-demand rotations left; one more would leave 4, below the reserve of 5 (rotation.onDemandRotationReserve)'],
    [24, 0, undefined],
    [ON_DEMAND_ROTATION_LIMIT, 0, 'the key has used all 25 on-demand rotations KMS allows for its lifetime'],
  ])('GIVEN %i used and a reserve of %i THEN %s', (used, reserve, expected) => {
    expect(onDemandRefusal(withUsed(used), reserve)).toBe(expected);
  });
});

it('describeBudget says what is left and when the key last rotated', () => {
  expect(describeBudget(rotationBudget({ Rotations: [entry(1, 'AUTOMATIC'), entry(4, 'ON_DEMAND', true)] }))).toBe('24 of 25 on-demand rotations left (1 used, 1 automatic); last rotation ON_DEMAND on 2026-01-04');
  expect(describeBudget(rotationBudget({}))).toBe('25 of 25 on-demand rotations left (0 used, 0 automatic); never rotated');
});
