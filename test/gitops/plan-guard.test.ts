/**
 * The plan guard against the plans each race in issue 10 produces (hand-written in Terraform
 * 1.13's `terraform show -json` format, fixtures/plans/*.plan.json) and the plans a deploy must be
 * able to apply. The manifest each plan is checked against comes from the real synth of the example
 * config and the ledger the deploy synthesized from (fixtures/plans/*.ledger.json).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkPlan, type PlanGuardRule } from '../../pipeline/gitops/plan-guard';
import { parsePlanJson, PlanJsonError, type PlanJson } from '../../pipeline/gitops/plan-json';
import { main } from '../../scripts/cli/main';
import { fixtureLedger, fixtureText, manifestFor, PLAN_FIXTURES } from './helpers';

const IC_STACK = 'keys-111111111111-us-east-1';
const AUDIT_STACK = 'keys-111111111111-eu-west-1';

function guard(scenario: string, stack = IC_STACK) {
  const ledger = fixtureLedger(scenario);
  const plan = parsePlanJson(fixtureText(`${scenario}.plan.json`), scenario);
  return checkPlan(plan, manifestFor(stack, ledger ? [ledger] : []));
}

const rulesOf = (result: ReturnType<typeof guard>) => result.findings.map((f) => [f.rule, f.address] as [PlanGuardRule, string]);

describe('plans a deploy must be able to apply', () => {
  test.each([
    ['good-greenfield-first-apply', AUDIT_STACK, 'a key ring not attached to Identity Center, no ledger: Terraform creates generation 1 and the alias on it'],
    ['good-after-rotation', IC_STACK, 'right after a pipeline rotation whose state PRs merged: imports, no enablement or alias change, Identity Center re-recorded on the ledger\'s target'],
    ['good-after-schedule-deletion', IC_STACK, 'after schedule-deletion merged: the pending generation leaves the state (forget)'],
    ['good-policy-update', IC_STACK, 'a Terraform-owned change: the key policy of every live generation updated in place'],
    ['good-first-deploy-after-migrate', IC_STACK, 'the first deploy after migrate-to-cmk on an existing organization: imports, Identity Center recorded on the verified key'],
  ])('GIVEN %s WHEN guarded THEN it passes (%s)', (scenario, stack) => {
    const result = guard(scenario, stack);
    expect(result.findings).toEqual([]);
    expect(result.ok).toBe(true);
  });

  test('GIVEN the plan after a rotation THEN the guard still lists what it lets through', () => {
    expect(guard('good-after-rotation').touched).toEqual(['terraform_data.identity_center_identity_center_encryption: replace']);
  });
});

describe('the races of issue 10', () => {
  test('GIVEN a deploy after a rollback, before its state PR merged WHEN guarded THEN it refuses to disable the key Identity Center uses, to enable the abandoned one and to move the alias onto it', () => {
    const result = guard('race-rollback-before-state-pr');
    expect(result.ok).toBe(false);
    expect(rulesOf(result)).toEqual([
      ['key-enablement-changed', 'aws_kms_key.identity_center_key_gen1'],
      ['key-enablement-changed', 'aws_kms_key.identity_center_key_gen2'],
      ['alias-target-changed', 'aws_kms_alias.identity_center_alias'],
    ]);
    const alias = result.findings[2]!;
    expect(alias.message).toContain('from 11111111-1111-4111-8111-111111111111 (generation 1, disabled in the ledger) to 22222222-2222-4222-8222-222222222222 (generation 2, active in the ledger)');
    expect(alias.nextStep).toContain('merge the open rotation state PR');
    expect(result.findings[0]!.message).toContain('disable this key');
  });

  test('GIVEN a deploy after ScheduleKeyDeletion, before the merge WHEN guarded THEN it refuses the new key planned at the old generation\'s address', () => {
    const result = guard('race-schedule-deletion-before-state-pr');
    expect(rulesOf(result)).toEqual([['key-created-at-known-generation', 'aws_kms_key.identity_center_key_gen1']]);
    expect(result.findings[0]!.message).toContain('generation 1 (arn:aws:kms:us-east-1:111111111111:key/11111111-1111-4111-8111-111111111111), which the ledger has as disabled');
    expect(result.findings[0]!.keyring).toBe('identity-center');
  });

  test('GIVEN the first use on an organization that already runs Identity Center WHEN guarded THEN the Terraform-made key, the alias on it and the Identity Center switch are all refused', () => {
    const result = guard('race-first-use-existing-identity-center');
    expect(rulesOf(result)).toEqual([
      ['key-created-unknown', 'aws_kms_key.identity_center_key_gen1'],
      ['alias-target-changed', 'aws_kms_alias.identity_center_alias'],
      ['identity-center-changed', 'terraform_data.identity_center_identity_center_encryption'],
    ]);
    expect(result.findings[2]!.message).toContain('records no Identity Center target');
    expect(result.findings[2]!.nextStep).toBe('run `rotate start identity-center --kind migrate-to-cmk` (or `--kind adopt`), merge its state PR, then deploy');
  });

  test('GIVEN a config edit that forces replacement of the active key WHEN guarded THEN the replace, the alias move to an unknown key and the Identity Center switch are refused', () => {
    const result = guard('bad-key-replaced');
    expect(rulesOf(result)).toEqual([
      ['key-destroyed', 'aws_kms_key.identity_center_key_gen2'],
      ['alias-target-changed', 'aws_kms_alias.identity_center_alias'],
      ['identity-center-changed', 'terraform_data.identity_center_identity_center_encryption'],
    ]);
    expect(result.findings[0]!.message).toContain('replace this KMS key (replace_because_cannot_update); forced by multi_region');
    expect(result.findings[2]!.message).toContain('not known until apply');
  });
});

describe('rules one by one', () => {
  const ledger = fixtureLedger('good-after-rotation')!;
  const manifest = manifestFor(IC_STACK, [ledger]);
  const base = JSON.parse(fixtureText('good-after-rotation.plan.json')) as PlanJson;
  const withChanges = (edit: (changes: any[]) => void): PlanJson => {
    const plan = structuredClone(base) as any;
    edit(plan.resource_changes);
    return plan;
  };
  const find = (changes: any[], address: string) => changes.find((c) => c.address === address);

  test('GIVEN the Identity Center setting replaced with a key other than the ledger\'s THEN refused, naming both keys', () => {
    const plan = withChanges((changes) => {
      const data = find(changes, 'terraform_data.identity_center_identity_center_encryption');
      data.change.after.input = { ...data.change.after.input, kms_key_arn: ledger.generations[0]!.keyArn };
    });
    const result = checkPlan(plan, manifest);
    expect(rulesOf(result)).toEqual([['identity-center-changed', 'terraform_data.identity_center_identity_center_encryption']]);
    expect(result.findings[0]!.message).toContain(`it sets key ${ledger.generations[0]!.keyArn} but the ledger records ${ledger.generations[1]!.keyArn}`);
  });

  test('GIVEN the Identity Center setting switched to an AWS owned key the ledger does not record THEN refused', () => {
    const plan = withChanges((changes) => {
      const data = find(changes, 'terraform_data.identity_center_identity_center_encryption');
      data.change.after.input = { instance_arn: data.change.after.input.instance_arn, region: 'us-east-1', key_type: 'AWS_OWNED_KMS_KEY' };
    });
    expect(rulesOf(checkPlan(plan, manifest))).toEqual([['identity-center-changed', 'terraform_data.identity_center_identity_center_encryption']]);
  });

  test('GIVEN the Identity Center terraform_data only deleted THEN allowed (nothing runs; Identity Center keeps its key)', () => {
    const plan = withChanges((changes) => {
      const data = find(changes, 'terraform_data.identity_center_identity_center_encryption');
      data.change = { actions: ['delete'], before: data.change.before, after: null };
    });
    expect(checkPlan(plan, manifest).ok).toBe(true);
  });

  test('GIVEN a live generation forgotten THEN refused; GIVEN an alias deleted THEN refused', () => {
    const plan = withChanges((changes) => {
      find(changes, 'aws_kms_key.identity_center_key_gen1').change.actions = ['forget'];
      find(changes, 'aws_kms_alias.identity_center_alias').change.actions = ['delete'];
    });
    expect(rulesOf(checkPlan(plan, manifest))).toEqual([
      ['key-forgotten', 'aws_kms_key.identity_center_key_gen1'],
      ['alias-destroyed', 'aws_kms_alias.identity_center_alias'],
    ]);
  });

  test('GIVEN a key destroyed outright THEN refused with the retire-key way out', () => {
    const plan = withChanges((changes) => {
      const key = find(changes, 'aws_kms_key.identity_center_key_gen1');
      key.change = { actions: ['delete'], before: key.change.before, after: null };
      key.action_reason = 'delete_because_no_resource_config';
    });
    const result = checkPlan(plan, manifest);
    expect(rulesOf(result)).toEqual([['key-destroyed', 'aws_kms_key.identity_center_key_gen1']]);
    expect(result.findings[0]!.nextStep).toContain('--kind retire-key');
  });

  test('GIVEN a Terraform-owned attribute changed on an imported key (description, tags) THEN allowed', () => {
    const plan = withChanges((changes) => {
      const key = find(changes, 'aws_kms_key.identity_center_key_gen2');
      key.change.actions = ['update'];
      key.change.after = { ...key.change.after, description: 'new words', tags: { ...key.change.after.tags, team: 'x' } };
    });
    expect(checkPlan(plan, manifest).ok).toBe(true);
  });

  test('GIVEN an errored plan or deferred changes THEN refused: the guard cannot see what they would do', () => {
    const plan = { ...withChanges(() => undefined), errored: true, deferred_changes: [{ reason: 'provider_config_unknown', resource_change: { address: 'aws_kms_key.x' } }] } as PlanJson;
    expect(rulesOf(checkPlan(plan, manifest))).toEqual([
      ['plan-errored', '(plan)'],
      ['changes-deferred', 'aws_kms_key.x'],
    ]);
  });

  test('GIVEN a key created at an address no manifest knows THEN refused', () => {
    const plan = withChanges((changes) => {
      changes.push({ ...find(changes, 'aws_kms_key.identity_center_key_gen2'), address: 'aws_kms_key.something_else', change: { actions: ['create'], before: null, after: {}, after_unknown: { arn: true } } });
    });
    expect(rulesOf(checkPlan(plan, manifest))).toEqual([['key-created-unknown', 'aws_kms_key.something_else']]);
  });
});

describe('input that is not a plan', () => {
  test.each([
    ['not JSON', '{"format_version":', /is not JSON/],
    ['a JSON log line of `terraform plan -json`', JSON.stringify({ '@level': 'info', '@message': 'Terraform 1.13.4', type: 'version' }), /is not a Terraform JSON plan: format_version/],
    ['a future 2.x format', JSON.stringify({ format_version: '2.0', resource_changes: [] }), /format_version: .*1\.x plan format/],
  ])('GIVEN %s THEN a PlanJsonError names the source and says what to pass', (_name, text, message) => {
    expect(() => parsePlanJson(text, 'plan.json')).toThrow(PlanJsonError);
    expect(() => parsePlanJson(text, 'plan.json')).toThrow(message);
  });
});

describe('the rotate plan-guard command', () => {
  function stackDir(scenario: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyrotor-guard-'));
    const ledger = fixtureLedger(scenario);
    fs.writeFileSync(path.join(dir, 'keyrotor-synth.json'), JSON.stringify(manifestFor(IC_STACK, ledger ? [ledger] : [])));
    return dir;
  }

  async function guardCli(env: Record<string, string>, ...args: string[]) {
    let out = '';
    let err = '';
    const io = { out: (t: string) => (out += `${t}\n`), err: (t: string) => (err += `${t}\n`), interactive: false, readLine: async () => undefined };
    const code = await main(['node', 'rotate', ...args], { io, env, cwd: PLAN_FIXTURES });
    return { code, out, err };
  }

  test('GIVEN a good plan THEN exit 0 and what it let through', async () => {
    const result = await guardCli({}, 'plan-guard', stackDir('good-after-rotation'), 'good-after-rotation.plan.json');
    expect(result.code).toBe(0);
    expect(result.out).toContain(`plan guard: ${IC_STACK}: nothing the pipeline owns changes`);
  });

  test('GIVEN a race plan under GitHub Actions THEN exit 1, each refusal with its next step, and error annotations', async () => {
    const result = await guardCli({ GITHUB_ACTIONS: 'true' }, 'plan-guard', stackDir('race-rollback-before-state-pr'), 'race-rollback-before-state-pr.plan.json');
    expect(result.code).toBe(1);
    expect(result.err).toContain('3 change(s) refused');
    expect(result.err).toContain('aws_kms_alias.identity_center_alias [alias-target-changed]');
    expect(result.out.split('\n').filter((l) => l.startsWith('::error title=KMS plan guard'))).toHaveLength(3);
  });

  test('GIVEN --json THEN the versioned report', async () => {
    const result = await guardCli({}, '--json', 'plan-guard', stackDir('race-schedule-deletion-before-state-pr'), 'race-schedule-deletion-before-state-pr.plan.json');
    expect(result.code).toBe(1);
    expect(JSON.parse(result.out)).toMatchObject({ version: 1, stack: IC_STACK, ok: false, findings: [{ rule: 'key-created-at-known-generation' }] });
  });

  test('GIVEN a directory that is not a synthesized stack, or a file that is not a plan THEN exit 2 naming it', async () => {
    const notStack = await guardCli({}, 'plan-guard', os.tmpdir(), 'good-after-rotation.plan.json');
    expect(notStack.code).toBe(2);
    expect(notStack.err).toContain('keyrotor-synth.json: cannot be read');
    const notPlan = await guardCli({}, 'plan-guard', stackDir('good-after-rotation'), 'good-after-rotation.ledger.json');
    expect(notPlan.code).toBe(2);
    expect(notPlan.err).toContain('good-after-rotation.ledger.json: is not a Terraform JSON plan: format_version');
  });
});
