#!/usr/bin/env node
'use strict';
/**
 * `npm run bench [-- <bench>… [options]]`: runs the named benches (default: all, in this order),
 * each in its own process, and passes every other argument to each of them (each reads the
 * options it knows and ignores the rest).
 *
 *   synth    synth and CLI start-up against the stock cdktf way (synth-bench.js: --runs, --stock-runs, --cli-runs, --json)
 *   ic-wait  how late the Identity Center wait sees a switch (ic-wait-bench.js: --quick, --delays, --json)
 *   state    audit append cost as history grows, fsyncs per write and per rotation (state-bench.js: --appends, --json)
 *   fleet    fleet rotations at the KMS quotas against their floor, and synth at scale (fleet-bench.js: --quick, --only A|B|C, --json, --cpu-prof DIR)
 *
 * Exits with the first non-zero exit code of a bench, after running them all.
 */
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const BENCHES = {
  synth: 'synth-bench.js',
  'ic-wait': 'ic-wait-bench.js',
  state: 'state-bench.js',
  fleet: 'fleet-bench.js',
};

const args = process.argv.slice(2);
const chosen = args.filter((a) => Object.hasOwn(BENCHES, a));
const forwarded = args.filter((a) => !Object.hasOwn(BENCHES, a));
// Every option value the benches take is a number or a list of numbers (--runs 5, --delays 1,5),
// a scenario (--only B) or a directory (--cpu-prof DIR), so any other bare word is a misspelt bench name.
const unknown = forwarded.filter((a, i) => !a.startsWith('-') && !/^[\d.,]+$/.test(a) && !['--only', '--cpu-prof'].includes(forwarded[i - 1]));
if (unknown.length > 0) {
  console.error(`bench: no bench named ${unknown.map((u) => JSON.stringify(u)).join(', ')} (known: ${Object.keys(BENCHES).join(', ')})`);
  process.exit(2);
}

let exitCode = 0;
for (const name of chosen.length > 0 ? chosen : Object.keys(BENCHES)) {
  console.log(`\n## bench: ${name}\n`);
  const result = spawnSync(process.execPath, [path.join(__dirname, BENCHES[name]), ...forwarded], { stdio: 'inherit' });
  const code = result.status ?? 1;
  if (code !== 0 && exitCode === 0) exitCode = code;
}
process.exitCode = exitCode;
