/**
 * What the crash suites share: a CrashPoints that crashes at its n-th point (counting them when n
 * is infinite), and the write-ahead audit invariant.
 */
import { SimulatedCrash } from '../../pipeline/engine/engine';
import type { CrashPoints } from '../../pipeline/engine/types';
import type { Harness } from './harness';

export class CrashAt implements CrashPoints {
  count = 0;
  readonly points: string[] = [];
  constructor(private readonly at: number) {}
  hit(point: string): void {
    this.count += 1;
    this.points.push(point);
    if (this.count === this.at) throw new SimulatedCrash(point);
  }
}

const awsName = (service: string, operation: string): string => `${service === 'sso-admin' ? 'sso' : service}:${operation}`;

/**
 * The write-ahead invariant: every mutating call the emulator answered has an `aws.intent` entry
 * for the same operation and target (CreateKey's target is only known after it answered), and
 * every intent ends in an outcome or a reconciliation entry.
 */
export async function expectEveryCallAudited(h: Harness, label: string): Promise<void> {
  const audit = await h.store.readAudit();
  const intents = audit.filter((e) => e.action === 'aws.intent').map((e) => ({ operation: String(e.detail?.operation), target: String(e.detail?.target) }));
  const endings = audit.filter((e) => /^aws\.(ok|failed|reconciled-done|reconciled-not-done)$/.test(e.action)).map((e) => ({ operation: String(e.detail?.operation), target: String(e.detail?.target) }));
  const calls = h.emulator.callLog().filter((c) => c.mutating).map((c) => ({ operation: awsName(c.service, c.operation), target: c.target ?? '' }));
  const count = <T extends { operation: string; target: string }>(list: readonly T[], keyOf: (x: T) => string): Record<string, number> =>
    list.reduce<Record<string, number>>((acc, x) => ({ ...acc, [keyOf(x)]: (acc[keyOf(x)] ?? 0) + 1 }), {});
  const byTarget = (x: { operation: string; target: string }): string => (x.operation === 'kms:CreateKey' ? x.operation : `${x.operation} ${x.target}`);
  const intentCounts = count(intents, byTarget);
  const unaudited = Object.entries(count(calls, byTarget)).filter(([k, n]) => (intentCounts[k] ?? 0) < n);
  expect({ label, unaudited }).toEqual({ label, unaudited: [] });
  const endingCounts = count(endings, (x) => `${x.operation} ${x.target}`);
  const unfinished = Object.entries(count(intents, (x) => `${x.operation} ${x.target}`)).filter(([k, n]) => (endingCounts[k] ?? 0) < n);
  expect({ label, unfinished }).toEqual({ label, unfinished: [] });
}
