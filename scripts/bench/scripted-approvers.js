'use strict';
/**
 * The fleet bench's approvers, on their own thread: each signs every run as soon as it waits at
 * its gate (one signature per run, through the same checks as `rotate fleet approve`), until the
 * bench posts 'stop'. A thread of its own, because real approvers sit at their own machines: their
 * signing must not hold up the emulator's event loop, which answers the fleet's AWS calls.
 *
 * workerData: { dist, configPath, stateDir, approvalsDir, keys: [private key path, …] }.
 * Posts { signatures, refusals: [reason, …] } when stopped.
 */
const { parentPort, workerData } = require('node:worker_threads');
const path = require('node:path');

const dist = (p) => path.join(workerData.dist, p);
const { loadConfig } = require(dist('pipeline/config/load'));
const { FileStateStore } = require(dist('pipeline/state/file-store'));
const { openRunsByKeyring } = require(dist('pipeline/fleet/fleet-run'));
const { prepareMany, runsAwaitingApproval, signMany } = require(dist('pipeline/fleet/approve-many'));
const { resolveSigningKey } = require(dist('pipeline/approvals/signing-key'));

let stopping = false;
parentPort.on('message', (message) => {
  if (message === 'stop') stopping = true;
});

async function main() {
  const config = loadConfig(workerData.configPath);
  const store = new FileStateStore(workerData.stateDir);
  const approvers = await Promise.all(workerData.keys.map(async (keyPath) => ({ key: await resolveSigningKey(keyPath), signed: new Set() })));
  let signatures = 0;
  const refusals = new Map();
  while (!stopping) {
    const open = await openRunsByKeyring(store);
    for (const approver of approvers) {
      const { candidates } = runsAwaitingApproval(config.keyrings, open);
      const fresh = candidates.filter((c) => !approver.signed.has(c.run.id));
      if (fresh.length === 0) continue;
      const now = new Date();
      const checked = await prepareMany(store, config, fresh, approver.key, { now });
      const result = await signMany(checked.prepared, { approvalsDir: workerData.approvalsDir, now });
      for (const s of result.signed) approver.signed.add(s.runId);
      for (const r of [...checked.refused, ...result.refused]) refusals.set(r.runId, r.reason);
      signatures += result.signed.length;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await store.close();
  parentPort.postMessage({ signatures, refusals: [...refusals.values()] });
}

main().catch((error) => {
  parentPort.postMessage({ error: error instanceof Error ? error.stack : String(error) });
});
