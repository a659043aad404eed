/**
 * A key belongs to one key ring. Its policy, its alias, its Identity Center statements and its
 * retirement are that key ring's; recorded by two (an account where two aliases share a key, both
 * adopted; or a hand-edited ledger), synth declares it twice with two policies — the last apply
 * wins, and the Identity Center key can lose its statements — and one key ring's rotation could
 * disable a key the other still uses. `adopt` refuses to make the second record; synth refuses to
 * build from it.
 */
import { KeyrotorError } from '../errors';
import type { Ledger } from './types';

export interface SharedKey {
  readonly keyArn: string;
  /** Key ring and generation of every record, in ledger order. */
  readonly records: ReadonlyArray<{ readonly keyring: string; readonly generation: number }>;
}

/** The generations a ledger holds on to: a deleted one is history and belongs to no one any more. */
function recorded(ledger: Ledger): Ledger['generations'] {
  return ledger.generations.filter((g) => g.state !== 'deleted');
}

/** The ledgers among `ledgers` that record `keyArn`. */
export function ledgersRecording(ledgers: Iterable<Ledger>, keyArn: string): Ledger[] {
  return [...ledgers].filter((l) => recorded(l).some((g) => g.keyArn === keyArn));
}

/** Keys that more than one ledger records. */
export function keysInSeveralLedgers(ledgers: Iterable<Ledger>): SharedKey[] {
  const byKey = new Map<string, Array<{ keyring: string; generation: number }>>();
  for (const ledger of ledgers) {
    for (const g of recorded(ledger)) {
      const records = byKey.get(g.keyArn) ?? [];
      if (!records.some((r) => r.keyring === ledger.keyring)) records.push({ keyring: ledger.keyring, generation: g.generation });
      byKey.set(g.keyArn, records);
    }
  }
  return [...byKey].filter(([, records]) => records.length > 1).map(([keyArn, records]) => ({ keyArn, records }));
}

export function describeSharedKey(shared: SharedKey): string {
  return `key ${shared.keyArn} is recorded by ${shared.records.map((r) => `key ring ${r.keyring} (generation ${r.generation})`).join(' and ')}`;
}

/** Throws naming every shared key; `where` says what was being read. */
export function assertOneKeyringPerKey(ledgers: Iterable<Ledger>, where: string): void {
  const shared = keysInSeveralLedgers(ledgers);
  if (shared.length === 0) return;
  throw new KeyrotorError(`${where}: ${shared.map(describeSharedKey).join('; ')}; a key belongs to one key ring (its policy, alias and retirement are that key ring's)`, {
    fault: 'operator',
    nextStep: 'find which key ring the key belongs to and restore the other ledger from version control; if two aliases share the key in AWS, give each key ring its own key (`rotate start KEYRING --kind migrate-to-cmk` or a new key before adopting)',
  });
}
