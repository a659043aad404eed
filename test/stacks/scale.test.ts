/**
 * Five hundred generations in one account and Region: the synthesized stack stays within every
 * limit the provider and the APIs enforce, and what grows with history (the monitoring rules)
 * does not grow at all.
 */
import type { Generation, GenerationState, Ledger } from '../../pipeline/ledger/types';
import { config, IDENTITY_CENTER, keyring, resourcesOf, synthAll, type StackJson } from './helpers';
import { compactJsonLength, KMS_TAGS, STRING_LIMITS } from './provider-limits';

const ACCOUNT = '111111111111';
const REGION = 'us-east-1';
const STACK = `keys-${ACCOUNT}-${REGION}`;

function keyIdOf(ring: number, generation: number): string {
  return `${String(ring).padStart(8, '0')}-0000-4000-8000-${String(generation).padStart(12, '0')}`;
}

/** A ledger whose generations 1..n are in the given states (the last one active unless told). */
function ledgerOf(name: string, ring: number, states: readonly GenerationState[]): Ledger {
  const generations: Generation[] = states.map((state, i) => {
    const keyId = keyIdOf(ring, i + 1);
    return {
      generation: i + 1,
      keyId,
      keyArn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${keyId}`,
      state,
      origin: 'pipeline',
      createdAt: '2026-01-01T00:00:00.000Z',
      stateChangedAt: '2026-01-02T00:00:00.000Z',
      ...(state === 'pending-deletion' ? { deletionDate: '2026-12-30T00:00:00.000Z' } : {}),
    };
  });
  const active = generations.find((g) => g.state === 'active');
  return { keyring: name, version: states.length, generations, updatedAt: '2026-01-02T00:00:00.000Z', ...(active ? { identityCenter: { keyType: 'CUSTOMER_MANAGED_KEY', kmsKeyArn: active.keyArn } } : {}) };
}

/** One key ring rotated 500 times: 470 deleted, 27 pending deletion, one disabled, one retiring, one active. */
const longHistory = ledgerOf('identity-center', 1, [
  ...Array<GenerationState>(470).fill('deleted'),
  ...Array<GenerationState>(27).fill('pending-deletion'),
  'disabled',
  'retiring',
  'active',
]);

/** 25 key rings × 20 generations, every one still a live key (the worst case for anything per key). */
const manyLive = Array.from({ length: 25 }, (_, ring) =>
  ledgerOf(`ring-${String(ring + 1).padStart(2, '0')}`, ring + 2, [...Array<GenerationState>(19).fill('disabled'), 'active']),
);

function assertWithinLimits(stack: StackJson): string[] {
  const problems: string[] = [];
  for (const limit of STRING_LIMITS) {
    for (const [name, resource] of Object.entries(resourcesOf(stack, limit.resourceType))) {
      const value = resource[limit.attribute];
      if (typeof value !== 'string') continue;
      const length = limit.attribute === 'event_pattern' ? compactJsonLength(value) : Buffer.byteLength(value);
      if (length > limit.max) problems.push(`${limit.resourceType}.${name}.${limit.attribute}: ${length} > ${limit.max} (${limit.source})`);
    }
  }
  for (const [name, key] of Object.entries(resourcesOf(stack, 'aws_kms_key'))) {
    // The provider's default_tags are added to every key too.
    const tags = { ...(stack.provider.aws[0]!.default_tags as Array<{ tags: Record<string, string> }>)[0]!.tags, ...key.tags, 'keyrotor:run-id': 'x'.repeat(64) };
    if (Object.keys(tags).length > KMS_TAGS.maxTags) problems.push(`aws_kms_key.${name}: ${Object.keys(tags).length} tags > ${KMS_TAGS.maxTags}`);
    for (const [k, v] of Object.entries(tags)) {
      if (k.length > KMS_TAGS.maxKeyLength || String(v).length > KMS_TAGS.maxValueLength) problems.push(`aws_kms_key.${name}: tag ${k} too long`);
    }
  }
  return problems;
}

describe('GIVEN one key ring with 500 generations in one account and Region', () => {
  const ic = keyring({ name: 'identity-center', identityCenter: IDENTITY_CENTER, keyUsers: [] });
  const stack = synthAll(config([ic]), { 'identity-center': longHistory })[STACK]!;

  test('THEN every resource is within the provider\'s and the APIs\' limits', () => {
    expect(assertWithinLimits(stack)).toEqual([]);
  });

  test('THEN only the live generations are keys, the pending ones removed blocks, the deleted ones nothing', () => {
    expect(Object.keys(resourcesOf(stack, 'aws_kms_key'))).toHaveLength(3);
    expect(stack.removed).toHaveLength(27);
  });

  test('THEN the monitoring patterns are the same size as with one generation (they match by account and Region, not by key)', () => {
    const one = synthAll(config([ic]), { 'identity-center': ledgerOf('identity-center', 1, ['active']) })[STACK]!;
    const patterns = (s: StackJson) => Object.values(resourcesOf(s, 'aws_cloudwatch_event_rule')).map((r) => r.event_pattern as string);
    expect(patterns(stack)).toEqual(patterns(one));
    for (const pattern of patterns(stack)) expect(compactJsonLength(pattern)).toBeLessThan(400);
  });
});

describe('GIVEN 25 key rings with 20 live generations each (500 keys) in one account and Region', () => {
  const rings = manyLive.map((l) => keyring({ name: l.keyring, keyUsers: [] }));
  const stack = synthAll(config(rings), Object.fromEntries(manyLive.map((l) => [l.keyring, l])))[STACK]!;

  test('THEN all 500 keys are declared and every resource is within the limits', () => {
    expect(Object.keys(resourcesOf(stack, 'aws_kms_key'))).toHaveLength(500);
    expect(assertWithinLimits(stack)).toEqual([]);
  });

  test('THEN there are still exactly two EventBridge rules', () => {
    expect(Object.keys(resourcesOf(stack, 'aws_cloudwatch_event_rule'))).toHaveLength(2);
  });
});

describe('GIVEN the longest SNS topic name the config allows', () => {
  test('THEN the rule names derived from it are shortened to EventBridge\'s 64 characters, stay distinct and stable', () => {
    const topic = 'k'.repeat(256);
    const stack = synthAll(config([keyring({ name: 'a' })], { monitoring: { enabled: true, snsTopicName: topic, emailSubscriptions: [], configRules: true } }))[STACK]!;
    const names = Object.values(resourcesOf(stack, 'aws_cloudwatch_event_rule')).map((r) => r.name as string);
    expect(names).toHaveLength(2);
    expect(new Set(names).size).toBe(2);
    for (const name of names) expect(name.length).toBeLessThanOrEqual(64);
    expect(names.some((n) => n.endsWith('-key-changes'))).toBe(true);
    expect(assertWithinLimits(stack)).toEqual([]);
  });

  test('THEN a short topic name keeps the plain <topic>-<purpose> names (no rename of deployed rules)', () => {
    const stack = synthAll(config([keyring({ name: 'a' })]))[STACK]!;
    expect(Object.values(resourcesOf(stack, 'aws_cloudwatch_event_rule')).map((r) => r.name).sort()).toEqual(['keyrotor-key-events-key-changes', 'keyrotor-key-events-pending-deletion-use']);
  });
});
