#!/usr/bin/env node
'use strict';
/**
 * Fails a Terraform plan that would hurt a key: `terraform show -json plan.out | node kms-plan-guard.js`
 * (or pass the JSON file as the first argument). Exit 0: nothing found; exit 1: findings, each printed
 * as a GitHub error annotation; exit 2: the input is not a plan.
 *
 * Why each rule exists:
 * - No aws_kms_key / aws_kms_replica_key may be deleted or replaced (replace = delete + create).
 *   Keys leave only through the pipeline's approval gate; a generation in `pending-deletion` leaves
 *   the stacks through a `removed` block (destroy = false), which plans as `forget`, not `delete`.
 * - No aws_kms_alias may move backwards. The pipeline moves aliases (promote-alias) and the ledger
 *   follows through a reviewed state PR; Terraform only ever catches up. An alias update whose
 *   current target is not a generation this plan knows, or is a newer generation than the new
 *   target, means main's ledger is behind AWS (a state PR not merged yet): applying it would point
 *   the alias back at the retiring key.
 * - No aws_kms_alias may be deleted or replaced: consumers resolve keys through it.
 */
const fs = require('node:fs');

const KEY_TYPES = new Set(['aws_kms_key', 'aws_kms_replica_key']);
const ALIAS_TYPE = 'aws_kms_alias';

/** Key id from a key id, a key ARN (`arn:aws:kms:r:a:key/ID`) or undefined. */
function keyId(value) {
  return typeof value === 'string' && value !== '' ? value.split('/').pop() : undefined;
}

/** Generation number from a resource address (`…key_gen<N>…`, the ledger's naming rule), or undefined. */
function generationOf(address) {
  const m = /key_gen(\d+)/.exec(address);
  return m ? Number(m[1]) : undefined;
}

function check(plan) {
  const changes = Array.isArray(plan.resource_changes) ? plan.resource_changes : [];
  const findings = [];

  // Every key the plan knows (in state, imported, or kept), by key id → generation.
  const generations = new Map();
  for (const rc of changes) {
    if (!KEY_TYPES.has(rc.type)) continue;
    const gen = generationOf(rc.address);
    for (const values of [rc.change.before, rc.change.after]) {
      if (!values) continue;
      for (const id of [keyId(values.key_id), keyId(values.arn)]) {
        if (id !== undefined && gen !== undefined) generations.set(id, gen);
      }
    }
  }

  for (const rc of changes) {
    const actions = rc.change.actions;
    if (KEY_TYPES.has(rc.type) && actions.includes('delete')) {
      findings.push(
        `${rc.address}: plan would ${actions.includes('create') ? 'replace' : 'destroy'} a KMS key. ` +
          'Keys are deleted only by `rotate advance` behind the approval gate; find the attribute that forces replacement, or the generation missing from the ledger.',
      );
    }
    if (rc.type !== ALIAS_TYPE) continue;
    if (actions.includes('delete')) {
      findings.push(
        `${rc.address}: plan would ${actions.includes('create') ? 'replace' : 'delete'} a KMS alias; consumers resolve the key through it.`,
      );
      continue;
    }
    if (!actions.includes('update')) continue;
    const from = keyId(rc.change.before && rc.change.before.target_key_id);
    const afterUnknown = Boolean(rc.change.after_unknown && rc.change.after_unknown.target_key_id);
    const to = afterUnknown ? undefined : keyId(rc.change.after && rc.change.after.target_key_id);
    if (from === to && !afterUnknown) continue; // target unchanged (a tag or name-only update)
    const fromGen = generations.get(from);
    // A target computed in this plan is a key this plan creates: a newer generation.
    const toGen = afterUnknown ? Infinity : generations.get(to);
    if (fromGen !== undefined && toGen !== undefined && toGen > fromGen) continue;
    findings.push(
      `${rc.address}: plan would move the alias from ${from ?? '?'} (generation ${fromGen ?? 'unknown to this ledger'}) ` +
        `to ${to ?? '?'} (generation ${toGen ?? 'unknown'}). Main's ledger is behind AWS: merge the rotation's state PR, then re-run the plan.`,
    );
  }
  return findings;
}

function main() {
  const input = fs.readFileSync(process.argv[2] ?? 0, 'utf8');
  let plan;
  try {
    plan = JSON.parse(input);
  } catch (error) {
    console.error(`::error::kms-plan-guard: input is not JSON (${error.message}); pipe \`terraform show -json plan.out\``);
    return 2;
  }
  if (typeof plan !== 'object' || plan === null || !('format_version' in plan)) {
    console.error('::error::kms-plan-guard: input is not a Terraform JSON plan (no format_version)');
    return 2;
  }
  const findings = check(plan);
  for (const finding of findings) console.log(`::error title=KMS plan guard::${finding}`);
  if (findings.length === 0) console.log('kms-plan-guard: no KMS key destroyed or replaced, no alias moved backwards or deleted');
  return findings.length === 0 ? 0 : 1;
}

if (require.main === module) process.exitCode = main();
module.exports = { check };
