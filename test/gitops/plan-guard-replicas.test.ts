/**
 * The plan guard on multi-Region key rings: replicas (`aws_kms_replica_key`) follow the rules of
 * their generation's key and the alias of each replica Region those of the key ring's alias. The
 * manifest each plan is checked against comes from the real synth of a multi-Region config; the
 * plans are hand-written in `terraform show -json` form (no Terraform binary can run here).
 */
import { checkPlan, type PlanGuardRule } from '../../pipeline/gitops/plan-guard';
import type { PlanJson } from '../../pipeline/gitops/plan-json';
import type { Generation, Ledger } from '../../pipeline/ledger/types';
import { ACCOUNT_A, config, keyring } from '../stacks/helpers';
import { manifestFor } from './helpers';

const PRIMARY = 'us-east-1';
const STACK = `keys-${ACCOUNT_A}-${PRIMARY}`;
const mrk = (n: number): string => `mrk-${String(n).repeat(32)}`;
const arnIn = (region: string, keyId: string): string => `arn:aws:kms:${region}:${ACCOUNT_A}:key/${keyId}`;
const payments = keyring({ name: 'payments', alias: 'alias/payments', multiRegion: { replicaRegions: ['eu-west-1', 'ap-southeast-2'] } });
const multiRegionConfig = config([payments]);

function generation(n: number, state: Generation['state'], replicaState: 'live' | 'pending-deletion' = 'live'): Generation {
  return {
    generation: n,
    keyId: mrk(n),
    keyArn: arnIn(PRIMARY, mrk(n)),
    state,
    origin: 'pipeline',
    createdAt: '2026-01-01T00:00:00.000Z',
    stateChangedAt: '2026-01-01T00:00:00.000Z',
    replicas: ['eu-west-1', 'ap-southeast-2'].map((region) => ({ region, keyArn: arnIn(region, mrk(n)), state: replicaState })),
  };
}

function ledger(generations: Generation[]): Ledger {
  return { keyring: 'payments', version: 4, generations, updatedAt: '2026-01-01T00:00:00.000Z' };
}

type Change = { address: string; type: string; actions: string[]; before?: Record<string, unknown> | null; after?: Record<string, unknown> | null; importing?: boolean };

function plan(...changes: Change[]): PlanJson {
  return {
    format_version: '1.2',
    terraform_version: '1.11.4',
    resource_changes: changes.map((c) => ({
      address: c.address,
      mode: 'managed',
      type: c.type,
      name: c.address.split('.')[1]!,
      change: { actions: c.actions, before: c.before ?? null, after: c.after ?? null, after_unknown: {}, ...(c.importing ? { importing: { id: 'x' } } : {}) },
    })),
  };
}

const rulesOf = (result: ReturnType<typeof checkPlan>) => result.findings.map((f) => [f.rule, f.address] as [PlanGuardRule, string]);
const REPLICA_EU = 'aws_kms_replica_key.payments_key_gen2_eu_west_1';
const ALIAS_EU = 'aws_kms_alias.payments_alias_eu_west_1';

describe('the synth manifest of a multi-Region key ring', () => {
  test('GIVEN generation 2 active with live replicas and generation 1 pending deletion THEN it lists each replica (declared or dropped) and the alias of each replica Region', () => {
    const manifest = manifestFor(STACK, [ledger([generation(1, 'pending-deletion', 'pending-deletion'), generation(2, 'active')])], multiRegionConfig);
    const entry = manifest.keyrings.find((k) => k.name === 'payments')!;
    expect(entry.replicas.map((r) => `${r.address} ${r.declaredAs}`).sort()).toEqual([
      'aws_kms_replica_key.payments_key_gen1_ap_southeast_2 removed',
      'aws_kms_replica_key.payments_key_gen1_eu_west_1 removed',
      'aws_kms_replica_key.payments_key_gen2_ap_southeast_2 replica',
      `${REPLICA_EU} replica`,
    ]);
    expect(entry.replicas.find((r) => r.address === REPLICA_EU)).toMatchObject({ generation: 2, region: 'eu-west-1', greenfield: false, keyArn: arnIn('eu-west-1', mrk(2)) });
    expect(entry.regionalAliases).toEqual([
      { region: 'ap-southeast-2', address: 'aws_kms_alias.payments_alias_ap_southeast_2' },
      { region: 'eu-west-1', address: ALIAS_EU },
    ]);
  });
});

describe('plans a deploy must be able to apply', () => {
  test('GIVEN a greenfield multi-Region key ring WHEN the first apply creates generation 1, its replicas and the alias in every Region THEN it passes', () => {
    const manifest = manifestFor(STACK, [], multiRegionConfig);
    const result = checkPlan(
      plan(
        { address: 'aws_kms_key.payments_key_gen1', type: 'aws_kms_key', actions: ['create'], after: { is_enabled: true, multi_region: true } },
        { address: 'aws_kms_replica_key.payments_key_gen1_eu_west_1', type: 'aws_kms_replica_key', actions: ['create'], after: { enabled: true } },
        { address: 'aws_kms_replica_key.payments_key_gen1_ap_southeast_2', type: 'aws_kms_replica_key', actions: ['create'], after: { enabled: true } },
        { address: 'aws_kms_alias.payments_alias', type: 'aws_kms_alias', actions: ['create'], after: { name: 'alias/payments' } },
        { address: 'aws_kms_alias.payments_alias_eu_west_1', type: 'aws_kms_alias', actions: ['create'], after: { name: 'alias/payments' } },
        { address: 'aws_kms_alias.payments_alias_ap_southeast_2', type: 'aws_kms_alias', actions: ['create'], after: { name: 'alias/payments' } },
      ),
      manifest,
    );
    expect(result.findings).toEqual([]);
    expect(result.touched).toHaveLength(6);
  });

  test('GIVEN replicas the pipeline created WHEN the deploy imports them and updates their policy THEN it passes', () => {
    const manifest = manifestFor(STACK, [ledger([generation(1, 'disabled'), generation(2, 'active')])], multiRegionConfig);
    const result = checkPlan(
      plan(
        { address: REPLICA_EU, type: 'aws_kms_replica_key', actions: ['update'], importing: true, before: { enabled: true, policy: 'old' }, after: { enabled: true, policy: 'new' } },
        { address: ALIAS_EU, type: 'aws_kms_alias', actions: ['no-op'], importing: true, before: { target_key_id: mrk(2) }, after: { target_key_id: mrk(2) } },
      ),
      manifest,
    );
    expect(result.findings).toEqual([]);
  });

  test('GIVEN generation 1 pending deletion WHEN its replicas leave the state (removed blocks) THEN it passes', () => {
    const manifest = manifestFor(STACK, [ledger([generation(1, 'pending-deletion', 'pending-deletion'), generation(2, 'active')])], multiRegionConfig);
    const result = checkPlan(plan({ address: 'aws_kms_replica_key.payments_key_gen1_eu_west_1', type: 'aws_kms_replica_key', actions: ['forget'], before: { enabled: false } }), manifest);
    expect(result.findings).toEqual([]);
  });
});

describe('what a deploy may not do to replicas and regional aliases', () => {
  const manifest = manifestFor(STACK, [ledger([generation(1, 'disabled'), generation(2, 'active')])], multiRegionConfig);

  test('GIVEN a replica destroyed (a Region dropped from the config) THEN refused: replicas leave through the gate', () => {
    const result = checkPlan(plan({ address: REPLICA_EU, type: 'aws_kms_replica_key', actions: ['delete'], before: { enabled: true } }), manifest);
    expect(rulesOf(result)).toEqual([['key-destroyed', REPLICA_EU]]);
    expect(result.findings[0]!.message).toContain('the replica of generation 2 in eu-west-1');
    expect(result.findings[0]!.keyring).toBe('payments');
  });

  test('GIVEN a replica the ledger records planned as a new key (it was scheduled for deletion after the ledger the deploy used) THEN refused as a stale ledger', () => {
    const result = checkPlan(plan({ address: REPLICA_EU, type: 'aws_kms_replica_key', actions: ['create'], after: { enabled: true } }), manifest);
    expect(rulesOf(result)).toEqual([['key-created-at-known-generation', REPLICA_EU]]);
    expect(result.findings[0]!.message).toContain(arnIn('eu-west-1', mrk(2)));
    expect(result.findings[0]!.nextStep).toContain('merge the open rotation state PR');
  });

  test('GIVEN a replica at an address the ledger does not know (a Region added to the config for a recorded generation) THEN refused, saying how a Region gets its replica', () => {
    const result = checkPlan(plan({ address: 'aws_kms_replica_key.payments_key_gen2_sa_east_1', type: 'aws_kms_replica_key', actions: ['create'], after: { enabled: true } }), manifest);
    expect(rulesOf(result)).toEqual([['key-created-unknown', 'aws_kms_replica_key.payments_key_gen2_sa_east_1']]);
    expect(result.findings[0]!.message).toContain('gets its replica with the next new key');
  });

  test('GIVEN a replica disabled by the plan THEN refused: enabling and disabling replicas is the pipeline\'s', () => {
    const result = checkPlan(plan({ address: REPLICA_EU, type: 'aws_kms_replica_key', actions: ['update'], before: { enabled: true }, after: { enabled: false } }), manifest);
    expect(rulesOf(result)).toEqual([['key-enablement-changed', REPLICA_EU]]);
    expect(result.findings[0]!.message).toContain('disable the replica of generation 2 in eu-west-1');
  });

  test('GIVEN a live replica dropped from the state THEN refused', () => {
    const result = checkPlan(plan({ address: REPLICA_EU, type: 'aws_kms_replica_key', actions: ['forget'], before: { enabled: true } }), manifest);
    expect(rulesOf(result)).toEqual([['key-forgotten', REPLICA_EU]]);
  });

  test('GIVEN the alias of a replica Region moved or deleted THEN refused like the key ring\'s alias', () => {
    const moved = checkPlan(plan({ address: ALIAS_EU, type: 'aws_kms_alias', actions: ['update'], before: { target_key_id: mrk(2) }, after: { target_key_id: mrk(1) } }), manifest);
    expect(rulesOf(moved)).toEqual([['alias-target-changed', ALIAS_EU]]);
    expect(moved.findings[0]!.message).toContain(`from ${mrk(2)} (generation 2, active in the ledger) to ${mrk(1)} (generation 1, disabled in the ledger)`);
    const deleted = checkPlan(plan({ address: ALIAS_EU, type: 'aws_kms_alias', actions: ['delete'], before: { target_key_id: mrk(2) } }), manifest);
    expect(rulesOf(deleted)).toEqual([['alias-destroyed', ALIAS_EU]]);
    expect(deleted.findings[0]!.keyring).toBe('payments');
  });
});
