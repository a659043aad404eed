/**
 * The StateStore contract, run against both implementations: whatever the backend, ledgers and
 * runs round-trip, writes are conditional on the version read, leases keep one run per key ring,
 * and the audit log is a verifiable hash chain that concurrent appenders never fork.
 */
import { exitCodeFor, FenceLostError, RunBusyError, StateError } from '../../pipeline/errors';
import type { StateStore } from '../../pipeline/state/types';
import { dynamoDbStoreFactory, fileStoreFactory, sampleLedger, sampleRun, type SharedLocation, TestClock } from './harness';
import { pidNamespace } from '../../pipeline/state/pid-namespace';

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
      for (const id of ['run-1', 'run-2']) await store.putRun(sampleRun(id));
    });

    it('GIVEN a free key ring WHEN a stored run takes the lease THEN it holds it until now + ttl', async () => {
      const lease = await store.acquireLease('identity-center', 'run-1', 'alice', 60_000);
      expect(lease).toEqual({ keyring: 'identity-center', runId: 'run-1', holder: 'alice', expiresAt: '2026-01-01T00:01:00.000Z' });
      expect(await store.getLease('identity-center')).toEqual(lease);
    });

    it('GIVEN a run that was never stored WHEN it asks for the lease THEN it is refused: the run exists before its lease', async () => {
      await expect(store.acquireLease('identity-center', 'run-9', 'alice', 60_000)).rejects.toThrow(/run run-9 must be stored before it takes its key ring's lease/);
      expect(await store.getLease('identity-center')).toBeUndefined();
    });

    it('GIVEN a lease held by another open run WHEN a second run asks THEN a StateError names the holder, the run and what to run next', async () => {
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

    it('GIVEN an unexpired lease whose run has ended WHEN another run asks THEN it takes the lease over', async () => {
      await store.acquireLease('identity-center', 'run-1', 'alice', 60_000);
      const stored = (await store.getRun('run-1'))!;
      await store.putRun({ ...stored, status: 'completed' });
      expect((await store.acquireLease('identity-center', 'run-2', 'bob', 60_000)).runId).toBe('run-2');
    });

    it('GIVEN an unexpired lease whose run is not found WHEN another run asks THEN it is refused, naming the missing run', async () => {
      await store.putRun(sampleRun('run-ghost', 'ghost-ring'));
      await store.putRun(sampleRun('run-3', 'ghost-ring'));
      await store.acquireLease('ghost-ring', 'run-ghost', 'alice', 60_000);
      // The run vanishes (a partial restore): its lease must not be mistaken for a free one.
      await factory.removeRaw(location, 'run', 'run-ghost');
      expect(await store.getRun('run-ghost')).toBeUndefined();
      await expect(store.acquireLease('ghost-ring', 'run-3', 'bob', 60_000)).rejects.toThrow(/leased to run run-ghost, which is not in the/);
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

  describe('execution locks and fencing', () => {
    let clock: TestClock;
    const alive = new Set<number>([4_000_001, 4_000_002]);
    const holder = (pid: number, actor: string) => ({ host: require('node:os').hostname() as string, pid, actor, command: 'advance' });
    const ref = { id: 'run-1', keyring: 'identity-center' };
    beforeEach(async () => {
      clock = new TestClock();
      store = await factory.open(location, clock, { isAlive: (pid) => alive.has(pid) });
      await store.putRun(sampleRun());
    });

    it('GIVEN a free run WHEN one process takes its lock and a second asks THEN the second is refused at once, naming host, pid and since when', async () => {
      const lock = await store.acquireRunLock(ref, holder(4_000_001, 'alice'), 60_000);
      expect(lock.token).toMatch(/^[0-9a-f]{32}$/);
      const error = await store.acquireRunLock(ref, holder(4_000_002, 'bob'), 60_000).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RunBusyError);
      expect((error as Error).message).toBe(`run run-1 is being acted on by alice (\`rotate advance\`, pid 4000001 on ${require('node:os').hostname()}) since 2026-01-01T00:00:00.000Z; nothing was changed`);
      expect(exitCodeFor(error)).toBe(2);
      expect(await store.getRunLock(ref)).toEqual(lock);
    });

    it('GIVEN a lock whose process is gone on this host WHEN another process asks THEN it takes the lock over at once', async () => {
      await store.acquireRunLock(ref, holder(4_000_099, 'crashed'), 60_000);
      const lock = await store.acquireRunLock(ref, holder(4_000_001, 'alice'), 60_000);
      expect((await store.getRunLock(ref))?.token).toBe(lock.token);
    });

    it('GIVEN a lock whose holder shares this host\'s name from another PID namespace (a container) WHEN its pid looks dead here THEN it is not taken over before it expires', async () => {
      if (pidNamespace() === undefined) return; // no PID namespaces on this platform
      await store.acquireRunLock(ref, { ...holder(4_000_099, 'container'), pidNamespace: '1' }, 60_000);
      await expect(store.acquireRunLock(ref, holder(4_000_001, 'alice'), 60_000)).rejects.toBeInstanceOf(RunBusyError);
      clock.advance(60_001);
      await expect(store.acquireRunLock(ref, holder(4_000_001, 'alice'), 60_000)).resolves.toEqual(expect.objectContaining({ runId: 'run-1' }));
    });

    it('GIVEN a lock held on another host WHEN it expires THEN it can be taken over, and not before', async () => {
      await store.acquireRunLock(ref, { host: 'ci-runner-7', pid: 12, actor: 'ci' }, 60_000);
      await expect(store.acquireRunLock(ref, holder(4_000_001, 'alice'), 60_000)).rejects.toBeInstanceOf(RunBusyError);
      clock.advance(60_001);
      await expect(store.acquireRunLock(ref, holder(4_000_001, 'alice'), 60_000)).resolves.toEqual(expect.objectContaining({ runId: 'run-1' }));
    });

    it('GIVEN a held lock WHEN its holder writes with it as the fence THEN the write succeeds; renewing extends the expiry', async () => {
      const lock = await store.acquireRunLock(ref, holder(4_000_001, 'alice'), 60_000);
      const stored = (await store.getRun('run-1'))!;
      await expect(store.putRun({ ...stored, status: 'waiting' }, lock)).resolves.toEqual(expect.objectContaining({ version: 2 }));
      clock.advance(30_000);
      const renewed = await store.renewRunLock(lock, 60_000);
      expect(renewed.expiresAt).toBe('2026-01-01T00:01:30.000Z');
      expect((await store.getRunLock(ref))?.expiresAt).toBe(renewed.expiresAt);
      expect((await store.getRun('run-1'))?.version).toBe(2);
    });

    it('GIVEN a holder whose lock expired and was taken over WHEN it writes, renews or writes the ledger THEN each is refused as fence lost and nothing changes', async () => {
      const stale = await store.acquireRunLock(ref, { host: 'paused-host', pid: 5, actor: 'alice' }, 60_000);
      clock.advance(60_001);
      const current = await store.acquireRunLock(ref, holder(4_000_002, 'bob'), 60_000);
      const stored = (await store.getRun('run-1'))!;
      const write = await store.putRun({ ...stored, status: 'failed' }, stale).catch((e: unknown) => e);
      expect(write).toBeInstanceOf(FenceLostError);
      expect((write as Error).message).toMatch(/no longer holds run run-1's execution lock \(bob \(pid 4000002 on .*\) took it over/);
      await expect(store.renewRunLock(stale, 60_000)).rejects.toBeInstanceOf(FenceLostError);
      await expect(store.putLedger(sampleLedger(), stale)).rejects.toBeInstanceOf(FenceLostError);
      expect(await store.getLedger('identity-center')).toBeUndefined();
      expect((await store.getRun('run-1'))?.status).toBe('open');
      await expect(store.putRun({ ...stored, status: 'waiting' }, current)).resolves.toEqual(expect.objectContaining({ status: 'waiting' }));
    });

    it('GIVEN a held lock WHEN released THEN another process takes it at once; a stale release changes nothing', async () => {
      const first = await store.acquireRunLock(ref, holder(4_000_001, 'alice'), 60_000);
      await store.releaseRunLock(first);
      expect(await store.getRunLock(ref)).toBeUndefined();
      const second = await store.acquireRunLock(ref, holder(4_000_002, 'bob'), 60_000);
      await store.releaseRunLock(first);
      expect((await store.getRunLock(ref))?.token).toBe(second.token);
    });

    it('GIVEN many processes racing for one free lock THEN exactly one wins', async () => {
      const stores = await Promise.all(Array.from({ length: 6 }, () => factory.open(location, clock, { isAlive: () => true })));
      const results = await Promise.allSettled(stores.map((s, i) => s.acquireRunLock(ref, holder(4_100_000 + i, `p${i}`), 60_000)));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof RunBusyError)).toBe(true);
    });
  });

  describe('validated reads', () => {
    it('GIVEN a ledger whose generation state was hand-edited to an unknown value WHEN read THEN a StateError names the record, the field, the value and the fix', async () => {
      await factory.writeRaw(location, 'ledger', 'identity-center', { ...sampleLedger(), version: 1, generations: [{ ...sampleLedger().generations[0]!, state: 'retired' }] });
      const error = (await store.getLedger('identity-center').catch((e: unknown) => e)) as StateError;
      expect(error).toBeInstanceOf(StateError);
      expect(exitCodeFor(error)).toBe(2);
      expect(error.message).toMatch(/the ledger of key ring identity-center in .* is not valid: generations\[0\]\.state: .*\(value "retired"\)\. Nothing was changed/);
      expect(error.nextStep).toMatch(/restore|backup/);
    });

    it('GIVEN a ledger with two active generations WHEN listed THEN it is refused naming both generations', async () => {
      const two = { ...sampleLedger(), version: 1, generations: [sampleLedger().generations[0]!, { ...sampleLedger().generations[0]!, generation: 2, keyId: 'k2', keyArn: 'arn:aws:kms:us-east-1:111111111111:key/k2' }] };
      await factory.writeRaw(location, 'ledger', 'identity-center', two);
      await expect(store.listLedgers()).rejects.toThrow(/generations 1 and 2 are both active/);
    });

    it('GIVEN a ledger stored under identity-center whose keyring field says Identity-Center WHEN read or listed THEN it is invalid like any bad field: the StateError names the record, the field and the fix (commands no longer disagree about whether it exists)', async () => {
      await factory.writeRaw(location, 'ledger', 'identity-center', { ...sampleLedger('Identity-Center'), version: 1 });
      for (const read of [() => store.getLedger('identity-center'), () => store.listLedgers()]) {
        const error = (await read().catch((e: unknown) => e)) as StateError;
        expect(error).toBeInstanceOf(StateError);
        expect(exitCodeFor(error)).toBe(2);
        expect(error.message).toMatch(
          /^the ledger of key ring identity-center in .*(identity-center\.json|LEDGER \/ identity-center).* is not valid: keyring: "Identity-Center" does not match the (file name identity-center\.json|item key LEDGER \/ identity-center) \(it must be "identity-center"\)\. Nothing was changed$/,
        );
        expect(error.nextStep).toMatch(/restore .*(version control|backup)/);
      }
    });

    it('GIVEN a run stored under run-1 whose id says run-2 (a copied file or item) WHEN read or listed THEN it is invalid, naming the id and where it is stored', async () => {
      await factory.writeRaw(location, 'run', 'run-1', { ...sampleRun(), id: 'run-2', version: 1 });
      for (const read of [() => store.getRun('run-1'), () => store.listRuns()]) {
        const error = (await read().catch((e: unknown) => e)) as StateError;
        expect(error).toBeInstanceOf(StateError);
        expect(exitCodeFor(error)).toBe(2);
        expect(error.message).toMatch(/is not valid: id: "run-2" does not match the (file name run-1\.json|item key RUN \/ run-1) \(it must be "run-1"\)/);
      }
    });

    it('GIVEN a run whose plan lost the key it retires WHEN read THEN the plan field is named', async () => {
      const { oldKeyArn: _dropped, ...plan } = sampleRun().plan;
      await factory.writeRaw(location, 'run', 'run-1', { ...sampleRun(), version: 1, plan });
      await expect(store.getRun('run-1')).rejects.toThrow(/plan\.oldKeyArn/);
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

    it('GIVEN ten entries WHEN a range is verified THEN it is checked against the entry before it, and the head names the last entry', async () => {
      for (let i = 1; i <= 10; i++) await store.appendAudit({ actor: 'alice', action: `a${i}` });
      const entries = await store.readAudit({ fromSeq: 4, toSeq: 6 });
      expect(entries.map((e) => e.seq)).toEqual([4, 5, 6]);
      expect(await store.verifyAudit({ fromSeq: 4, toSeq: 6 })).toEqual({ ok: true, entries: 3 });
      expect(await store.verifyAudit({ fromSeq: 7 })).toEqual({ ok: true, entries: 4 });
      expect(await store.auditHead()).toEqual({ seq: 10, hash: (await store.readAudit({ fromSeq: 10 }))[0]!.hash });
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
