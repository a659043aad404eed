/**
 * The plan guard against plans recorded with a real Terraform (1.11.4) and the real AWS provider
 * (hashicorp/aws 5.100.0) planning the synthesized stack against the emulator, through a full
 * sequence: migrate-to-cmk, deploy, rotate, rollback, rotate again, schedule deletion — with the
 * two races of issue 10 planned from the ledger main would still have had (fixtures/terraform-1.11,
 * README there). The manifest each plan is checked against comes from the real synth of the same
 * config and ledger.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../pipeline/config/load';
import { checkPlan } from '../../pipeline/gitops/plan-guard';
import { parsePlanJson } from '../../pipeline/gitops/plan-json';
import type { Ledger } from '../../pipeline/ledger/types';
import { manifestFor } from './helpers';

const DIR = path.join(__dirname, 'fixtures', 'terraform-1.11');
const STACK = 'keys-111111111111-us-east-1';
const config = loadConfig(path.join(DIR, 'keyrings.json'));

function guardRecorded(scenario: string) {
  const ledger = JSON.parse(fs.readFileSync(path.join(DIR, scenario, 'ledger.json'), 'utf8')) as Ledger;
  const plan = parsePlanJson(fs.readFileSync(path.join(DIR, scenario, 'plan.json'), 'utf8'), scenario);
  expect(plan.terraform_version).toBe('1.11.4');
  return checkPlan(plan, manifestFor(STACK, [ledger], config));
}

describe('recorded plans a deploy must be able to apply', () => {
  test.each([
    ['first-deploy-after-migrate', 'the first deploy after migrate-to-cmk: generation 1 and the alias imported with no change, Identity Center recorded on the verified key'],
    ['after-rotation-at-gate', 'a rotation at its approval gate, state merged: generation 2 imported, generation 1 disabled by the soak, Identity Center re-recorded'],
    ['after-rollback-merged', 'after a rollback whose state PR merged: generation 1 back, generation 2 abandoned'],
    ['second-rotation-at-gate', 'a second rotation at its gate: generation 3 imported'],
    ['after-schedule-deletion-merged', 'after schedule-deletion merged: generation 1 forgotten through its removed block'],
  ])('GIVEN %s THEN the guard lets it through (%s)', (scenario) => {
    const result = guardRecorded(scenario);
    expect(result.findings).toEqual([]);
  });

  test('GIVEN the first deploy after a migration THEN the import plans no in-place update (deletion_window_in_days / bypass ignored)', () => {
    const plan = JSON.parse(fs.readFileSync(path.join(DIR, 'first-deploy-after-migrate', 'plan.json'), 'utf8'));
    const key = plan.resource_changes.find((rc: { address: string }) => rc.address === 'aws_kms_key.identity_center_key_gen1');
    expect(key.change.actions).toEqual(['no-op']);
    expect(key.change.importing).toBeDefined();
    expect(key.change.before.deletion_window_in_days).toBeNull();
  });
});

describe('the races of issue 10, as a real Terraform planned them', () => {
  test('GIVEN a deploy after a rollback, before its state PR merged THEN refused: it would disable the key Identity Center uses and move the alias onto the abandoned key', () => {
    const result = guardRecorded('race-rollback-before-state-pr');
    expect(result.findings.map((f) => [f.rule, f.address])).toEqual([
      ['alias-target-changed', 'aws_kms_alias.identity_center_alias'],
      ['key-enablement-changed', 'aws_kms_key.identity_center_key_gen1'],
      ['key-enablement-changed', 'aws_kms_key.identity_center_key_gen2'],
    ]);
  });

  test('GIVEN a deploy after ScheduleKeyDeletion, before the merge THEN refused: it would create a new key at generation 1\'s address', () => {
    const result = guardRecorded('race-schedule-deletion-before-state-pr');
    expect(result.findings.map((f) => [f.rule, f.address])).toEqual([['key-created-at-known-generation', 'aws_kms_key.identity_center_key_gen1']]);
    expect(result.findings[0]!.message).toContain('the provider reads a key pending deletion as gone');
  });
});
