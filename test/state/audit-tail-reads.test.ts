/**
 * Range reads of the file store's audit log near its end read only the active segment's tail —
 * the incremental chain reads of a long-running process (a fleet's gates) — and give exactly what
 * a full read gives; any tail that is not consecutive and well-formed is read and judged in full.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AUDIT_LOG_FILE, FileStateStore } from '../../pipeline/state/file-store';

let dir: string;
let store: FileStateStore;
beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'keyrotor-audit-tail-'));
  store = new FileStateStore(dir, { lock: { onNote: () => undefined } });
  for (let i = 0; i < 600; i++) {
    await store.appendAudit({ actor: 'test', action: 'test.entry', keyring: 'k', detail: { i, text: 'x'.repeat(i % 7 === 0 ? 300 : 20), auditHead: { seq: i, hash: 'a'.repeat(64) } } });
  }
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const log = () => path.join(dir, AUDIT_LOG_FILE);

describe('range reads near the end', () => {
  it('GIVEN 600 entries WHEN entries from 590 (or past the end) are read and verified THEN they equal the full read\'s, and the range verifies', async () => {
    const all = await store.readAudit();
    expect(await store.readAudit({ fromSeq: 590 })).toEqual(all.slice(589));
    expect(await store.readAudit({ fromSeq: 601 })).toEqual([]);
    expect(await store.verifyAudit({ fromSeq: 590 })).toEqual({ ok: true, entries: 11 });
    expect(await store.readAudit({ fromSeq: 2, toSeq: 3 })).toEqual(all.slice(1, 3));
  });

  it('GIVEN an entry of the tail edited WHEN the range is verified THEN the edit is found', async () => {
    const lines = readFileSync(log(), 'utf8').split('\n');
    lines[594] = lines[594]!.replace('"test.entry"', '"test.edited"');
    writeFileSync(log(), lines.join('\n'));
    const verification = await store.verifyAudit({ fromSeq: 590 });
    expect(verification.ok).toBe(false);
    expect(verification.problem!.seq).toBe(595);
  });

  it('GIVEN a line moved out of order into the tail WHEN the range is read THEN the tail is not trusted: the result is the whole log\'s read, filtered, and a full verification reports the reordering', async () => {
    const lines = readFileSync(log(), 'utf8').trimEnd().split('\n');
    const moved = lines.splice(10, 1)[0]!;
    lines.splice(597, 0, moved);
    writeFileSync(log(), `${lines.join('\n')}\n`);
    const whole = await store.readAudit();
    expect(await store.readAudit({ fromSeq: 590 })).toEqual(whole.filter((e) => e.seq >= 590));
    expect((await store.verifyAudit()).ok).toBe(false);
  });

  it('GIVEN an unreadable line in the tail WHEN the range is read THEN the error names its true line number', async () => {
    const lines = readFileSync(log(), 'utf8').split('\n');
    lines[597] = lines[597]!.replace('"actor":"test"', '"actor":');
    writeFileSync(log(), lines.join('\n'));
    await expect(store.readAudit({ fromSeq: 595 })).rejects.toThrow(/line 598 of .*audit\.jsonl is not an audit entry/);
  });
});
