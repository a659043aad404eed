/**
 * The hash chain on its own, independent of any store: how each kind of tampering is named.
 */
import { chainAuditEntry, GENESIS_HASH, hashAuditEntry, verifyAuditChain } from '../../pipeline/state/audit-chain';
import type { AuditEntry } from '../../pipeline/state/types';

const NOW = new Date('2026-01-01T00:00:00.000Z');

function chainOf(count: number): AuditEntry[] {
  const entries: AuditEntry[] = [];
  for (let i = 0; i < count; i++) entries.push(chainAuditEntry(entries[i - 1], { actor: 'alice', action: `step.${i + 1}` }, NOW));
  return entries;
}

describe('audit chain', () => {
  it('GIVEN the first entry THEN seq 1, prevHash of 64 zeros, and a hash over every other field', () => {
    const [first] = chainOf(1);
    expect(first).toMatchObject({ seq: 1, prevHash: GENESIS_HASH, at: NOW.toISOString(), actor: 'alice', action: 'step.1' });
    expect(first!.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hashAuditEntry(first!)).toBe(first!.hash);
    expect(hashAuditEntry({ ...first!, actor: 'bob' })).not.toBe(first!.hash);
  });

  it('GIVEN an intact chain and a matching head THEN ok', () => {
    const entries = chainOf(4);
    expect(verifyAuditChain(entries, { seq: 4, hash: entries[3]!.hash })).toEqual({ ok: true, entries: 4 });
  });

  it('GIVEN a head that lags the log (crash between append and head write) THEN still ok', () => {
    const entries = chainOf(4);
    expect(verifyAuditChain(entries, { seq: 3, hash: entries[2]!.hash }).ok).toBe(true);
  });

  it('GIVEN a head whose hash differs from the entry at its seq THEN that entry was replaced', () => {
    const entries = chainOf(3);
    expect(verifyAuditChain(entries, { seq: 3, hash: 'f'.repeat(64) }).problem).toEqual({
      seq: 3,
      reason: 'entry 3 differs from the one the head recorded: it was replaced',
    });
  });

  it('GIVEN the log emptied but a head remains THEN the removal is reported at entry 1', () => {
    expect(verifyAuditChain([], { seq: 2, hash: 'a'.repeat(64) })).toEqual({
      ok: false,
      entries: 0,
      problem: { seq: 1, reason: 'the log ends at entry 0 but the head records entry 2: the tail was removed' },
    });
  });

  it('GIVEN a first entry not linked to the genesis hash THEN reported at seq 1', () => {
    const first = chainAuditEntry({ seq: 0, hash: 'b'.repeat(64) }, { actor: 'mallory', action: 'x' }, NOW);
    expect(verifyAuditChain([first]).problem?.seq).toBe(1);
    expect(verifyAuditChain([first]).problem?.reason).toMatch(/prevHash differs/);
  });

  it('GIVEN an entry with a non-numeric seq THEN reported at its position', () => {
    const entries = chainOf(2);
    const bad = { ...entries[1]!, seq: 'two' as unknown as number };
    expect(verifyAuditChain([entries[0]!, bad]).problem).toEqual({
      seq: 2,
      reason: 'entry at position 2 has seq two: entries were reordered or an entry was inserted',
    });
  });

  it('GIVEN the last two entries swapped THEN reordering is reported, not removal', () => {
    const entries = chainOf(4);
    expect(verifyAuditChain([entries[0]!, entries[1]!, entries[3]!, entries[2]!]).problem?.reason).toMatch(/reordered/);
  });
});
