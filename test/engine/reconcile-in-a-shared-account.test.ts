/**
 * Reconciling a CreateKey whose answer a crash lost, in an account shared with others: the run's
 * key is found by its run tag even when some of the account's keys will not show this caller their
 * tags (another team's key policy) or vanish while the search runs — and it is never created twice.
 */
import { SimulatedCrash } from '../../pipeline/engine/engine';
import type { CrashPoints } from '../../pipeline/engine/types';
import { createHarness, migrateToCmk, stageStatuses, type Harness } from './harness';

let h: Harness;
afterEach(async () => h?.close());

async function crashRightAfterCreateKey(): Promise<string> {
  await migrateToCmk(h);
  const run = await h.engine().start(h.keyring.name, 'rotate');
  h.emulator.clearCallLog();
  // The first crash point after KMS answered CreateKey: its outcome was never recorded.
  const crash: CrashPoints = {
    hit(point) {
      if (h.emulator.callLog().some((c) => c.operation === 'CreateKey' && c.outcome === 'ok')) throw new SimulatedCrash(point);
    },
  };
  await expect(h.engine({ options: { crashPoints: crash } }).advance(run.id)).rejects.toBeInstanceOf(SimulatedCrash);
  return run.id;
}

test.each([
  ['AccessDeniedException', 'a key whose policy does not let the pipeline read its tags'],
  ['NotFoundException', 'a key deleted between the listing and the read'],
])('GIVEN %s on another key while searching (%s) WHEN the run resumes THEN that key is skipped, the run\'s key is found by its tag, and CreateKey is not sent again', async (code) => {
  h = await createHarness({ quotas: false });
  const runId = await crashRightAfterCreateKey();
  // The key of generation 1 comes first in the account's listing; its tags fail to read.
  h.emulator.failNext('kms:ListResourceTags', 1, { code, message: 'not for this caller' });
  const resumed = await h.engine().advance(runId);
  expect(stageStatuses(resumed)['approval-gate']).toBe('waiting');
  expect(h.emulator.callLog().filter((c) => c.operation === 'CreateKey' && c.outcome === 'ok')).toHaveLength(1);
  const reconciled = (await h.store.readAudit()).find((e) => e.runId === runId && e.action === 'aws.reconciled-done');
  expect(String(reconciled?.detail?.note)).toMatch(/^found arn:aws:kms:.* by its run tag$/);
});

test('GIVEN a throttled or failing tag read while searching WHEN the run resumes THEN the search stops with that error rather than guess: nothing is created', async () => {
  h = await createHarness({ quotas: false });
  const runId = await crashRightAfterCreateKey();
  h.emulator.failNext('kms:ListResourceTags', 5, { code: 'KMSInternalException', status: 500 });
  await expect(h.engine().advance(runId)).rejects.toThrow(/KMSInternalException/);
  expect(h.emulator.callLog().filter((c) => c.operation === 'CreateKey' && c.outcome === 'ok')).toHaveLength(1);
});
