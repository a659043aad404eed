#!/usr/bin/env node
'use strict';
/**
 * `npm run bench -- ic-wait [--quick] [--delays 1,5,20,60] [--json]`: how late the Identity Center
 * wait sees a switch finish. For each switch duration, a fresh local emulator whose UpdateInstance
 * stays UPDATING for exactly that long; the example keyrings.json's Identity Center key ring gets a
 * key with the project's policy; then the shared driver (pipeline/identity-center, as the stage
 * and the Terraform helper run it, default schedule) switches the instance to it through the real
 * SDK client. Printed per duration: when the switch was seen (from sending UpdateInstance to the
 * driver returning), the overshoot and its share of the real duration, the promise
 * max(0.2 T, 2 s), the DescribeInstance calls from the emulator's call log, and what the schedule
 * predicts without jitter.
 *
 * The durations run at the same time, one emulator each (the waits are idle, so they do not
 * disturb each other); the longest sets the wall time. --quick leaves out 60 s. Needs `npm run build`.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

// The SDK's Node 20 deprecation notice says nothing about this bench (bin/rotate.js does the same).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const root = path.resolve(__dirname, '..', '..');
const dist = path.join(root, 'dist');
const args = process.argv.slice(2);

function fail(message) {
  console.error(`ic-wait bench: ${message}`);
  process.exit(2);
}

function parseDelays() {
  const i = args.indexOf('--delays');
  if (i < 0) return args.includes('--quick') ? [1, 5, 20] : [1, 5, 20, 60];
  const raw = args[i + 1] ?? '';
  const delays = raw.split(',').map((s) => Number(s.trim()));
  if (raw.trim() === '' || delays.some((d) => !Number.isFinite(d) || d <= 0)) {
    fail(`--delays ${JSON.stringify(raw)} must be a comma-separated list of positive seconds, e.g. --delays 1,5,20`);
  }
  return delays;
}

/** One switch of `delaySeconds` against its own emulator, measured. */
async function measureSwitch(delaySeconds, project) {
  const { startEmulator, createAwsClients, ensureIdentityCenterEncryption, keyring, policy, UpdateInstanceCommand, CreateKeyCommand } = project;
  const emulator = await startEmulator({ port: 0, updateDelayMs: delaySeconds * 1000 });
  const clients = createAwsClients({ region: keyring.region, endpoint: emulator.endpoint, env: { AWS_ACCESS_KEY_ID: 'AKIABENCHOPERATOR', AWS_SECRET_ACCESS_KEY: 'bench' } });
  try {
    const created = await clients.kms.send(new CreateKeyCommand({ Policy: policy, Description: 'ic-wait bench' }));
    const kmsKeyArn = created.KeyMetadata.Arn;
    emulator.clearCallLog();
    let updateSentAt;
    const result = await ensureIdentityCenterEncryption(clients, keyring.identityCenter.instanceArn, { keyType: 'CUSTOMER_MANAGED_KEY', kmsKeyArn }, {
      update: (input) => {
        updateSentAt = performance.now();
        return clients.ssoAdmin.send(new UpdateInstanceCommand(input));
      },
    });
    const detectedMs = performance.now() - updateSentAt;
    if (!result.changed) throw new Error(`the ${delaySeconds} s switch made no UpdateInstance`);
    const describes = emulator.callLog().filter((c) => c.operation === 'DescribeInstance').length;
    return { delaySeconds, detectedMs, describes, polls: result.polls };
  } finally {
    clients.destroy();
    await emulator.stop();
  }
}

function loadProject() {
  const need = (rel) => {
    const file = path.join(dist, rel);
    if (!fs.existsSync(`${file}.js`)) fail(`${path.relative(root, file)}.js is missing: run \`npm run build\` first`);
    return require(file);
  };
  const { startEmulator } = need('emulator/index');
  const { createAwsClients } = need('pipeline/aws/index');
  const { ensureIdentityCenterEncryption } = need('pipeline/identity-center/ensure-encryption');
  const schedule = need('pipeline/identity-center/poll-schedule');
  const { loadConfig } = need('pipeline/config/load');
  const { buildKeyPolicy, renderKeyPolicy } = need('pipeline/policy/builder');
  const config = loadConfig(path.join(root, 'keyrings.json'));
  const keyring = config.keyrings.find((k) => k.identityCenter);
  if (!keyring) fail('keyrings.json has no key ring attached to Identity Center');
  const { UpdateInstanceCommand } = require('@aws-sdk/client-sso-admin');
  const { CreateKeyCommand } = require('@aws-sdk/client-kms');
  return { startEmulator, createAwsClients, ensureIdentityCenterEncryption, schedule, keyring, policy: renderKeyPolicy(buildKeyPolicy(keyring)), UpdateInstanceCommand, CreateKeyCommand };
}

async function main() {
  const delays = parseDelays();
  const project = loadProject();
  const { IDENTITY_CENTER_POLL_SCHEDULE: schedule, predictDetection, promisedOvershootMs } = project.schedule;
  const started = performance.now();
  const measured = await Promise.all(delays.map((d) => measureSwitch(d, project)));
  const wallSeconds = (performance.now() - started) / 1000;
  const rows = measured.map((m) => {
    const realMs = m.delaySeconds * 1000;
    const overshootMs = m.detectedMs - realMs;
    const promisedMs = promisedOvershootMs(realMs);
    const predicted = predictDetection(realMs, { ...schedule, jitter: 0 });
    return { ...m, realMs, overshootMs, seenRatio: m.detectedMs / realMs, overshootRatio: overshootMs / realMs, promisedMs, kept: overshootMs <= promisedMs, predicted };
  });
  const result = {
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}`,
    schedule,
    ran: delays,
    skipped: args.includes('--quick') && !args.includes('--delays') ? [60] : [],
    wallSeconds,
    rows,
  };
  if (args.includes('--json')) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  const s = schedule;
  console.log(`Identity Center wait: switches of ${delays.join(', ')} s on the emulator, at the same time, one emulator each (${result.machine}).`);
  if (result.skipped.length) console.log(`--quick: skipped the ${result.skipped.join(', ')} s switch.`);
  console.log(`Schedule: wait ${s.ratio * 100}% of the time waited, ${s.floorMs} ms to ${s.capMs / 1000} s, up to ${s.jitter * 100}% shorter at random. Promise: seen within max(0.2 T, 2 s).\n`);
  console.log('| switch T | seen at | overshoot | overshoot / T | promise | DescribeInstance calls (polls + the read before) | predicted without jitter |');
  console.log('|---|---|---|---|---|---|---|');
  const sec = (ms) => `${(ms / 1000).toFixed(2)} s`;
  for (const r of rows) {
    console.log(`| ${r.delaySeconds} s | ${sec(r.detectedMs)} | ${sec(r.overshootMs)} | ${(r.overshootRatio * 100).toFixed(1)}% | ≤ ${sec(r.promisedMs)} ${r.kept ? 'kept' : '**BROKEN**'} | ${r.describes} (${r.describes - 1} + 1) | ${sec(r.predicted.detectedAtMs)}, ${r.predicted.polls} + 1 calls |`);
  }
  console.log(`\nwall ${wallSeconds.toFixed(1)} s; targets: ${rows.map((r) => `${r.kept ? 'met' : 'MISSED'}: ${r.delaySeconds} s seen within ${sec(r.promisedMs)}`).join('; ')}`);
  if (rows.some((r) => !r.kept)) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
