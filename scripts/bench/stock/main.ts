// The stock way, for the synth bench only: what `cdktf init --template=typescript` generates
// (namespace import of the whole provider, run by `npx ts-node main.ts`, which type-checks), declaring
// the same resources as keyrotor's stacks for the same keyrings.json. Not part of the product;
// excluded from tsconfig.json.
import { Construct } from "constructs";
import { App, TerraformStack, S3Backend } from "cdktf";
import * as aws from "@cdktf/provider-aws";
import * as fs from "fs";

interface KeyRing {
  name: string;
  alias: string;
  account: string;
  region: string;
  description: string;
  tags?: Record<string, string>;
  keyAdministrators: string[];
  keyUsers: string[];
  rotation?: { deletionWindowDays?: number; automaticRotationPeriodDays?: number };
  identityCenter?: { instanceArn: string };
}

const config = JSON.parse(fs.readFileSync(process.env.KEYROTOR_CONFIG ?? "keyrings.json", "utf8"));
const keyrings: KeyRing[] = config.keyrings;

class KeyStack extends TerraformStack {
  constructor(scope: Construct, id: string, account: string, region: string, rings: KeyRing[]) {
    super(scope, id);
    new aws.provider.AwsProvider(this, "aws", { region, allowedAccountIds: [account], defaultTags: [{ tags: { "keyrotor:managed-by": "keyrotor" } }] });
    new S3Backend(this, { bucket: config.backend.bucket, key: `keyrotor/${id}.tfstate`, region: config.backend.region });
    const arns: string[] = [];
    for (const ring of rings) {
      const policy = JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Sid: "Admins", Effect: "Allow", Principal: { AWS: ring.keyAdministrators }, Action: "kms:*", Resource: "*" },
          ...(ring.keyUsers.length ? [{ Sid: "Users", Effect: "Allow", Principal: { AWS: ring.keyUsers }, Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"], Resource: "*" }] : []),
        ],
      });
      const key = new aws.kmsKey.KmsKey(this, `${ring.name}_key_gen1`, {
        description: ring.description,
        customerMasterKeySpec: "SYMMETRIC_DEFAULT",
        keyUsage: "ENCRYPT_DECRYPT",
        enableKeyRotation: true,
        rotationPeriodInDays: ring.rotation?.automaticRotationPeriodDays ?? 365,
        deletionWindowInDays: ring.rotation?.deletionWindowDays ?? 30,
        policy,
        tags: { ...(ring.tags ?? {}), "keyrotor:keyring": ring.name, "keyrotor:generation": "1" },
        lifecycle: { preventDestroy: true },
      });
      new aws.kmsAlias.KmsAlias(this, `${ring.name}_alias`, { name: ring.alias, targetKeyId: key.keyId });
      arns.push(key.arn);
    }
    const topic = new aws.snsTopic.SnsTopic(this, "topic", { name: config.monitoring.snsTopicName });
    new aws.snsTopicPolicy.SnsTopicPolicy(this, "topic_policy", {
      arn: topic.arn,
      policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "events.amazonaws.com" }, Action: "sns:Publish", Resource: topic.arn }] }),
    });
    for (const [i, email] of (config.monitoring.emailSubscriptions as string[]).entries()) {
      new aws.snsTopicSubscription.SnsTopicSubscription(this, `email_${i}`, { topicArn: topic.arn, protocol: "email", endpoint: email });
    }
    const rule = new aws.cloudwatchEventRule.CloudwatchEventRule(this, "key_changes", {
      name: "keyrotor-key-changes",
      eventPattern: JSON.stringify({ source: ["aws.kms"], detail: { eventName: ["ScheduleKeyDeletion", "DisableKey", "PutKeyPolicy"], resources: { ARN: arns } } }),
    });
    new aws.cloudwatchEventTarget.CloudwatchEventTarget(this, "key_changes_target", { rule: rule.name, arn: topic.arn });
    new aws.configConfigRule.ConfigConfigRule(this, "rotation_enabled", { name: "cmk-rotation-enabled", source: { owner: "AWS", sourceIdentifier: "CMK_BACKING_KEY_ROTATION_ENABLED" } });
    new aws.configConfigRule.ConfigConfigRule(this, "not_scheduled", { name: "cmk-not-scheduled", source: { owner: "AWS", sourceIdentifier: "KMS_CMK_NOT_SCHEDULED_FOR_DELETION" } });
  }
}

const app = new App();
const groups = new Map<string, KeyRing[]>();
for (const ring of keyrings) {
  const id = `keys-${ring.account}-${ring.region}`;
  groups.set(id, [...(groups.get(id) ?? []), ring]);
}
for (const [id, rings] of groups) new KeyStack(app, id, rings[0].account, rings[0].region, rings);
app.synth();
