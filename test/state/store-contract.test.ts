/**
 * The StateStore contract, run against both implementations: whatever the backend, ledgers and
 * runs round-trip, writes are conditional on the version read, leases keep one run per key ring,
 * and the audit log is a verifiable hash chain that concurrent appenders never fork.
 */
import { StateError } from '../../pipeline/errors';
import type { StateStore } from '../../pipeline/state/types';
import { dynamoDbStoreFactory, fileStoreFactory, sampleLedger, sampleRun, type SharedLocation, TestClock } from './harness';

describe.each([fileStoreFactory(), dynamoDbStoreFactory()])('$name', (factory) => {
  let location: SharedLocation;
  let store: StateStore;

  beforeAll(() => factory.setUp());
  afterAll(() => factory.tearDown());
  beforeEach(async () => {
    location = factory.newLocation();
    store = await factory.open(location);
  });

  describe('ledgers', () => {
    it('GIVEN no ledger WHEN it is read THEN it is undefined, and the list is empty', async () => {
      expect(await store.getLedger('identity-center')).toBeUndefined();
      expect(await store.listLedgers()).toEqual([]);
    });

    it('GIVEN a new ledger at version 0 WHEN it is put THEN it is stored at version 1 and reads back equal', async () => {
      const written = await store.putLedger(sampleLedger());
      expect(written.version).toBe(1);
      expect(await store.getLedger('identity-center')).toEqual(written);
    });

    it('GIVEN a stored ledger WHEN it is updated from the version read THEN the version goes up by one', async () => {
      const v1 = await store.putLedger(sampleLedger());
      const v2 = await store.putLedger({ ...v1, updatedAt: '2026-02-01T00:00:00.000Z' });
      expect(v2.version).toBe(2);
      expect((await store.getLedger('identity-center'))?.updatedAt).toBe('2026-02-01T00:00:00.000Z');
    });

    it('GIVEN two ledgers WHEN listed THEN both come back, sorted by key ring', async () => {
      await store.putLedger(sampleLedger('zeta'));
      await store.putLedger(sampleLedger('alpha'));
      expect((await store.listLedgers()).map((l) => l.keyring)).toEqual(['alpha', 'zeta']);
    });

    it('GIVEN a stored ledger WHEN someone creates it again at version 0 THEN a StateError says it already exists', async () => {
      await store.putLedger(sampleLedger());
      await expect(store.putLedger(sampleLedger())).rejects.toThrow(/ledger identity-center already exists \(version 1/);
    });

    it('GIVEN no ledger WHEN it is written at version 3 THEN a StateError says it does not exist', async () => {
      await expect(store.putLedger(sampleLedger('identity-center', 3))).rejects.toThrow(/does not exist \(you had version 3\)/);
    });

    it('GIVEN a bad version WHEN it is put THEN a StateError names the ledger', async () => {
      await expect(store.putLedger(sampleLedger('identity-center', -1))).rejects.toThrow(/ledger identity-center: version -1/);
    });

    it('GIVEN a key ring name that could escape the store WHEN used THEN it is refused', async () => {
      await expect(store.getLedger('../etc/passwd')).rejects.toThrow(StateError);
      await expect(store.putLedger(sampleLedger('a/b'))).rejects.toThrow(/key ring "a\/b" cannot be stored/);
    });
  });

  describe('runs and conditional writes', () => {
    it('GIVEN a run WHEN put and read THEN it round-trips with version 1', async () => {
      const written = await store.putRun(sampleRun());
      expect(written.version).toBe(1);
      expect(await store.getRun('run-1')).toEqual(written);
      expect(await store.getRun('run-2')).toBeUndefined();
    });

    it('GIVEN two writers that read the same version WHEN both write THEN exactly one wins and the other gets a conflict naming both versions', async () => {
      const v1 = await store.putRun(sampleRun());
      const other = await factory.open(location);
      const results = await Promise.allSettled([
        store.putRun({ ...v1, status: 'waiting' }),
        other.putRun({ ...v1, status: 'failed' }),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]!.reason).toBeInstanceOf(StateError);
      expect((lost[0]!.reason as Error).message).toBe('run run-1 was changed by someone else (version 2, you had 1): re-run the command');
      const stored = await store.getRun('run-1');
      expect(stored?.version).toBe(2);
      expect(stored?.status).toBe((won[0] as PromiseFulfilledResult<{ status: string }>).value.status);
    });

    it('GIVEN runs on two key rings in several states WHEN listed with filters THEN only the matching runs come back, oldest first', async () => {
      await store.putRun({ ...sampleRun('run-b', 'ring-a'), createdAt: '2026-01-02T00:00:00.000Z' });
      await store.putRun({ ...sampleRun('run-a', 'ring-a'), status: 'completed' });
      await store.putRun({ ...sampleRun('run-c', 'ring-b'), status: 'waiting' });
      expect((await store.listRuns()).map((r) => r.id)).toEqual(['run-a', 'run-c', 'run-b']);
      expect((await store.listRuns({ keyring: 'ring-a' })).map((r) => r.id)).toEqual(['run-a', 'run-b']);
      expect((await store.listRuns({ open: true })).map((r) => r.id)).toEqual(['run-c', 'run-b']);
      expect((await store.listRuns({ keyring: 'ring-a', open: false })).map((r) => r.id)).toEqual(['run-a']);
    });
  });

  describe('leases', () => {
    let clock: TestClock;
    beforeEach(async () => {
      clock = new TestClock();
      store = await factory.open(location, clock);
    });

    it('GIVEN a free key ring WHEN a run takes the lease THEN it holds it until now + ttl', async () => {
      const lease = await store.acquireLease('identity-center', 'run-1', 'alice', 60_000);
      expect(lease).toEqual({ keyring: 'identity-center', runId: 'run-1', holder: 'alice', expiresAt: '2026-01-01T00:01:00.000Z' });
      expect(await store.getLease('identity-center')).toEqual(lease);
    });

    it('GIVEN a lease held by another run WHEN a second run asks THEN a StateError names the holder, the run and what to run next', async () => {
      await store.acquireLease('identity-center', 'run-1', 'alice', 60_000);
      const error = await store.acquireLease('identity-center', 'run-2', 'bob', 60_000).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StateError);
      expect((error as StateError).message).toMatch(/leased to run run-1 \(holder alice\) until 2026-01-01T00:01:00.000Z; run run-2 cannot take it/);
      expect((error as StateError).nextStep).toMatch(/rotate advance run-1/);
      expect((await store.getLease('identity-center'))?.runId).toBe('run-1');
    });

    it('GIVEN an expired lease WHEN another run asks THEN it takes the lease over', async () => {
      await store.acquireLease('identity-center', 'run-1', 'alice', 60_000);
      clock.advance(60_001);
      const lease = await store.acquireLease('identity-center', 'run-2', 'bob', 60_000);
      expect(lease.runId).toBe('run-2');
      expect((await store.getLease('identity-center'))?.holder).toBe('bob');
    });

    it('GIVEN a lease held by the same run WHEN it asks again THEN the lease is renewed', async () => {
      await store.acquireLease('identity-center', 'run-1', 'alice', 60_000);
      clock.advance(30_000);
      const renewed = await store.acquireLease('identity-center', 'run-1', 'alice', 60_000);
      expect(renewed.expiresAt).toBe('2026-01-01T00:01:30.000Z');
    });

    it('GIVEN a held lease WHEN its run releases it THEN another run can take it; releasing again or by another run changes nothing', async () => {
      await store.acquireLease('identity-center', 'run-1', 'alice', 60_000);
      await store.releaseLease('identity-center', 'run-2');
      expect((await store.getLease('identity-center'))?.runId).toBe('run-1');
      await store.releaseLease('identity-center', 'run-1');
      await store.releaseLease('identity-center', 'run-1');
      expect(await store.getLease('identity-center')).toBeUndefined();
      expect((await store.acquireLease('identity-center', 'run-2', 'bob', 1000)).runId).toBe('run-2');
    });

    it('GIVEN a non-positive ttl WHEN a lease is asked for THEN it is refused', async () => {
      await expect(store.acquireLease('identity-center', 'run-1', 'alice', 0)).rejects.toThrow(/ttlMs 0 must be a positive/);
    });
  });

  describe('audit log', () => {
    it('GIVEN an empty log WHEN verified THEN it is intact with 0 entries', async () => {
      expect(await store.verifyAudit()).toEqual({ ok: true, entries: 0 });
      expect(await store.readAudit()).toEqual([]);
    });

    it('GIVEN three appends WHEN read back THEN they are numbered 1..3, linked from 64 zeros, and verify', async () => {
      const first = await store.appendAudit({ actor: 'alice', action: 'run.start', runId: 'run-1', keyring: 'identity-center' });
      await store.appendAudit({ actor: 'alice', action: 'kms:CreateKey', detail: { keyArn: 'arn:aws:kms:us-east-1:111111111111:key/x' } });
      await store.appendAudit({ actor: 'bob', action: 'approval.recorded', at: '2026-03-01T00:00:00.000Z' });
      const entries = await store.readAudit();
      expect(entries.map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(entries[0]).toEqual(first);
      expect(first.prevHash).toBe('0'.repeat(64));
      expect(entries[1]!.prevHash).toBe(entries[0]!.hash);
      expect(entries[2]!.at).toBe('2026-03-01T00:00:00.000Z');
      expect(entries[1]!.detail).toEqual({ keyArn: 'arn:aws:kms:us-east-1:111111111111:key/x' });
      expect(await store.verifyAudit()).toEqual({ ok: true, entries: 3 });
    });

    it('GIVEN several store instances appending in parallel WHEN done THEN the chain holds every entry exactly once and never forks', async () => {
      const instances = await Promise.all(Array.from({ length: 4 }, () => factory.open(location)));
      // allSettled: a failed append must fail the expectations below, not leave calls in flight.
      const results = await Promise.allSettled(
        instances.flatMap((instance, i) =>
          Array.from({ length: 5 }, (_, j) => instance.appendAudit({ actor: `writer-${i}`, action: 'test.append', detail: { j } })),
        ),
      );
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      const entries = await store.readAudit();
      expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, k) => k + 1));
      expect(new Set(entries.map((e) => `${e.actor}/${String(e.detail?.j)}`)).size).toBe(20);
      expect(await store.verifyAudit()).toEqual({ ok: true, entries: 20 });
    });
  });
});
