/**
 * The audit log's hash chain, shared by every StateStore. Each entry's hash covers all of its
 * fields (canonical JSON) including the previous entry's hash, so editing, reordering, removing or
 * inserting an entry breaks a link. Removing the *last* entry leaves a valid shorter chain, so the
 * stores also keep a head pointer (last seq and hash), written after each append, and verification
 * compares the chain's tail with it.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../canonical-json';
import type { AuditEntry, AuditHead, AuditVerification, NewAuditEntry } from './types';

export type { AuditHead } from './types';

/** prevHash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** sha256 hex over the canonical JSON of every field of the entry except `hash`. */
export function hashAuditEntry(entry: Omit<AuditEntry, 'hash'> | AuditEntry): string {
  const { hash: _ignored, ...fields } = entry as AuditEntry;
  return createHash('sha256').update(canonicalJson(fields)).digest('hex');
}

/** Builds the entry that follows `previous` (undefined for the first entry of the log). */
export function chainAuditEntry(previous: AuditHead | undefined, entry: NewAuditEntry, now: Date): AuditEntry {
  const unhashed: Omit<AuditEntry, 'hash'> = {
    ...entry,
    at: entry.at ?? now.toISOString(),
    seq: previous ? previous.seq + 1 : 1,
    prevHash: previous ? previous.hash : GENESIS_HASH,
  };
  return { ...unhashed, hash: hashAuditEntry(unhashed) };
}

/**
 * Checks the chain from the first entry and reports the first problem: the seq of the entry where
 * the chain stops being trustworthy, and why. With `head`, a log shorter than the head (its tail
 * removed) or whose entry at the head's seq has another hash is reported too. A head that lags the
 * log (a crash between the append and the head write) is not a problem: the chain itself proves
 * the extra entries, and the next append moves the head.
 */
export function verifyAuditChain(entries: readonly AuditEntry[], head?: AuditHead, anchor?: AuditHead): AuditVerification {
  const broken = (seq: number, reason: string): AuditVerification => ({
    ok: false,
    entries: entries.length,
    problem: { seq, reason },
  });

  // `anchor` is the entry just before `entries` when only part of the chain is checked.
  const firstSeq = anchor ? anchor.seq + 1 : 1;
  let previous: Pick<AuditEntry, 'seq' | 'hash'> | undefined = anchor && anchor.seq > 0 ? anchor : undefined;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    const next = entries[i + 1];
    const expectedSeq = firstSeq + i;
    if (entry.seq !== expectedSeq) {
      if (Number.isInteger(entry.seq) && entry.seq < expectedSeq && previous?.seq === entry.seq) {
        return broken(entry.seq, `two entries carry seq ${entry.seq}: one of them was inserted`);
      }
      if (entries.slice(i + 1).some((later) => later.seq === expectedSeq)) {
        return broken(expectedSeq, `entry ${expectedSeq} is out of place (seq ${String(entry.seq)} stands where it should be): entries were reordered`);
      }
      if (Number.isInteger(entry.seq) && entry.seq > expectedSeq) {
        return broken(expectedSeq, `entry ${expectedSeq} is missing (the next entry has seq ${entry.seq}): an entry was removed`);
      }
      return broken(expectedSeq, `entry at position ${expectedSeq} has seq ${String(entry.seq)}: entries were reordered or an entry was inserted`);
    }
    if (hashAuditEntry(entry) !== entry.hash) {
      if (next?.seq === entry.seq) {
        return broken(entry.seq, `entry ${entry.seq} does not match its hash and another entry carries the same seq: it was inserted`);
      }
      return broken(entry.seq, `entry ${entry.seq} was edited: its content does not match its hash`);
    }
    const expectedPrev = previous ? previous.hash : GENESIS_HASH;
    if (entry.prevHash !== expectedPrev) {
      // Both hashes are self-consistent, so the previous entry was replaced wholesale (hash
      // recomputed) or this one was re-linked; either way the chain breaks at the earlier seq.
      const seq = previous ? previous.seq : entry.seq;
      return broken(seq, `entry ${entry.seq} does not link to entry ${entry.seq - 1} (prevHash differs): entry ${seq} was replaced or an entry was removed before it`);
    }
    previous = entry;
  }

  if (head && head.seq > 0) {
    const last = previous?.seq ?? 0;
    if (head.seq > last) {
      return broken(last + 1, `the log ends at entry ${last} but the head records entry ${head.seq}: the tail was removed`);
    }
    const atHead = entries[head.seq - firstSeq];
    if (atHead === undefined) return { ok: true, entries: entries.length };
    if (atHead.hash !== head.hash) {
      return broken(head.seq, `entry ${head.seq} differs from the one the head recorded: it was replaced`);
    }
  }
  return { ok: true, entries: entries.length };
}
