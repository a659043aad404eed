/**
 * A gate judged again and again in one process (a fleet's gates while they wait, the deletion's own
 * quorum check) reads the audit chain incrementally and verifies each approval's signature once —
 * and still sees every new entry, still catches a rewritten chain, and never keeps a failure.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { readChain } from '../../pipeline/approvals/chain';
import { collectApprovals } from '../../pipeline/approvals/files';
import { evaluateApprovals } from '../../pipeline/approvals/gate';
import { hashAuditEntry } from '../../pipeline/state/audit-chain';
import { AUDIT_HEAD_FILE, AUDIT_LOG_FILE } from '../../pipeline/state/file-store';
import type { AuditEntry } from '../../pipeline/state/types';
import { makeLab, openWorld, type Lab, type World } from './fixtures';

let lab: Lab;
let w: World;
beforeAll(() => {
  lab = makeLab();
});
afterAll(() => lab.cleanup());
afterEach(async () => w?.close());

const signers = () => [lab.line('alice', 'alice@example.com'), lab.line('bob', 'bob@example.com'), lab.line('operator', 'operator@example.com')];

describe('the audit chain, read again in one process', () => {
  it('GIVEN a chain read once WHEN entries are appended THEN the next read has them all, verified, exactly as a full read', async () => {
    w = await openWorld(lab, { signers: signers() });
    const first = await readChain(w.store);
    for (let i = 0; i < 3; i++) await w.store.appendAudit({ actor: 'test', action: 'test.append', keyring: 'identity-center', detail: { i, auditHead: { seq: 1, hash: 'f'.repeat(64) } } });
    const again = await readChain(w.store);
    expect(again.entries.map((e) => e.seq)).toEqual([...first.entries.map((e) => e.seq), first.entries.length + 1, first.entries.length + 2, first.entries.length + 3]);
    expect(again.entries).toEqual(await w.store.readAudit());
    expect(again.verification).toEqual(await w.store.verifyAudit());
  });

  it('GIVEN a chain read once WHEN it is rewritten wholesale (every hash recomputed) THEN the next read falls back to a full read and an approval anchored in the old chain no longer counts', async () => {
    w = await openWorld(lab, { signers: signers() });
    await w.approve('alice');
    await w.approve('bob');
    expect((await w.evaluate()).satisfied).toBe(true);
    const file = path.join(w.dir, 'state', AUDIT_LOG_FILE);
    const entries = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditEntry);
    let prev = '0'.repeat(64);
    const rewritten = entries.map((e) => {
      const { hash: _h, ...rest } = { ...e, at: e.seq === 1 ? '2020-01-01T00:00:00.000Z' : e.at, prevHash: prev };
      const hash = hashAuditEntry(rest as AuditEntry);
      prev = hash;
      return { ...rest, hash };
    });
    writeFileSync(file, `${rewritten.map((e) => JSON.stringify(e)).join('\n')}\n`);
    writeFileSync(path.join(w.dir, 'state', AUDIT_HEAD_FILE), JSON.stringify({ seq: rewritten.length, hash: prev, segmentStart: 1 }));
    const result = await w.evaluate();
    expect(result.satisfied).toBe(false);
    expect(result.approvals.map((a) => a.rejection)).toEqual(['unanchored', 'unanchored']);
  });
});

describe('signatures, verified again in one process', () => {
  it('GIVEN a gate judged three times THEN each approval\'s signature is verified by ssh-keygen once; a signature that fails is re-verified every time', async () => {
    w = await openWorld(lab, { signers: signers() });
    await w.approve('alice');
    await w.craft('bob', { signWith: lab.keys.alice!.privateKey, name: 'forged.json' }); // signed with the wrong key: never verifies
    const calls = path.join(w.dir, 'verify-calls');
    const wrapper = path.join(w.dir, 'ssh-keygen-counting');
    writeFileSync(wrapper, `#!/bin/sh\ncase "$*" in *"-Y verify"*) echo x >> ${JSON.stringify(calls)};; esac\nexec ssh-keygen "$@"\n`);
    chmodSync(wrapper, 0o755);
    const judge = async () => {
      const run = await w.run();
      return evaluateApprovals(run, { now: new Date(), collected: await collectApprovals(run, w.approvalsDir), chain: await w.chain(), ssh: { binary: wrapper } });
    };
    const verdicts = [await judge(), await judge(), await judge()].map((r) => r.approvals.map((a) => a.counts));
    expect(verdicts).toEqual([[true, false], [true, false], [true, false]].map((v) => expect.arrayContaining(v)));
    const verifyCalls = readFileSync(calls, 'utf8').trim().split('\n').length;
    // alice's verified once; the forged one three times, never kept.
    expect(verifyCalls).toBe(1 + 3);
  });
});
