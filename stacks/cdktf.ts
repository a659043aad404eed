/**
 * The ONE module through which keyrotor imports cdktf, constructs and the AWS provider bindings.
 *
 * Why: CDKTF was deprecated upstream (Dec 2025) and its maintained fork, CDK Terrain, renames the
 * packages (`cdktf` → `cdktn`, `@cdktf/*` → `@cdktn/*`); the two cannot be mixed in one app.
 * Keeping every import here makes that swap a rename of this file's specifiers.
 *
 * Provider classes are DEEP imports (`@cdktf/provider-aws/lib/<resource>`): the package's root
 * index loads all ~1,500 resource bindings, which alone costs seconds and hundreds of MB at synth.
 */
export {
  App,
  Aspects,
  Annotations,
  DataResource,
  LocalBackend,
  S3Backend,
  TerraformElement,
  TerraformResource,
  TerraformStack,
  Testing,
} from 'cdktf';
export type { AppConfig, IAspect, LocalExecProvisioner, TerraformResourceLifecycle } from 'cdktf';
export { Construct } from 'constructs';
export type { IConstruct } from 'constructs';

export { AwsProvider } from '@cdktf/provider-aws/lib/provider';
export { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
export { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
export { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
export { SnsTopicPolicy } from '@cdktf/provider-aws/lib/sns-topic-policy';
export { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
export { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
export { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
export { ConfigConfigRule } from '@cdktf/provider-aws/lib/config-config-rule';
export { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
export { IamRole } from '@cdktf/provider-aws/lib/iam-role';
export { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
export { IamOpenidConnectProvider } from '@cdktf/provider-aws/lib/iam-openid-connect-provider';
export { KmsReplicaKey } from '@cdktf/provider-aws/lib/kms-replica-key';
export type { AwsProviderConfig } from '@cdktf/provider-aws/lib/provider';
