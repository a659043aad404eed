/**
 * "Never switch and delete in one run step": even if the approval gate were satisfied the moment
 * it is reached (here it is forced to be), one `advance` that switched the alias and Identity
 * Center stops before schedule-deletion; only a later `advance` may delete.
 */
jest.mock('../../pipeline/approvals/gate', () => {
  const actual = jest.requireActual('../../pipeline/approvals/gate');
  const satisfied = async (run: { id: string; keyring: string }) => ({ runId: run.id, keyring: run.keyring, quorum: 1, planDigest: '', approvals: [], signers: ['forced@example.com'], blockers: [], satisfied: true, missing: 0 });
  return { ...actual, evaluateApprovals: satisfied, assertQuorum: satisfied };
});

import { createHarness, migrateToCmk, stageStatuses } from './harness';

it('GIVEN a gate that is already satisfied WHEN one advance that may delete runs the switch THEN it stops before schedule-deletion, and only a later delete schedules it', async () => {
  const h = await createHarness();
  try {
    const oldKey = (await migrateToCmk(h)).plan.newKeyArn!;
    const engine = h.engine();
    let run = await engine.advance((await engine.start(h.keyring.name, 'rotate')).id, { allowDeletion: true });
    expect(stageStatuses(run)['approval-gate']).toBe('done');
    expect(stageStatuses(run)['schedule-deletion']).toBe('pending');
    expect(h.emulator.describeKeyState(oldKey)!.keyState).toBe('Disabled');
    // A routine advance marks the run ready for deletion and stops.
    run = await h.engine().advance(run.id);
    expect(stageStatuses(run)['schedule-deletion']).toBe('waiting');
    expect(h.emulator.describeKeyState(oldKey)!.keyState).toBe('Disabled');
    run = await h.engine().advance(run.id, { allowDeletion: true });
    expect(run.status).toBe('completed');
    expect(h.emulator.describeKeyState(oldKey)!.keyState).toBe('PendingDeletion');
  } finally {
    await h.close();
  }
});
