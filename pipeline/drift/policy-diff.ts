/**
 * Compares a live key policy with the one the policy builder makes, by meaning (as IAM reads it):
 * statement order, whitespace, key order, a single value versus a one-element list and the order
 * of values in a list do not matter; a statement missing, added or changed (by Sid) does.
 */
import type { KeyPolicyDocument, PolicyStatement } from '../policy/types';

export interface PolicyDifference {
  readonly sid: string;
  readonly change: 'missing' | 'unexpected' | 'changed';
}

type Canonical = string | number | boolean | null | Canonical[] | { [k: string]: Canonical };

/** A value as IAM compares it: lists of scalars sorted (one element = the scalar), objects by key. */
function canonical(value: unknown): Canonical {
  if (Array.isArray(value)) {
    const items = value.map(canonical);
    if (items.every((i) => typeof i !== 'object' || i === null)) {
      const sorted = [...items].sort((a, b) => String(a).localeCompare(String(b)));
      return sorted.length === 1 ? sorted[0]! : sorted;
    }
    return items;
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
  }
  return value as Canonical;
}

function statementsBySid(doc: KeyPolicyDocument): Map<string, string> {
  const statements: readonly PolicyStatement[] = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement as unknown as PolicyStatement];
  return new Map(statements.map((s, i) => [s.Sid ?? `(statement ${i + 1} without Sid)`, JSON.stringify(canonical(s))]));
}

export function diffKeyPolicy(expected: KeyPolicyDocument, live: KeyPolicyDocument): PolicyDifference[] {
  const want = statementsBySid(expected);
  const have = statementsBySid(live);
  const differences: PolicyDifference[] = [];
  for (const [sid, statement] of want) {
    const found = have.get(sid);
    if (found === undefined) differences.push({ sid, change: 'missing' });
    else if (found !== statement) differences.push({ sid, change: 'changed' });
  }
  for (const sid of have.keys()) if (!want.has(sid)) differences.push({ sid, change: 'unexpected' });
  return differences;
}

export function describePolicyDifferences(differences: readonly PolicyDifference[]): string {
  return differences.map((d) => `statement "${d.sid}" ${d.change === 'missing' ? 'is missing' : d.change === 'unexpected' ? 'is not the builder\'s' : 'differs'}`).join('; ');
}
