#!/usr/bin/env node
'use strict';
/**
 * Prints `lock=keyrotor-<stack>` (for $GITHUB_OUTPUT): the concurrency group that deploy.yml's
 * plan and apply jobs of a stack and rotation.yml's jobs on a key ring of that stack share, so a
 * rotation never runs while Terraform plans or applies the same keys, and the other way round.
 * The group is per stack (account + Region), the unit Terraform applies, and so also per key ring.
 *
 * Usage: lock-group.js --keyring NAME | --run RUN_ID   (reads the config and the state store
 * through the project's compiled modules: run after `npm ci`; $KEYROTOR_CONFIG or keyrings.json)
 */
const path = require('node:path');

const dist = path.join(__dirname, '..', '..', 'dist');
const { loadConfig } = require(path.join(dist, 'pipeline', 'config', 'load.js'));
const { openStateStore } = require(path.join(dist, 'pipeline', 'state', 'open.js'));
const { stackNameFor } = require(path.join(dist, 'stacks', 'naming.js'));

function fail(message) {
  process.stderr.write(`::error title=Bad input::${message}\n`);
  process.exit(2);
}

async function keyringNameOf(config, args) {
  if (args[0] === '--keyring' && args[1]) return args[1];
  if (args[0] === '--run' && args[1]) {
    const store = await openStateStore(config.state);
    try {
      const run = await store.getRun(args[1]);
      if (!run) fail(`run ${args[1]} is not in ${store.description}; check the run id (dispatch \`status\` to list open runs)`);
      return run.keyring;
    } finally {
      await store.close();
    }
  }
  return fail('usage: lock-group.js --keyring NAME | --run RUN_ID');
}

async function main(args) {
  const config = loadConfig(process.env.KEYROTOR_CONFIG || 'keyrings.json');
  const name = await keyringNameOf(config, args);
  const keyring = config.keyrings.find((k) => k.name === name);
  if (!keyring) fail(`key ring ${name} is not in ${config.file} (it has ${config.keyrings.map((k) => k.name).join(', ')})`);
  process.stdout.write(`lock=keyrotor-${stackNameFor(keyring.account, keyring.region)}\n`);
}

main(process.argv.slice(2)).catch((error) => fail(error instanceof Error ? error.message : String(error)));
