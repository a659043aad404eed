/**
 * `npm run demo` as a specification: a two-Region organization is migrated, rotated in place and
 * rotated to a new key end to end, and the rotation's AWS calls stay within 1.5× the minimum in
 * every Region (the demo command exits non-zero otherwise).
 */
import { runDemo } from '../../scripts/demo/run-demo';
import { callBudgetByRegion, MAX_RATIO, regionsOverBudget, renderCallBudget } from '../../scripts/demo/call-budget';
import type { CallLogEntry } from '../../emulator';

it('GIVEN the demo THEN every run completes in both Regions, and each Region stays within its call budget', async () => {
  const lines: string[] = [];
  const result = await runDemo({ out: (line) => lines.push(line) });
  expect([result.migration.status, result.materialRotation.status, result.rotation.status]).toEqual(['completed', 'completed', 'completed']);
  expect(result.callBudget.map((b) => b.region)).toEqual(['us-east-1', 'eu-west-1']);
  for (const b of result.callBudget) expect({ region: b.region, withinBudget: b.ratio <= MAX_RATIO, someCalls: b.total > 0 }).toEqual({ region: b.region, withinBudget: true, someCalls: true });
  const text = lines.join('\n');
  expect(text).toMatch(/replicas in eu-west-1, each with the key ring's policy/);
  expect(text).toMatch(/aws_kms_replica_key\.identity_center_key_gen2_eu_west_1 \(via provider aws\.eu-west-1, prevent_destroy\)/);
  expect(text).toMatch(/eu-west-1 +calls +minimum/);
}, 60_000);

describe('the per-Region call budget', () => {
  const call = (region: string, service: string, operation: string): CallLogEntry => ({ seq: 0, at: '', service, operation, account: '111111111111', region, caller: 'x', mutating: false, outcome: 'ok' }) as CallLogEntry;

  it('GIVEN a Region over 1.5× its minimum THEN it is reported over budget, naming the extra calls', () => {
    const log = [...Array.from({ length: 30 }, () => call('eu-west-1', 'kms', 'DescribeKey')), call('us-east-1', 'kms', 'CreateKey')];
    const budgets = callBudgetByRegion(log, { primary: 'us-east-1', replicas: ['eu-west-1'] });
    const eu = budgets.find((b) => b.region === 'eu-west-1')!;
    expect(eu.operations.find((o) => o.operation === 'kms:DescribeKey')).toEqual({ operation: 'kms:DescribeKey', calls: 30, minimum: 7 });
    expect(eu.total).toBe(30);
    expect(eu.minimum).toBe(19);
    expect(regionsOverBudget(budgets).map((b) => b.region)).toEqual(['eu-west-1']);
    expect(renderCallBudget([eu]).pop()).toMatch(/total +30 +19 += 1\.58× \(at most 1\.5×\) +OVER/);
  });

  it('GIVEN a single-Region key ring THEN the primary needs no ListRegions, ReplicateKey or replica list', () => {
    const [primary] = callBudgetByRegion([], { primary: 'us-east-1', replicas: [] });
    expect(primary!.minimum).toBe(25);
    expect(primary!.operations.map((o) => o.operation)).not.toContain('sso-admin:ListRegions');
  });
});
