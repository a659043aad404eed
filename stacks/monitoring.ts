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
  /** Account the stack deploys to (scopes the topic policy). */
  readonly account: string;
  /** ARNs (or Terraform references to them) of every key of this stack, including keys pending deletion. */
  readonly keyArns: readonly string[];
}

/**
 * Per stack: an SNS topic (+ e-mail subscriptions) that EventBridge may publish to; rules on
 * ScheduleKeyDeletion / DisableKey / PutKeyPolicy and on any call refused because a key of this
 * stack is pending deletion or disabled; the AWS Config managed rules for rotation enabled and not
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

    const keyResources = { resources: { ARN: [...props.keyArns] } };
    this.rules = [
      this.ruleToTopic('key_changes', {
        name: `${config.snsTopicName}-key-changes`,
        description: 'keyrotor: ScheduleKeyDeletion, DisableKey or PutKeyPolicy on a managed key',
        eventPattern: cloudTrailKmsPattern({ eventName: [...WATCHED_KMS_API_CALLS], ...keyResources }),
      }),
      this.ruleToTopic('pending_deletion_use', {
        name: `${config.snsTopicName}-pending-deletion-use`,
        description: 'keyrotor: a request used a managed key that is pending deletion or disabled',
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

/** EventBridge pattern for KMS calls recorded by CloudTrail, narrowed by `detail`. */
function cloudTrailKmsPattern(detail: Record<string, unknown>): string {
  return JSON.stringify({
    source: ['aws.kms'],
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: { eventSource: ['kms.amazonaws.com'], ...detail },
  });
}
