/**
 * Limits the AWS provider (and the APIs behind it) enforce on what the key stacks declare, each
 * with where it comes from. The scale test checks every synthesized resource against them, so a
 * growing ledger can never produce a stack that fails at plan or apply.
 */
export interface StringLimit {
  readonly resourceType: string;
  readonly attribute: string;
  readonly max: number;
  readonly source: string;
}

export const STRING_LIMITS: readonly StringLimit[] = [
  // internal/service/events/rule.go: validateEventPatternValue (compact JSON, 4096 since provider v5; 2048 before).
  { resourceType: 'aws_cloudwatch_event_rule', attribute: 'event_pattern', max: 4096, source: 'provider events/rule.go validateEventPatternValue' },
  { resourceType: 'aws_cloudwatch_event_rule', attribute: 'name', max: 64, source: 'EventBridge PutRule Name; provider validateRuleName' },
  { resourceType: 'aws_cloudwatch_event_rule', attribute: 'description', max: 512, source: 'provider events/rule.go StringLenBetween(0, 512)' },
  { resourceType: 'aws_cloudwatch_event_target', attribute: 'target_id', max: 64, source: 'EventBridge PutTargets Id (1–64)' },
  { resourceType: 'aws_sns_topic', attribute: 'name', max: 256, source: 'SNS CreateTopic Name (1–256)' },
  { resourceType: 'aws_kms_key', attribute: 'description', max: 8192, source: 'provider kms/key.go StringLenBetween(0, 8192)' },
  { resourceType: 'aws_kms_key', attribute: 'policy', max: 32768, source: 'KMS CreateKey/PutKeyPolicy Policy (32 KB)' },
  { resourceType: 'aws_kms_alias', attribute: 'name', max: 256, source: 'KMS CreateAlias AliasName (1–256)' },
  { resourceType: 'aws_config_config_rule', attribute: 'name', max: 128, source: 'AWS Config PutConfigRule ConfigRuleName (1–128)' },
];

/** KMS TagResource: at most 50 tags per key, keys 1–128 and values 0–256 characters. */
export const KMS_TAGS = { maxTags: 50, maxKeyLength: 128, maxValueLength: 256 } as const;

/** The provider measures an event pattern as Go's json.Marshal of the parsed JSON (compact, keys sorted). */
export function compactJsonLength(text: string): number {
  return JSON.stringify(sortKeys(JSON.parse(text))).length;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
  return value;
}
