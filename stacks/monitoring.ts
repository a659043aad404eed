import { createHash } from 'node:crypto';
import type { MonitoringConfig } from '../pipeline/config/types';
import { CloudwatchEventRule, CloudwatchEventTarget, ConfigConfigRule, Construct, SnsTopic, SnsTopicPolicy, SnsTopicSubscription } from './cdktf';

/** The destructive or access-changing KMS calls a security team wants to hear about at once. */
export const WATCHED_KMS_API_CALLS = ['ScheduleKeyDeletion', 'DisableKey', 'PutKeyPolicy'] as const;

/**
 * The error KMS returns (and CloudTrail records as `errorCode`) when a request uses a key that is
 * pending deletion (or disabled): exactly the hidden consumer a rotation must surface before the
 * deletion date.
 */
export const KEY_STATE_ERROR_CODE = 'KMSInvalidStateException';

/** AWS Config managed rules (identifiers as AWS documents them). */
export const CONFIG_RULES = {
  rotationEnabled: 'CMK_BACKING_KEY_ROTATION_ENABLED',
  notScheduledForDeletion: 'KMS_CMK_NOT_SCHEDULED_FOR_DELETION',
} as const;

/**
 * Cryptographic calls such as Decrypt are read-only management events; EventBridge matches them
 * only on a rule in this state (a plain ENABLED rule never sees them).
 */
const RULE_STATE_WITH_READ_ONLY_EVENTS = 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS';

export interface KeyEventMonitoringProps {
  readonly config: MonitoringConfig;
  /** Account the stack deploys to (scopes the topic policy and the key ARN prefix). */
  readonly account: string;
  /** Region of the stack (the key ARN prefix). */
  readonly region: string;
}

/**
 * What the rules match keys by: the ARN prefix of every KMS key of the stack's account and Region,
 * `arn:aws:kms:<region>:<account>:key/`, never a list of key ARNs.
 *
 * Why not the ARNs of the key rings' generations: a list grows with every rotation (the provider
 * refuses an event pattern above 4096 characters, about 50 key ARNs), and a key the pipeline
 * creates mid-rotation would go unwatched until its state PR merges and a deploy updates the rule —
 * exactly the window in which keys are disabled and scheduled for deletion. CloudTrail events carry
 * no tags, so "keys tagged by keyrotor" cannot be matched; the prefix is the narrowest selector
 * that does not grow. It also reports ScheduleKeyDeletion / DisableKey / PutKeyPolicy on other
 * customer managed keys of the account, which a security team wants to hear about anyway.
 */
export function keyArnPrefix(account: string, region: string): string {
  return `arn:aws:kms:${region}:${account}:key/`;
}

/**
 * Per stack: an SNS topic (+ e-mail subscriptions) that EventBridge may publish to; rules on
 * ScheduleKeyDeletion / DisableKey / PutKeyPolicy and on any call refused because a key of the
 * stack's account and Region is pending deletion or disabled (see keyArnPrefix for why not by ARN); the AWS Config managed rules for rotation enabled and not
 * scheduled for deletion (these need a configuration recorder in the account and Region, which
 * this stack does not create).
 */
export class KeyEventMonitoring extends Construct {
  readonly topic: SnsTopic;
  readonly rules: readonly CloudwatchEventRule[];
  readonly configRules: readonly ConfigConfigRule[];

  constructor(scope: Construct, id: string, props: KeyEventMonitoringProps) {
    super(scope, id);
    const { config } = props;
    this.topic = new SnsTopic(this, 'topic', { name: config.snsTopicName });
    new SnsTopicPolicy(this, 'topic_policy', {
      arn: this.topic.arn,
      policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'AllowEventBridgePublish',
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: this.topic.arn,
            Condition: { StringEquals: { 'aws:SourceAccount': props.account } },
          },
        ],
      }),
    });
    config.emailSubscriptions.forEach((email, i) => {
      new SnsTopicSubscription(this, `email_${i}`, { topicArn: this.topic.arn, protocol: 'email', endpoint: email });
    });

    const keyResources = { resources: { ARN: [{ prefix: keyArnPrefix(props.account, props.region) }] } };
    this.rules = [
      this.ruleToTopic('key_changes', {
        name: ruleName(config.snsTopicName, 'key-changes'),
        description: `keyrotor: ScheduleKeyDeletion, DisableKey or PutKeyPolicy on a KMS key in ${props.account}/${props.region}`,
        eventPattern: cloudTrailKmsPattern({ eventName: [...WATCHED_KMS_API_CALLS], ...keyResources }),
      }),
      this.ruleToTopic('pending_deletion_use', {
        name: ruleName(config.snsTopicName, 'pending-deletion-use'),
        description: `keyrotor: a request used a KMS key in ${props.account}/${props.region} that is pending deletion or disabled`,
        eventPattern: cloudTrailKmsPattern({ errorCode: [KEY_STATE_ERROR_CODE], ...keyResources }),
        state: RULE_STATE_WITH_READ_ONLY_EVENTS,
      }),
    ];

    this.configRules = config.configRules
      ? [
          new ConfigConfigRule(this, 'rotation_enabled', {
            name: 'keyrotor-cmk-rotation-enabled',
            source: { owner: 'AWS', sourceIdentifier: CONFIG_RULES.rotationEnabled },
          }),
          new ConfigConfigRule(this, 'not_scheduled_for_deletion', {
            name: 'keyrotor-cmk-not-scheduled-for-deletion',
            source: { owner: 'AWS', sourceIdentifier: CONFIG_RULES.notScheduledForDeletion },
          }),
        ]
      : [];
  }

  private ruleToTopic(id: string, rule: { name: string; description: string; eventPattern: string; state?: string }): CloudwatchEventRule {
    const eventRule = new CloudwatchEventRule(this, id, rule);
    new CloudwatchEventTarget(this, `${id}_target`, { rule: eventRule.name, arn: this.topic.arn, targetId: 'keyrotor-sns' });
    return eventRule;
  }
}

/** EventBridge rule names are at most 64 characters (the provider and the API refuse longer ones). */
export const EVENT_RULE_NAME_MAX = 64;

/**
 * `<topic>-<purpose>`, the topic part shortened with a digest of the full name when the result
 * would pass EventBridge's 64 characters (SNS topic names may have 256).
 */
export function ruleName(topic: string, purpose: string): string {
  const plain = `${topic}-${purpose}`;
  if (plain.length <= EVENT_RULE_NAME_MAX) return plain;
  const digest = createHash('sha256').update(topic).digest('hex').slice(0, 8);
  return `${topic.slice(0, EVENT_RULE_NAME_MAX - purpose.length - digest.length - 2)}-${digest}-${purpose}`;
}

/** EventBridge pattern for KMS calls recorded by CloudTrail, narrowed by `detail`. */
function cloudTrailKmsPattern(detail: Record<string, unknown>): string {
  return JSON.stringify({
    source: ['aws.kms'],
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: { eventSource: ['kms.amazonaws.com'], ...detail },
  });
}
