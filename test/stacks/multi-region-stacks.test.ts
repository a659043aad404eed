/**
 * Multi-Region key rings in the synthesized stacks (issue 12): the primary and a replica per Region
 * through one aliased provider per Region, identical policies from the one builder, generations
 * imported and removed per Region, the alias in every Region, and monitoring in every Region.
 */
import { buildKeyPolicy, renderKeyPolicy } from '../../pipeline/policy/builder';
import { IGNORED_KEY_ATTRIBUTES } from '../../stacks/managed-key';
import type { Generation, Ledger } from '../../pipeline/ledger/types';
import { ACCOUNT_A, config, IDENTITY_CENTER, keyring, resourcesOf, synthAll, type StackJson } from './helpers';

const PRIMARY = 'us-east-1';
const STACK = `keys-${ACCOUNT_A}-${PRIMARY}`;
const mrk = (n: number): string => `mrk-${String(n).repeat(32)}`;
const arnIn = (region: string, keyId: string): string => `arn:aws:kms:${region}:${ACCOUNT_A}:key/${keyId}`;

const workload = keyring({ name: 'payments', alias: 'alias/payments', multiRegion: { replicaRegions: ['eu-west-1', 'ap-southeast-2'] } });
const multi = keyring({
  name: 'identity-center',
  alias: 'alias/identity-center',
  keyUsers: [],
  identityCenter: { ...IDENTITY_CENTER, additionalRegions: ['eu-west-1'] },
  multiRegion: { replicaRegions: ['eu-west-1', 'ap-southeast-2'] },
});

function generation(n: number, state: Generation['state'], extra: Partial<Generation> = {}): Generation {
  const keyId = extra.keyId ?? mrk(n);
  return {
    generation: n,
    keyId,
    keyArn: arnIn(PRIMARY, keyId),
    state,
    origin: 'pipeline',
    createdAt: '2026-01-01T00:00:00.000Z',
    stateChangedAt: '2026-01-01T00:00:00.000Z',
    ...extra,
  };
}

function ledger(generations: Generation[]): Ledger {
  const active = generations.find((g) => g.state === 'active');
  return {
    keyring: 'identity-center',
    version: 3,
    generations,
    ...(active ? { identityCenter: { keyType: 'CUSTOMER_MANAGED_KEY' as const, kmsKeyArn: active.keyArn } } : {}),
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
}

const live = (n: number, ...regions: string[]) => regions.map((region) => ({ region, keyArn: arnIn(region, mrk(n)), state: 'live' as const }));

function synth(l?: Ledger): StackJson {
  const stacks = synthAll(config([multi]), l ? { 'identity-center': l } : {});
  expect(Object.keys(stacks)).toEqual([STACK]); // replicas live in the primary's stack, not in stacks of their own
  return stacks[STACK]!;
}

describe('GIVEN a multi-Region key ring not attached to Identity Center, without a ledger (greenfield)', () => {
  const stack = synthAll(config([workload]))[STACK]!;

  test('THEN generation 1 is a multi-Region primary and each replica Region gets an aws_kms_replica_key through its own aliased provider', () => {
    expect(resourcesOf(stack, 'aws_kms_key').payments_key_gen1).toMatchObject({ multi_region: true });
    const replicas = resourcesOf(stack, 'aws_kms_replica_key');
    expect(Object.keys(replicas).sort()).toEqual(['payments_key_gen1_ap_southeast_2', 'payments_key_gen1_eu_west_1']);
    expect(replicas.payments_key_gen1_eu_west_1).toMatchObject({
      provider: 'aws.eu-west-1',
      primary_key_arn: '${aws_kms_key.payments_key_gen1.arn}',
      enabled: true,
      deletion_window_in_days: 30,
      tags: { owner: 'platform-security', 'keyrotor:keyring': 'payments', 'keyrotor:generation': '1' },
      lifecycle: { prevent_destroy: true, ignore_changes: [...IGNORED_KEY_ATTRIBUTES] },
    });
    expect(stack.import).toBeUndefined(); // Terraform creates them all
  });

  test('THEN every replica carries the byte-identical policy the builder renders for the primary (KMS never copies it)', () => {
    const policy = renderKeyPolicy(buildKeyPolicy(workload));
    expect(resourcesOf(stack, 'aws_kms_key').payments_key_gen1!.policy).toBe(policy);
    for (const replica of Object.values(resourcesOf(stack, 'aws_kms_replica_key'))) expect(replica.policy).toBe(policy);
  });

  test('THEN the aliased providers copy the default provider (account pin, default tags) and differ only in Region and alias', () => {
    const [primary, ...aliased] = stack.provider.aws;
    expect(primary).toEqual({ region: PRIMARY, allowed_account_ids: [ACCOUNT_A], default_tags: [{ tags: { 'keyrotor:managed-by': 'keyrotor' } }] });
    expect(aliased).toEqual([
      { ...primary, region: 'eu-west-1', alias: 'eu-west-1' },
      { ...primary, region: 'ap-southeast-2', alias: 'ap-southeast-2' },
    ]);
  });

  test('THEN the alias exists in every Region, each on its own Region\'s key', () => {
    expect(resourcesOf(stack, 'aws_kms_alias')).toEqual({
      payments_alias: expect.objectContaining({ name: 'alias/payments', target_key_id: '${aws_kms_key.payments_key_gen1.key_id}' }),
      payments_alias_eu_west_1: expect.objectContaining({ name: 'alias/payments', provider: 'aws.eu-west-1', target_key_id: '${aws_kms_replica_key.payments_key_gen1_eu_west_1.key_id}' }),
      payments_alias_ap_southeast_2: expect.objectContaining({ provider: 'aws.ap-southeast-2', target_key_id: '${aws_kms_replica_key.payments_key_gen1_ap_southeast_2.key_id}' }),
    });
  });

  test('THEN every replica Region has its own monitoring on its replicas, under names that cannot clash with that Region\'s own stack', () => {
    const topics = resourcesOf(stack, 'aws_sns_topic');
    const byProvider = (type: string) => Object.values(resourcesOf(stack, type)).map((r) => [r.provider ?? 'default', r.name]).sort();
    expect(byProvider('aws_sns_topic')).toEqual([
      ['aws.ap-southeast-2', 'keyrotor-key-events-replicas-us-east-1'],
      ['aws.eu-west-1', 'keyrotor-key-events-replicas-us-east-1'],
      ['default', 'keyrotor-key-events'],
    ]);
    expect(Object.keys(topics)).toHaveLength(3);
    expect(byProvider('aws_config_config_rule').filter(([p]) => p === 'aws.eu-west-1')).toEqual([
      ['aws.eu-west-1', 'keyrotor-cmk-not-scheduled-for-deletion-replicas-us-east-1'],
      ['aws.eu-west-1', 'keyrotor-cmk-rotation-enabled-replicas-us-east-1'],
    ]);
    const euRules = Object.values(resourcesOf(stack, 'aws_cloudwatch_event_rule')).filter((r) => r.provider === 'aws.eu-west-1');
    expect(euRules.map((r) => r.name).sort()).toEqual(['keyrotor-key-events-replicas-us-east-1-key-changes', 'keyrotor-key-events-replicas-us-east-1-pending-deletion-use']);
    // Every key of the account in the replica Region, by ARN prefix (as the stack's own monitoring does in its Region).
    for (const rule of euRules) expect(JSON.parse(rule.event_pattern).detail.resources.ARN).toEqual([{ prefix: `arn:aws:kms:eu-west-1:${ACCOUNT_A}:key/` }]);
    const euTargets = Object.values(resourcesOf(stack, 'aws_cloudwatch_event_target')).filter((t) => t.provider === 'aws.eu-west-1');
    expect(euTargets).toHaveLength(2);
    for (const name of ['aws_sns_topic_policy']) expect(Object.values(resourcesOf(stack, name)).filter((r) => r.provider === 'aws.eu-west-1')).toHaveLength(1);
  });
});

describe('GIVEN a ledger with a multi-Region generation pending deletion (replicas first), one retiring, one active', () => {
  const gen1 = generation(1, 'pending-deletion', {
    deletionDate: '2026-03-02T00:00:00.000Z',
    replicas: [
      { region: 'eu-west-1', keyArn: arnIn('eu-west-1', mrk(1)), state: 'pending-deletion', deletionDate: '2026-01-31T00:00:00.000Z' },
      { region: 'ap-southeast-2', keyArn: arnIn('ap-southeast-2', mrk(1)), state: 'deleted' },
    ],
  });
  const gen2 = generation(2, 'retiring', { replicas: [...live(2, 'eu-west-1'), { region: 'ap-southeast-2', keyArn: arnIn('ap-southeast-2', mrk(2)), state: 'pending-deletion', deletionDate: '2026-01-31T00:00:00.000Z' }] });
  const gen3 = generation(3, 'active', { replicas: live(3, 'eu-west-1', 'ap-southeast-2') });
  const stack = synth(ledger([gen1, gen2, gen3]));

  test('THEN each live replica is imported by key id through its Region\'s provider, and so is each Region\'s alias', () => {
    expect(stack.import).toEqual(
      expect.arrayContaining([
        { to: 'aws_kms_replica_key.identity_center_key_gen2_eu_west_1', id: mrk(2), provider: 'aws.eu-west-1' },
        { to: 'aws_kms_replica_key.identity_center_key_gen3_eu_west_1', id: mrk(3), provider: 'aws.eu-west-1' },
        { to: 'aws_kms_replica_key.identity_center_key_gen3_ap_southeast_2', id: mrk(3), provider: 'aws.ap-southeast-2' },
        { to: 'aws_kms_alias.identity_center_alias_eu_west_1', id: 'alias/identity-center', provider: 'aws.eu-west-1' },
        { to: 'aws_kms_alias.identity_center_alias_ap_southeast_2', id: 'alias/identity-center', provider: 'aws.ap-southeast-2' },
      ]),
    );
  });

  test('THEN the Identity Center switch waits for every declared replica (it refuses a key without a ready replica in its Regions)', () => {
    const [ic] = Object.values(resourcesOf(stack, 'terraform_data'));
    expect(ic!.depends_on).toEqual([
      'aws_kms_replica_key.identity_center_key_gen2_eu_west_1',
      'aws_kms_replica_key.identity_center_key_gen3_eu_west_1',
      'aws_kms_replica_key.identity_center_key_gen3_ap_southeast_2',
    ]);
  });

  test('THEN replicas pending deletion are dropped per Region with removed blocks, and a deleted replica is simply absent', () => {
    expect(Object.keys(resourcesOf(stack, 'aws_kms_replica_key')).sort()).toEqual([
      'identity_center_key_gen2_eu_west_1',
      'identity_center_key_gen3_ap_southeast_2',
      'identity_center_key_gen3_eu_west_1',
    ]);
    expect((stack.removed ?? []).map((r) => [r.from, r.lifecycle.destroy]).sort()).toEqual([
      ['aws_kms_key.identity_center_key_gen1', false],
      ['aws_kms_replica_key.identity_center_key_gen1_eu_west_1', false],
      ['aws_kms_replica_key.identity_center_key_gen2_ap_southeast_2', false],
    ]);
  });

  test('THEN prevent_destroy is on the active generation\'s replicas only, and the retiring replica follows its generation\'s enablement', () => {
    const replicas = resourcesOf(stack, 'aws_kms_replica_key');
    expect(replicas.identity_center_key_gen3_eu_west_1!.lifecycle.prevent_destroy).toBe(true);
    expect(replicas.identity_center_key_gen2_eu_west_1!.lifecycle.prevent_destroy).toBeUndefined();
    expect(replicas.identity_center_key_gen2_eu_west_1!.enabled).toBe(true);
  });

});

describe('GIVEN a key ring that became multi-Region in the config while its ledger holds a single-Region key', () => {
  const single = generation(1, 'active', { keyId: '11111111-1111-4111-8111-111111111111' });

  test('THEN the existing key stays single-Region (multi_region forces a replacement) and gets no replicas until a rotation makes a multi-Region key', () => {
    const stack = synth(ledger([single]));
    expect(resourcesOf(stack, 'aws_kms_key').identity_center_key_gen1).not.toHaveProperty('multi_region');
    expect(resourcesOf(stack, 'aws_kms_replica_key')).toEqual({});
    expect(stack.provider.aws).toHaveLength(1);
  });

  test('THEN after the rotation the new multi-Region generation has the replicas its ledger records, imported; a configured Region it lacks waits for the next new key (the pipeline owns which keys exist)', () => {
    const stack = synth(ledger([{ ...single, state: 'retiring' }, generation(2, 'active', { replicas: live(2, 'eu-west-1') })]));
    expect(Object.keys(resourcesOf(stack, 'aws_kms_replica_key'))).toEqual(['identity_center_key_gen2_eu_west_1']);
    expect((stack.import ?? []).map((i) => i.to)).toContain('aws_kms_replica_key.identity_center_key_gen2_eu_west_1');
    expect(Object.keys(resourcesOf(stack, 'aws_kms_alias')).sort()).toEqual(['identity_center_alias', 'identity_center_alias_eu_west_1']);
  });
});

test("GIVEN a replica Region that has a key stack of its own in the account THEN that stack's monitoring covers it, and the replicas' stack declares none there", () => {
  const local = keyring({ name: 'audit', alias: 'alias/audit', region: 'eu-west-1' });
  const stacks = synthAll(config([workload, local]));
  const providers = Object.values(resourcesOf(stacks[STACK]!, 'aws_sns_topic')).map((t) => t.provider ?? 'default').sort();
  expect(providers).toEqual(['aws.ap-southeast-2', 'default']);
  expect(Object.keys(resourcesOf(stacks[`keys-${ACCOUNT_A}-eu-west-1`]!, 'aws_sns_topic'))).toHaveLength(1);
});

test('GIVEN a single-Region key ring THEN nothing multi-Region is synthesized (one provider, no replicas, no extra monitoring)', () => {
  const plain = keyring({ name: 'plain', alias: 'alias/plain' });
  const stack = synthAll(config([plain]))[STACK]!;
  expect(stack.provider.aws).toHaveLength(1);
  expect(resourcesOf(stack, 'aws_kms_key').plain_key_gen1).not.toHaveProperty('multi_region');
  expect(resourcesOf(stack, 'aws_kms_replica_key')).toEqual({});
  expect(Object.keys(resourcesOf(stack, 'aws_sns_topic'))).toHaveLength(1);
});
