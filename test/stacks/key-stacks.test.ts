import { buildKeyPolicy, renderKeyPolicy } from '../../pipeline/policy/builder';
import { StateError } from '../../pipeline/errors';
import type { Ledger } from '../../pipeline/ledger/types';
import { ACCOUNT_A, ACCOUNT_B, config, HELPER, IDENTITY_CENTER, keyring, ledgerFixture, resourcesOf, synthAll } from './helpers';

/**
 * The pipeline tags the keys it creates with its run id; Terraform must never plan to strip it.
 * deletion_window_in_days and bypass_policy_lockout_safety_check are not read back by the provider,
 * so an imported key would otherwise plan an in-place update of both.
 */
const IGNORED = ['tags["keyrotor:run-id"]', 'tags_all["keyrotor:run-id"]', 'deletion_window_in_days', 'bypass_policy_lockout_safety_check'];

const ic = keyring({ name: 'identity-center', alias: 'alias/identity-center', identityCenter: IDENTITY_CENTER, keyUsers: [] });
const audit = keyring({ name: 'org-audit-logs', region: 'eu-west-1', rotation: { deletionWindowDays: 14, minimumSoakHours: 24, disableOldKeyDuringSoak: false, automaticRotationPeriodDays: 180 } });
const payments = keyring({ name: 'payments-data', account: ACCOUNT_B, region: 'eu-west-1' });
const backups = keyring({ name: 'payments-backups', account: ACCOUNT_B, region: 'us-east-1' });
const other = keyring({ name: 'shared-secrets', alias: 'alias/shared/secrets' });

describe('stacks per account and Region', () => {
  test('GIVEN key rings in 2 accounts and 2 Regions WHEN synthesized THEN one stack per account+Region with stable names', () => {
    const stacks = synthAll(config([ic, audit, payments, backups, other]));
    expect(Object.keys(stacks)).toEqual([
      `keys-${ACCOUNT_A}-eu-west-1`,
      `keys-${ACCOUNT_A}-us-east-1`,
      `keys-${ACCOUNT_B}-eu-west-1`,
      `keys-${ACCOUNT_B}-us-east-1`,
    ]);
    // identity-center is attached to Identity Center and has no ledger: its first key comes from the pipeline.
    expect(Object.keys(resourcesOf(stacks[`keys-${ACCOUNT_A}-us-east-1`]!, 'aws_kms_key')).sort()).toEqual(['shared_secrets_key_gen1']);
  });

  test('THEN each stack has its own provider pinned to its Region and account, with default tags', () => {
    const stacks = synthAll(config([ic, payments]));
    expect(stacks[`keys-${ACCOUNT_B}-eu-west-1`]!.provider.aws).toEqual([
      { region: 'eu-west-1', allowed_account_ids: [ACCOUNT_B], default_tags: [{ tags: { 'keyrotor:managed-by': 'keyrotor' } }] },
    ]);
  });

  test('GIVEN the default S3 backend THEN the state key is <prefix>/<stack>.tfstate with native lockfile locking', () => {
    const stack = synthAll(config([ic]))[`keys-${ACCOUNT_A}-us-east-1`]!;
    expect(stack.terraform.backend).toEqual({
      s3: { bucket: 'org-tfstate', key: `keyrotor/keys-${ACCOUNT_A}-us-east-1.tfstate`, region: 'us-east-1', encrypt: true, use_lockfile: true },
    });
  });

  test('GIVEN useLockfile false THEN no use_lockfile is emitted', () => {
    const stack = synthAll(config([ic], { backend: { type: 's3', bucket: 'b', keyPrefix: 'p', region: 'eu-west-1', useLockfile: false } }))[`keys-${ACCOUNT_A}-us-east-1`]!;
    expect(stack.terraform.backend.s3).not.toHaveProperty('use_lockfile');
  });

  test('GIVEN a local backend THEN each stack writes <dir>/<stack>.tfstate', () => {
    const stack = synthAll(config([ic], { backend: { type: 'local', dir: '/repo/terraform-state' } }))[`keys-${ACCOUNT_A}-us-east-1`]!;
    expect(stack.terraform.backend).toEqual({ local: { path: `/repo/terraform-state/keys-${ACCOUNT_A}-us-east-1.tfstate` } });
  });
});

describe('ManagedKey without a ledger (greenfield)', () => {
  const stack = synthAll(config([audit]))[`keys-${ACCOUNT_A}-eu-west-1`]!;
  const key = resourcesOf(stack, 'aws_kms_key').org_audit_logs_key_gen1!;

  test('THEN generation 1 is a plain resource: symmetric, encrypt/decrypt, rotation with the configured period, no import', () => {
    expect(key).toMatchObject({
      customer_master_key_spec: 'SYMMETRIC_DEFAULT',
      key_usage: 'ENCRYPT_DECRYPT',
      enable_key_rotation: true,
      rotation_period_in_days: 180,
      deletion_window_in_days: 14,
      is_enabled: true,
      description: 'key ring org-audit-logs',
    });
    expect(stack.import).toBeUndefined();
    expect(stack.removed).toBeUndefined();
  });

  test('THEN the policy is byte-identical to what the pipeline passes to CreateKey', () => {
    expect(key.policy).toBe(renderKeyPolicy(buildKeyPolicy(audit)));
  });

  test('THEN the tags are the key ring tags plus keyrotor:keyring and keyrotor:generation', () => {
    expect(key.tags).toEqual({ owner: 'platform-security', 'keyrotor:keyring': 'org-audit-logs', 'keyrotor:generation': '1' });
  });

  test('THEN the active key has prevent_destroy and the alias targets it', () => {
    expect(key.lifecycle).toEqual({ prevent_destroy: true, ignore_changes: IGNORED });
    expect(resourcesOf(stack, 'aws_kms_alias').org_audit_logs_alias).toEqual({
      name: 'alias/org-audit-logs',
      target_key_id: '${aws_kms_key.org_audit_logs_key_gen1.key_id}',
    });
  });
});

describe('ManagedKey with a 3-generation ledger (gen1 pending-deletion, gen2 retiring, gen3 active)', () => {
  const ledger = ledgerFixture('identity-center-three-generations');
  const stack = synthAll(config([ic]), { 'identity-center': ledger })[`keys-${ACCOUNT_A}-us-east-1`]!;
  const keys = resourcesOf(stack, 'aws_kms_key');

  test('THEN only the live generations are declared, under their stable key_gen<N> ids', () => {
    expect(Object.keys(keys).sort()).toEqual(['identity_center_key_gen2', 'identity_center_key_gen3']);
  });

  test('THEN the pending-deletion generation is dropped from state with a removed block that does not destroy', () => {
    expect(stack.removed).toEqual([{ from: 'aws_kms_key.identity_center_key_gen1', lifecycle: { destroy: false } }]);
  });

  test('THEN the pipeline-created generations are adopted with import blocks by key id, and so is the alias', () => {
    expect(stack.import).toEqual(
      expect.arrayContaining([
        { id: '22222222-2222-4222-8222-222222222222', to: 'aws_kms_key.identity_center_key_gen2' },
        { id: '33333333-3333-4333-8333-333333333333', to: 'aws_kms_key.identity_center_key_gen3' },
        { id: 'alias/identity-center', to: 'aws_kms_alias.identity_center_alias' },
      ]),
    );
    expect(stack.import).toHaveLength(3);
  });

  test('THEN prevent_destroy is on the active generation only, and the alias targets it', () => {
    expect(keys.identity_center_key_gen3!.lifecycle).toEqual({ prevent_destroy: true, ignore_changes: IGNORED });
    expect(keys.identity_center_key_gen2!.lifecycle).toEqual({ ignore_changes: IGNORED });
    expect(resourcesOf(stack, 'aws_kms_alias').identity_center_alias!.target_key_id).toBe('${aws_kms_key.identity_center_key_gen3.key_id}');
  });

  test('THEN each generation is tagged with its own number', () => {
    expect(keys.identity_center_key_gen2!.tags['keyrotor:generation']).toBe('2');
    expect(keys.identity_center_key_gen3!.tags['keyrotor:generation']).toBe('3');
  });
});

describe('ManagedKey with a generation in every other state', () => {
  const ledger = ledgerFixture('payments-data-every-state');
  const stack = synthAll(config([payments]), { 'payments-data': ledger })[`keys-${ACCOUNT_B}-eu-west-1`]!;
  const keys = resourcesOf(stack, 'aws_kms_key');

  test('THEN deleted is absent, disabled and undated abandoned are declared disabled, candidate and active enabled', () => {
    expect(Object.keys(keys).sort()).toEqual(['payments_data_key_gen2', 'payments_data_key_gen4', 'payments_data_key_gen5', 'payments_data_key_gen6']);
    expect(keys.payments_data_key_gen2!.is_enabled).toBe(false);
    expect(keys.payments_data_key_gen4!.is_enabled).toBe(false);
    expect(keys.payments_data_key_gen5!.is_enabled).toBe(true);
    expect(keys.payments_data_key_gen6!.is_enabled).toBe(true);
  });

  test('THEN an abandoned generation with a deletion date is removed like a pending deletion', () => {
    expect(stack.removed).toEqual([{ from: 'aws_kms_key.payments_data_key_gen3', lifecycle: { destroy: false } }]);
  });

  test('THEN the generation numbers, not their order, name the resources', () => {
    const reordered: Ledger = { ...ledger, generations: [...ledger.generations].reverse() };
    const again = synthAll(config([payments]), { 'payments-data': reordered })[`keys-${ACCOUNT_B}-eu-west-1`]!;
    expect(again).toEqual(stack);
  });
});

describe('ledgers the stacks refuse', () => {
  const base = ledgerFixture('identity-center-three-generations');

  test('GIVEN two active generations WHEN synthesized THEN a StateError names the key ring and the generations', () => {
    const twoActive: Ledger = { ...base, generations: base.generations.map((g) => ({ ...g, state: g.generation === 1 ? 'pending-deletion' : 'active' })) };
    expect(() => synthAll(config([ic]), { 'identity-center': twoActive })).toThrow(StateError);
    expect(() => synthAll(config([ic]), { 'identity-center': twoActive })).toThrow(/key ring "identity-center".*generations 2, 3 are all active/);
  });

  test('GIVEN a generation number used twice WHEN synthesized THEN it is refused', () => {
    const duplicate: Ledger = { ...base, generations: [...base.generations, { ...base.generations[1]!, state: 'disabled' }] };
    expect(() => synthAll(config([ic]), { 'identity-center': duplicate })).toThrow(/generation 2 appears twice/);
  });

  test('GIVEN a ledger without an active generation THEN no alias is declared (it is never pointed back)', () => {
    const noneActive: Ledger = { ...base, generations: base.generations.map((g) => (g.state === 'active' ? { ...g, state: 'retiring' } : g)), identityCenter: { keyType: 'AWS_OWNED_KMS_KEY' } };
    const stack = synthAll(config([ic]), { 'identity-center': noneActive })[`keys-${ACCOUNT_A}-us-east-1`]!;
    expect(resourcesOf(stack, 'aws_kms_alias')).toEqual({});
    expect(Object.values(resourcesOf(stack, 'aws_kms_key')).some((k) => k.lifecycle?.prevent_destroy)).toBe(false);
  });
});

describe('IdentityCenterEncryption', () => {
  test('GIVEN an attached key ring without a ledger (first use on an organization) THEN nothing is declared for it: no key, no alias, no Identity Center setting', () => {
    const stack = synthAll(config([ic, other]))[`keys-${ACCOUNT_A}-us-east-1`]!;
    expect(resourcesOf(stack, 'terraform_data')).toEqual({});
    expect(Object.keys(resourcesOf(stack, 'aws_kms_key'))).toEqual(['shared_secrets_key_gen1']);
    expect(Object.keys(resourcesOf(stack, 'aws_kms_alias'))).toEqual(['shared_secrets_alias']);
  });

  test('GIVEN a ledger with generations but no recorded Identity Center target THEN no terraform_data (Terraform never picks the key itself)', () => {
    const { identityCenter: _none, ...ledger } = ledgerFixture('identity-center-three-generations');
    const stack = synthAll(config([ic]), { 'identity-center': ledger })[`keys-${ACCOUNT_A}-us-east-1`]!;
    expect(resourcesOf(stack, 'terraform_data')).toEqual({});
    expect(Object.keys(resourcesOf(stack, 'aws_kms_key')).sort()).toEqual(['identity_center_key_gen2', 'identity_center_key_gen3']);
  });

  test('GIVEN the ledger records a generation THEN terraform_data holds that target and runs the helper on change', () => {
    const stack = synthAll(config([ic]), { 'identity-center': ledgerFixture('identity-center-three-generations') })[`keys-${ACCOUNT_A}-us-east-1`]!;
    const data = resourcesOf(stack, 'terraform_data');
    expect(Object.keys(data)).toEqual(['identity_center_identity_center_encryption']);
    const desired = {
      instance_arn: IDENTITY_CENTER.instanceArn,
      region: 'us-east-1',
      key_type: 'CUSTOMER_MANAGED_KEY',
      kms_key_arn: '${aws_kms_key.identity_center_key_gen3.arn}',
    };
    const resource = data.identity_center_identity_center_encryption!;
    expect(resource.triggers_replace).toEqual(desired);
    expect(resource.input).toEqual(desired);
    expect(resource.provisioner).toEqual([
      {
        'local-exec': {
          command: `${HELPER.join(' ')} --instance-arn ${IDENTITY_CENTER.instanceArn} --key-type CUSTOMER_MANAGED_KEY --kms-key-arn '\${aws_kms_key.identity_center_key_gen3.arn}' --region us-east-1`,
        },
      },
    ]);
  });

  test('GIVEN the ledger records the active generation for Identity Center THEN the target references that generation', () => {
    const stack = synthAll(config([ic]), { 'identity-center': ledgerFixture('identity-center-three-generations') })[`keys-${ACCOUNT_A}-us-east-1`]!;
    expect(resourcesOf(stack, 'terraform_data').identity_center_identity_center_encryption!.triggers_replace.kms_key_arn).toBe('${aws_kms_key.identity_center_key_gen3.arn}');
  });

  test('GIVEN the ledger still records the old generation (switch not yet done) THEN Identity Center is not moved ahead of the pipeline', () => {
    const ledger = ledgerFixture('identity-center-three-generations');
    const midRun: Ledger = { ...ledger, identityCenter: { keyType: 'CUSTOMER_MANAGED_KEY', kmsKeyArn: ledger.generations[1]!.keyArn } };
    const stack = synthAll(config([ic]), { 'identity-center': midRun })[`keys-${ACCOUNT_A}-us-east-1`]!;
    expect(resourcesOf(stack, 'terraform_data').identity_center_identity_center_encryption!.triggers_replace.kms_key_arn).toBe('${aws_kms_key.identity_center_key_gen2.arn}');
  });

  test('GIVEN the ledger records an AWS owned key THEN no key ARN is passed', () => {
    const ledger: Ledger = { ...ledgerFixture('identity-center-three-generations'), identityCenter: { keyType: 'AWS_OWNED_KMS_KEY' } };
    const resource = resourcesOf(synthAll(config([ic]), { 'identity-center': ledger })[`keys-${ACCOUNT_A}-us-east-1`]!, 'terraform_data').identity_center_identity_center_encryption!;
    expect(resource.triggers_replace).toEqual({ instance_arn: IDENTITY_CENTER.instanceArn, region: 'us-east-1', key_type: 'AWS_OWNED_KMS_KEY' });
    expect(resource.provisioner[0]['local-exec'].command).not.toContain('--kms-key-arn');
  });

  test('GIVEN key rings not attached to Identity Center THEN no terraform_data exists', () => {
    const stacks = synthAll(config([audit, payments]));
    for (const stack of Object.values(stacks)) expect(resourcesOf(stack, 'terraform_data')).toEqual({});
  });
});

describe('monitoring', () => {
  const stack = synthAll(config([ic, other], { monitoring: { enabled: true, snsTopicName: 'key-events', emailSubscriptions: ['sec@example.com', 'oncall@example.com'], configRules: true } }), {
    'identity-center': ledgerFixture('identity-center-three-generations'),
  })[`keys-${ACCOUNT_A}-us-east-1`]!;

  test('THEN an SNS topic with e-mail subscriptions and a policy letting EventBridge publish', () => {
    expect(Object.values(resourcesOf(stack, 'aws_sns_topic'))).toEqual([{ name: 'key-events' }]);
    expect(Object.values(resourcesOf(stack, 'aws_sns_topic_subscription')).map((s) => [s.protocol, s.endpoint])).toEqual([
      ['email', 'sec@example.com'],
      ['email', 'oncall@example.com'],
    ]);
    const policy = JSON.parse(Object.values(resourcesOf(stack, 'aws_sns_topic_policy'))[0]!.policy);
    expect(policy.Statement).toEqual([
      expect.objectContaining({ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sns:Publish', Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT_A } } }),
    ]);
  });

  const rules = Object.values(resourcesOf(stack, 'aws_cloudwatch_event_rule'));
  const patternOf = (suffix: string) => JSON.parse(rules.find((r) => r.name.endsWith(suffix))!.event_pattern);

  test('THEN a rule on ScheduleKeyDeletion / DisableKey / PutKeyPolicy matching every key of the account and Region by ARN prefix', () => {
    const pattern = patternOf('-key-changes');
    expect(pattern.source).toEqual(['aws.kms']);
    expect(pattern.detail.eventName).toEqual(['ScheduleKeyDeletion', 'DisableKey', 'PutKeyPolicy']);
    expect(pattern.detail.resources.ARN).toEqual([{ prefix: `arn:aws:kms:us-east-1:${ACCOUNT_A}:key/` }]);
  });

  test('THEN a rule on any use of a key pending deletion or disabled (the removed generation included, by prefix), receiving read-only events', () => {
    const rule = rules.find((r) => r.name.endsWith('-pending-deletion-use'))!;
    const pattern = JSON.parse(rule.event_pattern);
    expect(pattern.detail.errorCode).toEqual(['KMSInvalidStateException']);
    expect(pattern.detail.resources.ARN).toEqual([{ prefix: `arn:aws:kms:us-east-1:${ACCOUNT_A}:key/` }]);
    expect(rule.state).toBe('ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS');
  });

  test('THEN the patterns do not change when the ledger gains or loses generations (a rotation never diffs the rules)', () => {
    const after = synthAll(config([ic, other], { monitoring: { enabled: true, snsTopicName: 'key-events', emailSubscriptions: ['sec@example.com', 'oncall@example.com'], configRules: true } }), {
      'identity-center': { ...ledgerFixture('identity-center-three-generations'), generations: ledgerFixture('identity-center-three-generations').generations.slice(1) },
    })[`keys-${ACCOUNT_A}-us-east-1`]!;
    expect(resourcesOf(after, 'aws_cloudwatch_event_rule')).toEqual(resourcesOf(stack, 'aws_cloudwatch_event_rule'));
  });

  test('THEN every rule targets the topic', () => {
    const targets = Object.values(resourcesOf(stack, 'aws_cloudwatch_event_target'));
    expect(targets).toHaveLength(2);
    for (const target of targets) expect(target.arn).toMatch(/^\$\{aws_sns_topic\.[A-Za-z0-9_]+\.arn\}$/);
  });

  test('THEN the AWS Config managed rules for rotation and pending deletion', () => {
    expect(Object.values(resourcesOf(stack, 'aws_config_config_rule')).map((r) => r.source.source_identifier).sort()).toEqual([
      'CMK_BACKING_KEY_ROTATION_ENABLED',
      'KMS_CMK_NOT_SCHEDULED_FOR_DELETION',
    ]);
  });

  test('GIVEN configRules false THEN no Config rules; GIVEN monitoring disabled THEN no monitoring at all', () => {
    const noRules = synthAll(config([ic], { monitoring: { enabled: true, snsTopicName: 't', emailSubscriptions: [], configRules: false } }))[`keys-${ACCOUNT_A}-us-east-1`]!;
    expect(resourcesOf(noRules, 'aws_config_config_rule')).toEqual({});
    expect(Object.keys(resourcesOf(noRules, 'aws_sns_topic'))).toHaveLength(1);
    const off = synthAll(config([ic], { monitoring: { enabled: false, snsTopicName: 't', emailSubscriptions: [], configRules: true } }))[`keys-${ACCOUNT_A}-us-east-1`]!;
    for (const type of ['aws_sns_topic', 'aws_cloudwatch_event_rule', 'aws_config_config_rule']) expect(resourcesOf(off, type)).toEqual({});
  });
});
