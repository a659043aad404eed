#!/usr/bin/env node
'use strict';
/**
 * `npm run bench`: wall time and peak RSS of (a) keyrotor's synth, `node dist/main.js`, on the
 * example keyrings.json with an empty state dir, and (b) the same resources the stock `cdktf init`
 * way (namespace provider import under type-checking ts-node, scripts/bench/stock/main.ts). Each is
 * run several times in a fresh process; the median is reported, as a markdown table with the ratio.
 *
 * Peak RSS comes from `/usr/bin/time -v` when present, else from a preloaded probe that reads
 * `process.resourceUsage().maxRSS` at exit. Options: --runs N (project, default 5),
 * --stock-runs N (default 3), --json.
 *
 * It also times the `rotate` CLI's start-up (median of --cli-runs N, default 10): `--help` must
 * not load the AWS SDK or cdktf, and `lint` / `status` only what they need.
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const args = process.argv.slice(2);
const argValue = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const projectRuns = argValue('--runs', 5);
const stockRuns = argValue('--stock-runs', 3);
const timeBinary = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const probe = path.join(__dirname, 'rss-probe.js');

function measure(label, argv, extraEnv) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'keyrotor-bench-'));
  const stateDir = path.join(work, 'state');
  fs.mkdirSync(stateDir);
  const rssFile = path.join(work, 'rss');
  const env = {
    ...process.env,
    KEYROTOR_CONFIG: path.join(root, 'keyrings.json'),
    KEYROTOR_STATE_DIR: stateDir,
    CDKTF_OUTDIR: path.join(work, 'cdktf.out'),
    KEYROTOR_RSS_FILE: rssFile,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${probe}`.trim(),
    ...extraEnv,
  };
  const command = timeBinary ? [timeBinary, '-v', ...argv] : argv;
  const started = process.hrtime.bigint();
  const result = spawnSync(command[0], command.slice(1), { cwd: root, env, encoding: 'utf8' });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) {
    throw new Error(`${label} failed (exit ${result.status}):\n${result.stderr}`);
  }
  const stacks = fs.readdirSync(path.join(work, 'cdktf.out', 'stacks'));
  const fromTime = /Maximum resident set size \(kbytes\): (\d+)/.exec(result.stderr ?? '');
  // The probe sees every node process of the run (ts-node may fork none, npx would); keep the max.
  const probed = fs.existsSync(rssFile) ? Math.max(...fs.readFileSync(rssFile, 'utf8').trim().split('\n').map(Number)) : 0;
  const peakKb = Math.max(fromTime ? Number(fromTime[1]) : 0, probed);
  fs.rmSync(work, { recursive: true, force: true });
  return { wallMs, peakMb: peakKb / 1024, stacks: stacks.length };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function series(label, argv, runs) {
  const samples = [];
  for (let i = 0; i < runs; i += 1) samples.push(measure(label, argv, {}));
  return {
    label,
    runs,
    stacks: samples[0].stacks,
    wallMs: median(samples.map((s) => s.wallMs)),
    peakMb: median(samples.map((s) => s.peakMb)),
  };
}

/** Median wall time of a short command, in fresh processes, and how many modules it loads. */
function cliSeries(label, argv, runs, env) {
  const samples = [];
  let modules = 0;
  const probe = path.join(__dirname, 'module-probe.js');
  for (let i = 0; i < runs; i += 1) {
    const started = process.hrtime.bigint();
    const result = spawnSync(argv[0], argv.slice(1), { cwd: root, env: { ...process.env, ...env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${probe}`.trim() }, encoding: 'utf8' });
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (result.status !== 0) throw new Error(`${label} failed (exit ${result.status}):\n${result.stderr}`);
    modules = Number(/keyrotor-bench-modules: (\d+)/.exec(result.stderr ?? '')?.[1] ?? 0);
  }
  return { label, runs, wallMs: median(samples), modules };
}

/**
 * The example keyrings.json beside an allowed_signers of four ephemeral approvers: the committed
 * approvers file is a placeholder that `rotate lint` rightly refuses, so lint is timed on a passing one.
 */
function exampleWithApprovers(work) {
  fs.mkdirSync(path.join(work, 'approvers'));
  const lines = ['a', 'b', 'c', 'd'].map((name) => {
    const key = path.join(work, 'approvers', name);
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    return `${name}@example.com ${fs.readFileSync(`${key}.pub`, 'utf8').trim()}`;
  });
  fs.writeFileSync(path.join(work, 'approvers', 'allowed_signers'), `${lines.join('\n')}\n`);
  fs.copyFileSync(path.join(root, 'keyrings.json'), path.join(work, 'keyrings.json'));
  return path.join(work, 'keyrings.json');
}

function cliStartup() {
  const runs = argValue('--cli-runs', 10);
  const bin = path.join(root, 'bin', 'rotate.js');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'keyrotor-bench-cli-'));
  const env = { KEYROTOR_CONFIG: exampleWithApprovers(work), KEYROTOR_STATE_DIR: path.join(work, 'state') };
  try {
    return [
      cliSeries('`node -e 0` (the floor)', [process.execPath, '-e', '0'], runs, env),
      cliSeries('`rotate --help`', [process.execPath, bin, '--help'], runs, env),
      cliSeries('`rotate lint` (config + 4 key policies + the approver set)', [process.execPath, bin, 'lint'], runs, env),
      cliSeries('`rotate status` (config + file store)', [process.execPath, bin, 'status'], runs, env),
      cliSeries('`rotate plan identity-center --kind migrate-to-cmk` (no AWS call)', [process.execPath, bin, 'plan', 'identity-center', '--kind', 'migrate-to-cmk'], runs, env),
    ];
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function main() {
  const mainJs = path.join(root, 'dist', 'main.js');
  if (!fs.existsSync(mainJs)) {
    console.error('dist/main.js is missing: run `npm run build` first');
    process.exit(2);
  }
  const project = series('keyrotor (`node dist/main.js`, deep imports)', [process.execPath, mainJs], projectRuns);
  const stock = series(
    'stock (`ts-node main.ts`, `import * as aws`)',
    [process.execPath, path.join(root, 'node_modules', 'ts-node', 'dist', 'bin.js'), path.join(__dirname, 'stock', 'main.ts')],
    stockRuns,
  );
  const cli = cliStartup();
  const result = {
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}`,
    project,
    stock,
    cli,
    speedup: stock.wallMs / project.wallMs,
    memoryRatio: stock.peakMb / project.peakMb,
  };
  if (args.includes('--json')) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  const row = (s) => `| ${s.label} | ${s.stacks} | ${s.runs} | ${(s.wallMs / 1000).toFixed(2)} s | ${s.peakMb.toFixed(0)} MB |`;
  console.log(`Synth of the example keyrings.json, empty state dir; median of N fresh processes (${result.machine}).\n`);
  console.log('| synth | stacks | N | wall (median) | peak RSS (median) |');
  console.log('|---|---|---|---|---|');
  console.log(row(project));
  console.log(row(stock));
  console.log(`| **ratio stock / keyrotor** | | | **${result.speedup.toFixed(1)}×** | **${result.memoryRatio.toFixed(1)}×** |`);
  const targets = [
    ['project wall < 1 s', project.wallMs < 1000],
    ['project peak < 150 MB', project.peakMb < 150],
    ['≥ 10× faster than stock', result.speedup >= 10],
    ['`rotate --help` < 0.5 s', cli[1].wallMs < 500],
    ['`rotate plan` costs no more than `rotate status` (over `node -e 0`, 10% noise allowed)', cli[4].wallMs - cli[0].wallMs <= 1.1 * (cli[3].wallMs - cli[0].wallMs)],
  ];
  console.log(`\nCLI start-up, median of ${cli[0].runs} fresh processes:\n`);
  console.log('| command | wall (median) | over `node -e 0` | modules loaded |');
  console.log('|---|---|---|---|');
  for (const c of cli) console.log(`| ${c.label} | ${(c.wallMs / 1000).toFixed(3)} s | ${((c.wallMs - cli[0].wallMs) / 1000).toFixed(3)} s | ${c.modules} |`);
  console.log(`\ntargets: ${targets.map(([name, ok]) => `${ok ? 'met' : 'MISSED'}: ${name}`).join('; ')}`);
}

main();
