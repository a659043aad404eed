import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { digestOf } from '../../pipeline/canonical-json';
import { createApproval, recordApproval } from '../../pipeline/approvals/approve';
import { openStateStore } from '../../pipeline/state/open';
import type { Run, StateStore } from '../../pipeline/state/types';
import { CAST, makeKeyLab, makeRun, policyFor, type KeyLab } from './fixtures';

const NOW = new Date('2026-11-23T12:00:00.000Z');
let lab: KeyLab;
let allowed: string;
let stateDir: string;
let store: StateStore;
let run: Run;

beforeAll(() => {
  lab = makeKeyLab(CAST);
  allowed = lab.allowedSigners([{ principal: 'Alice@Example.com', key: 'alice' }, { principal: 'bob@example.com', key: 'bob' }]);
});
afterAll(() => lab.cleanup());
beforeEach(async () => {
  stateDir = mkdtempSync(path.join(tmpdir(), 'keyrotor-record-'));
  store = await openStateStore({ type: 'file', dir: stateDir });
  run = await store.putRun({ ...makeRun(), version: 0 });
});
afterEach(async () => {
  await store.close();
  rmSync(stateDir, { recursive: true, force: true });
});

const approve = (who: 'alice' | 'bob', extra: { approver?: string; lifetimeHours?: number; at?: Date; on?: Run } = {}) =>
  createApproval({ run: extra.on ?? run, policy: policyFor(allowed), signingKeyPath: lab.keys[who]!.privateKey, approver: extra.approver ?? lab.keys[who]!.principal, now: extra.at ?? NOW, lifetimeHours: extra.lifetimeHours });

describe('createApproval', () => {
  it('stores the signer as allowed_signers spells it, whatever case the approver typed', async () => {
    const approval = await approve('alice', { approver: 'alice@EXAMPLE.com' });
    expect(approval.signer).toBe('Alice@Example.com');
    expect(JSON.parse(approval.payload)).toMatchObject({ approver: 'Alice@Example.com', runId: run.id });
    expect(approval.signature).toMatch(/^-----BEGIN SSH SIGNATURE-----/);
  });

  it('refuses a lifetime longer than the key ring allows', async () => {
    await expect(approve('bob', { lifetimeHours: 73 })).rejects.toThrow(/lifetime 73 h is outside 0–72 h/);
  });

  it('refuses to sign for a run whose state no longer matches its digests', async () => {
    await expect(approve('bob', { on: { ...run, plan: { ...run.plan, deletionWindowDays: 7 } } })).rejects.toThrow(/plan no longer matches its recorded plan digest/);
  });
});

describe('recordApproval', () => {
  it('stores the approval with the run and audits it once, even when recorded twice', async () => {
    const approval = await approve('bob');
    await recordApproval(store, run.id, approval);
    const again = await recordApproval(store, run.id, approval);
    expect(again.approvals).toEqual([approval]);
    expect((await store.readAudit()).filter((e) => e.action === 'approval.recorded')).toEqual([
      expect.objectContaining({ actor: 'bob@example.com', runId: run.id, keyring: 'identity-center' }),
    ]);
  });

  it('GIVEN another writer updated the run between read and write THEN it re-reads once and keeps both changes', async () => {
    const stale = (await store.getRun(run.id))!;
    await store.putRun({ ...stale, updatedAt: '2026-11-23T11:00:00.000Z' }); // the engine, say
    let reads = 0;
    // Delegates to the real store (whose own internal reads are not counted) except getRun.
    const racing = new Proxy(store, {
      get: (target, name) => {
        if (name === 'getRun') return async (id: string) => (++reads === 1 ? stale : target.getRun(id));
        const value: unknown = Reflect.get(target, name, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as StateStore;
    const stored = await recordApproval(racing, run.id, await approve('bob'));
    expect(reads).toBe(2);
    expect(stored.updatedAt).toBe('2026-11-23T11:00:00.000Z');
    expect(stored.approvals.map((a) => a.signer)).toEqual(['bob@example.com']);
  });

  it('GIVEN the plan changed while the approver was signing THEN the now-stale approval is refused, not stored', async () => {
    const approval = await approve('bob');
    const current = (await store.getRun(run.id))!;
    const plan = { ...current.plan, newKeyArn: 'arn:aws:kms:us-east-1:111111111111:key/33333333-3333-4333-8333-333333333333' };
    await store.putRun({ ...current, plan, planDigest: digestOf(plan) });
    await expect(recordApproval(store, run.id, approval)).rejects.toThrow(/changed while the approval was being signed/);
    expect((await store.getRun(run.id))!.approvals).toEqual([]);
  });

  it('names the store when the run does not exist', async () => {
    await expect(recordApproval(store, 'run-nope', await approve('bob'))).rejects.toThrow(/run run-nope not found in .*keyrotor-record-/);
  });
});
