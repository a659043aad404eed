#!/usr/bin/env node
'use strict';
/**
 * `npm run bench -- state`: what the file state store costs as history grows.
 *
 *  - Audit append: median time of one `appendAudit` on a log that already holds 0, 10,000 and
 *    100,000 entries (the history is written directly as a valid chain, then real appends are
 *    timed), and the ratio of the largest to the smallest: it must stay under 2×. The same for the
 *    DynamoDB store against dynalite at 0 and 10,000 entries.
 *  - fsyncs: per document write (forced at the next sync point), per audit append, and for a whole
 *    rotation run in-process against the emulator, per AWS mutation.
 *
 * Options: --appends N (timed appends per size, default 200), --json. Needs `npm run build`.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const dist = (p) => path.join(root, 'dist', p);
if (!fs.existsSync(dist('pipeline/state/file-store.js'))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(2);
}
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { FileStateStore } = require(dist('pipeline/state/file-store.js'));
const { chainAuditEntry } = require(dist('pipeline/state/audit-chain.js'));
const { segmentName, DEFAULT_SEGMENT_ENTRIES } = require(dist('pipeline/state/audit-segments.js'));
const { fsyncCount } = require(dist('pipeline/state/json-files.js'));

const args = process.argv.slice(2);
const argValue = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const appends = argValue('--appends', 200);

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A valid chain of `count` entries written the way the store lays it out: closed segments, the active one, the head. */
function writeHistory(dir, count) {
  let previous;
  let segment = [];
  let first = 1;
  const at = new Date('2026-01-01T00:00:00.000Z');
  fs.mkdirSync(path.join(dir, 'audit'), { recursive: true });
  for (let seq = 1; seq <= count; seq += 1) {
    const entry = chainAuditEntry(previous, { actor: 'bench', action: 'aws.ok', keyring: `ring-${seq % 500}`, runId: `run-${seq % 9000}`, detail: { operation: 'kms:UpdateAlias', target: 'alias/x', seq } }, at);
    segment.push(JSON.stringify(entry));
    previous = entry;
    if (segment.length === DEFAULT_SEGMENT_ENTRIES) {
      fs.writeFileSync(path.join(dir, 'audit', segmentName(first, seq)), `${segment.join('\n')}\n`);
      segment = [];
      first = seq + 1;
    }
  }
  fs.writeFileSync(path.join(dir, 'audit.jsonl'), segment.length > 0 ? `${segment.join('\n')}\n` : '');
  if (previous) fs.writeFileSync(path.join(dir, 'audit.head'), `${JSON.stringify({ seq: previous.seq, hash: previous.hash, segmentStart: first })}\n`);
}

async function appendCost(history) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyrotor-bench-state-'));
  try {
    writeHistory(dir, history);
    const store = new FileStateStore(dir, { lock: { onNote: () => undefined } });
    const samples = [];
    for (let i = 0; i < appends; i += 1) {
      const started = process.hrtime.bigint();
      await store.appendAudit({ actor: 'bench', action: 'bench.append', detail: { i } });
      samples.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    const verify = await store.verifyAudit({ fromSeq: history + 1 });
    if (!verify.ok) throw new Error(`the appended range does not verify: ${JSON.stringify(verify.problem)}`);
    return { history, medianMs: median(samples) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The same, for the DynamoDB store against dynalite: the tail comes from the head item and a one-item query. */
async function dynamoAppendCost(history) {
  const createDynalite = require('dynalite');
  const { DynamoDBClient, BatchWriteItemCommand, PutItemCommand } = require('@aws-sdk/client-dynamodb');
  const { DynamoDbStateStore } = require(dist('pipeline/state/dynamodb-store.js'));
  const server = createDynalite({ createTableMs: 0 });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${server.address().port}`;
  const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };
  const store = new DynamoDbStateStore({ table: 'bench', region: 'us-east-1', endpoint, credentials });
  const client = new DynamoDBClient({ region: 'us-east-1', endpoint, credentials });
  try {
    await store.ensureTable();
    let previous;
    let batch = [];
    const at = new Date('2026-01-01T00:00:00.000Z');
    for (let seq = 1; seq <= history; seq += 1) {
      const entry = chainAuditEntry(previous, { actor: 'bench', action: 'aws.ok', detail: { seq } }, at);
      previous = entry;
      batch.push({ PutRequest: { Item: { pk: { S: 'AUDIT' }, sk: { S: String(seq).padStart(12, '0') }, seq: { N: String(seq) }, doc: { S: JSON.stringify(entry) } } } });
      if (batch.length === 25 || seq === history) {
        await client.send(new BatchWriteItemCommand({ RequestItems: { bench: batch } }));
        batch = [];
      }
    }
    if (previous) await client.send(new PutItemCommand({ TableName: 'bench', Item: { pk: { S: 'AUDIT_HEAD' }, sk: { S: 'head' }, seq: { N: String(previous.seq) }, hash: { S: previous.hash } } }));
    const samples = [];
    for (let i = 0; i < Math.min(appends, 100); i += 1) {
      const started = process.hrtime.bigint();
      await store.appendAudit({ actor: 'bench', action: 'bench.append', detail: { i } });
      samples.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    const verify = await store.verifyAudit({ fromSeq: history + 1 });
    if (!verify.ok) throw new Error(`the appended range does not verify: ${JSON.stringify(verify.problem)}`);
    return { history, medianMs: median(samples) };
  } finally {
    client.destroy();
    await store.close();
    await new Promise((resolve) => server.close(resolve));
  }
}

async function fsyncsPerWrite() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyrotor-bench-fsync-'));
  try {
    const store = new FileStateStore(dir, { lock: { onNote: () => undefined } });
    const ledger = { keyring: 'ring', version: 0, updatedAt: '2026-01-01T00:00:00.000Z', generations: [] };
    let before = fsyncCount();
    const written = await store.putLedger(ledger);
    await store.sync();
    const document = fsyncCount() - before;
    before = fsyncCount();
    for (let i = 0; i < 10; i += 1) await store.putLedger({ ...written, version: written.version + i, updatedAt: `2026-01-0${(i % 9) + 1}T00:00:00.000Z` });
    await store.sync();
    const tenWritesOneSync = fsyncCount() - before;
    await store.appendAudit({ actor: 'bench', action: 'first' });
    before = fsyncCount();
    await store.appendAudit({ actor: 'bench', action: 'second' });
    const audit = fsyncCount() - before;
    return { document, tenWritesOneSync, audit };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** One full rotation in-process against the emulator (no quotas, no real sleeps): fsyncs and state writes per AWS mutation. */
async function rotationFsyncs() {
  const { startEmulator } = require(dist('emulator/index.js'));
  const { actAsPipelineRole, createDemoWorkspace, operatorSignsStarts } = require(dist('scripts/demo/workspace.js'));
  const { loadConfig } = require(dist('pipeline/config/load.js'));
  const { createAwsClients } = require(dist('pipeline/aws/index.js'));
  const { unlimitedRateLimiter } = require(dist('pipeline/aws/rate-limiter.js'));
  const { Engine } = require(dist('pipeline/engine/engine.js'));
  const { approveToFile } = require(dist('pipeline/approvals/approve.js'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyrotor-bench-rotation-'));
  const emulator = await startEmulator({ quotas: false, updateDelayMs: 5 });
  try {
    const ws = await createDemoWorkspace(dir, { checks: [] });
    const config = loadConfig(ws.configPath);
    const store = new FileStateStore(ws.stateDir, { lock: { onNote: () => undefined } });
    // The pipeline acts as its role: preflight refuses a caller the key policy's lockout rules would refuse.
    actAsPipelineRole(emulator, 'AKIABENCH');
    const clients = createAwsClients({ region: config.keyrings[0].region, endpoint: emulator.endpoint, env: { AWS_ACCESS_KEY_ID: 'AKIABENCH', AWS_SECRET_ACCESS_KEY: 'x' }, rateLimiter: unlimitedRateLimiter });
    const engine = () =>
      new Engine({ config, store, clientsFor: () => clients, actor: ws.operator, identifyInitiator: operatorSignsStarts(ws, config), sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 20))), options: { poll: { initialMs: 10, maxMs: 50 } } });
    const migrate = await engine().start('identity-center', 'migrate-to-cmk');
    await engine().advance(migrate.id);
    emulator.clearCallLog();
    const before = fsyncCount();
    const started = Date.now();
    const run = await engine().start('identity-center', 'rotate');
    await engine().advance(run.id);
    for (const approver of ws.approvers) await approveToFile({ store, runId: run.id, signingKeyPath: approver.privateKeyPath, approvalsDir: ws.approvalsDir, now: new Date() });
    await engine().advance(run.id);
    await engine().advance(run.id, { allowDeletion: true });
    const fsyncs = fsyncCount() - before;
    const mutations = emulator.callLog().filter((c) => c.mutating).length;
    const auditEntries = (await store.readAudit()).filter((e) => e.runId === run.id).length;
    clients.destroy();
    return { fsyncs, mutations, auditEntries, perMutation: fsyncs / mutations, wallMs: Date.now() - started };
  } finally {
    await emulator.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const sizes = [0, 10_000, 100_000];
  const costs = [];
  for (const size of sizes) costs.push(await appendCost(size));
  const ratio = Math.max(...costs.map((c) => c.medianMs)) / Math.min(...costs.map((c) => c.medianMs));
  const dynamo = [await dynamoAppendCost(0), await dynamoAppendCost(10_000)];
  const dynamoRatio = Math.max(...dynamo.map((c) => c.medianMs)) / Math.min(...dynamo.map((c) => c.medianMs));
  const writes = await fsyncsPerWrite();
  const rotation = await rotationFsyncs();
  const result = { machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}`, appends: costs, appendRatio: ratio, dynamoAppends: dynamo, dynamoRatio, fsyncs: writes, rotation };
  if (args.includes('--json')) {
    console.log(JSON.stringify(result, null, 2));
  } else {
    console.log(`Audit append, file store, median of ${appends} appends after the history (${result.machine}):\n`);
    console.log('| entries already in the log | one append (median) |');
    console.log('|---|---|');
    for (const c of costs) console.log(`| ${c.history.toLocaleString('en-US')} | ${c.medianMs.toFixed(2)} ms |`);
    console.log(`| **ratio largest / smallest** | **${ratio.toFixed(2)}×** (target < 2×) |`);
    console.log('\nAudit append, DynamoDB store (dynalite, in-process):\n');
    console.log('| entries already in the log | one append (median) |');
    console.log('|---|---|');
    for (const c of dynamo) console.log(`| ${c.history.toLocaleString('en-US')} | ${c.medianMs.toFixed(2)} ms |`);
    console.log(`| **ratio** | **${dynamoRatio.toFixed(2)}×** (target < 2×) |`);
    console.log('\nfsyncs (what durability needs):\n');
    console.log('| write | fsyncs |');
    console.log('|---|---|');
    console.log(`| one document write (run, ledger, lease), at its sync point | ${writes.document} (the file and its directory) |`);
    console.log(`| ten writes of one document, one sync point | ${writes.tenWritesOneSync} |`);
    console.log(`| one audit append | ${writes.audit} |`);
    console.log(`| one rotation (${rotation.mutations} AWS mutations, ${rotation.auditEntries} audit entries), in-process, emulator | ${rotation.fsyncs} (${rotation.perMutation.toFixed(1)} per mutation), ${(rotation.wallMs / 1000).toFixed(2)} s |`);
  }
  if (ratio >= 2 || dynamoRatio >= 2) {
    console.error(`audit append ratio (file ${ratio.toFixed(2)}×, DynamoDB ${dynamoRatio.toFixed(2)}×) is not under 2×`);
    process.exitCode = 1;
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
