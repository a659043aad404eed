/**
 * Fleet commands as real processes: two at once over the same key rings (two operators, or a
 * retried CI job racing the first) — each key ring still gets exactly one run, each run is driven
 * by one process at a time, and the process that finds a key ring taken says so instead of failing
 * it; and a fleet interrupted with Ctrl-C, which stops every key ring at a recorded point.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { ciEnv } from '../../scripts/demo/fleet-workspace';
import { createDemoWorkspace, type DemoWorkspace } from '../../scripts/demo/workspace';
import { FileStateStore } from '../../pipeline/state/file-store';
import { adoptAll, createOrg, type Org } from './helpers';

const BIN = path.resolve(__dirname, '..', '..', 'bin', 'rotate.js');

let keys: DemoWorkspace;
let keysDir: string;
let org: Org;
beforeAll(async () => {
  keysDir = await mkdtemp(path.join(os.tmpdir(), 'keyrotor-fleet-keys-'));
  keys = await createDemoWorkspace(keysDir);
  org = await createOrg({ accounts: ['111111111111'], regions: ['us-east-1'], perGroup: 4, keysFrom: keys, emulator: { quotas: false } });
  await adoptAll(org);
}, 60_000);
afterAll(async () => {
  await org.close();
  await rm(keysDir, { recursive: true, force: true });
});

function rotateProcess(args: readonly string[], onSpawn?: (text: string, child: ReturnType<typeof spawn>) => void): Promise<{ code: number; body: any; err: string }> {
  const env = { ...process.env, ...ciEnv(org.ws), KEYROTOR_APPROVALS_DIR: org.ws.approvalsDir, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--config', org.ws.configPath, '--endpoint', org.emulator.endpoint, '--json', ...args], { cwd: org.dir, env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    onSpawn?.(err, child);
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        resolve({ code: code ?? -1, body: JSON.parse(out), err });
      } catch {
        reject(new Error(`not JSON (exit ${code}):\n${out}\n${err}`));
      }
    });
  });
}

test('GIVEN two processes running `fleet run --all` at once THEN each key ring has one open run, driven to its gate; the process that lost a key ring reports it busy, naming the run, and exits 0', async () => {
  const argv = ['fleet', 'run', '--all', '--signing-key', org.ws.operatorKeyPath];
  const [first, second] = await Promise.all([rotateProcess(argv), rotateProcess(argv)]);
  expect([first.code, second.code]).toEqual([0, 0]);
  type Outcome = { keyring: string; outcome: string; summary: string; runId?: string; stage?: string };
  const outcomes = [...first.body.outcomes, ...second.body.outcomes] as Outcome[];
  expect(outcomes.filter((o) => o.outcome === 'failed')).toEqual([]);

  const store = new FileStateStore(org.ws.stateDir);
  const runs = (await store.listRuns()).filter((r) => r.kind === 'rotate');
  await store.close();
  for (const name of org.ws.keyringNames) {
    const open = runs.filter((r) => r.keyring === name && r.status !== 'cancelled');
    // One run per key ring went on; a start that lost the race ended its own run, unopened.
    expect(open).toHaveLength(1);
    expect(runs.filter((r) => r.keyring === name && r.status === 'cancelled').every((r) => /not opened/.test(r.endReason ?? ''))).toBe(true);
    // Both processes speak of that one run: at its gate, or busy in the other's hands (which of
    // them drove it, and whether the second found it already open, depends on timing).
    const mine = outcomes.filter((o) => o.keyring === name);
    expect(mine).toHaveLength(2);
    expect(mine.every((o) => o.runId === open[0]!.id)).toBe(true);
    expect(mine.some((o) => o.outcome === 'waiting' && o.stage === 'approval-gate')).toBe(true);
    for (const lost of mine.filter((o) => o.outcome !== 'waiting')) {
      expect(lost.outcome).toBe('busy');
      expect(lost.summary).toMatch(new RegExp(`already has an open run ${open[0]!.id}|run ${open[0]!.id} is being acted on by`));
    }
  }
}, 60_000);

test('GIVEN a `fleet run` interrupted with Ctrl-C THEN it exits 130, every key ring stops at a recorded point with no execution lock left, and the next `fleet run` takes them all to their gates', async () => {
  // A fresh organization: the first test left its runs at their gates.
  await org.close();
  org = await createOrg({ accounts: ['111111111111'], regions: ['us-east-1'], perGroup: 4, keysFrom: keys, emulator: { quotas: false } });
  await adoptAll(org);
  const store = new FileStateStore(org.ws.stateDir);
  org.emulator.setLatency('*', 40);
  let signalled = false;
  const argv = ['fleet', 'run', '--all', '--signing-key', org.ws.operatorKeyPath];
  org.emulator.clearCallLog();
  const stopped = await rotateProcess(argv, (_text, child) => {
    // Ctrl-C once the first CreateKey reached AWS: some key rings mid-stage, others not yet begun.
    const poll = setInterval(() => {
      if (signalled || !org.emulator.callLog().some((c) => c.operation === 'CreateKey')) return;
      signalled = true;
      clearInterval(poll);
      child.kill('SIGINT');
    }, 5);
    child.once('close', () => clearInterval(poll));
  });
  org.emulator.setLatency('*', 0);
  expect(signalled).toBe(true);
  expect(stopped.code).toBe(130);
  // Each key ring says where it stopped, with the interrupted code.
  for (const o of stopped.body.outcomes as Array<{ exitCode: number; summary: string }>) expect([o.exitCode, o.summary]).toEqual([130, expect.stringMatching(/^interrupted /)]);
  const open = await store.listRuns({ open: true });
  for (const run of open) expect(await store.getRunLock(run)).toBeUndefined();
  const resumed = await rotateProcess(argv);
  expect(resumed.code).toBe(0);
  expect(resumed.body.outcomes.map((o: { outcome: string; stage?: string }) => [o.outcome, o.stage])).toEqual(org.ws.keyringNames.map(() => ['waiting', 'approval-gate']));
  // One CreateKey per key ring across both commands: nothing was done twice.
  const creates = org.emulator.callLog().filter((c) => c.operation === 'CreateKey' && c.outcome === 'ok');
  expect(new Set(creates.map((c) => c.target)).size).toBe(creates.length);
  await store.close();
}, 60_000);

test('GIVEN a `fleet run` in flight WHEN `fleet status` looks THEN the key rings it is acting on are busy, naming the stage and the process; once it is done, none is', async () => {
  await org.close();
  org = await createOrg({ accounts: ['111111111111'], regions: ['us-east-1'], perGroup: 2, keysFrom: keys, emulator: { quotas: false } });
  await adoptAll(org);
  org.emulator.setLatency('*', 40);
  org.emulator.clearCallLog();
  let seen: Array<{ keyring: string; outcome: string; summary: string }> = [];
  let pid = 0;
  const argv = ['fleet', 'run', '--all', '--signing-key', org.ws.operatorKeyPath];
  const running = rotateProcess(argv, (_text, child) => {
    pid = child.pid!;
    const poll = setInterval(() => {
      if (!org.emulator.callLog().some((c) => c.operation === 'CreateKey') || seen.length > 0) return;
      clearInterval(poll);
      void org.json(['fleet', 'status', '--all']).then((status) => (seen = status.body.outcomes));
    }, 5);
    child.once('close', () => clearInterval(poll));
  });
  const done = await running;
  org.emulator.setLatency('*', 0);
  expect(done.code).toBe(0);
  expect(seen.length).toBe(2);
  expect(seen.some((o) => o.outcome === 'busy')).toBe(true);
  // The engine's lock names the command step it runs for the fleet (`rotate advance`) and the fleet's pid.
  for (const o of seen.filter((x) => x.outcome === 'busy')) expect(o.summary).toMatch(new RegExp(`^run \\S+ at [a-z-]+: being acted on by .*, pid ${pid} on `));
  const after = await org.json(['fleet', 'status', '--all']);
  expect(after.body.outcomes.map((o: { outcome: string }) => o.outcome)).toEqual(['waiting', 'waiting']);
}, 60_000);

test('GIVEN a `fleet run` killed (SIGKILL) mid-flight THEN the audit chain still verifies, and the next `fleet run` takes every key ring to its gate without repeating a CreateKey', async () => {
  await org.close();
  org = await createOrg({ accounts: ['111111111111'], regions: ['us-east-1'], perGroup: 4, keysFrom: keys, emulator: { quotas: false } });
  await adoptAll(org);
  org.emulator.setLatency('*', 30);
  org.emulator.clearCallLog();
  const argv = ['fleet', 'run', '--all', '--signing-key', org.ws.operatorKeyPath];
  let killed = false;
  // Killed once two keys exist: key rings mid-stage, audit batches and state writes in flight.
  const dead = await rotateProcess(argv, (_text, child) => {
    const poll = setInterval(() => {
      if (killed || org.emulator.callLog().filter((c) => c.operation === 'CreateKey').length < 2) return;
      killed = true;
      clearInterval(poll);
      child.kill('SIGKILL');
    }, 2);
    child.once('close', () => clearInterval(poll));
  }).catch((error: Error) => ({ code: -1, body: undefined, err: error.message }));
  org.emulator.setLatency('*', 0);
  expect(killed).toBe(true);
  expect(dead.code).toBe(-1); // no JSON: it never finished

  const verify = await org.json(['audit', 'verify']);
  expect(verify.body.ok).toBe(true);
  const resumed = await rotateProcess(argv);
  expect(resumed.code).toBe(0);
  expect(resumed.body.outcomes.map((o: { outcome: string; stage?: string }) => [o.outcome, o.stage])).toEqual(org.ws.keyringNames.map(() => ['waiting', 'approval-gate']));
  const created = org.emulator.callLog().filter((c) => c.operation === 'CreateKey' && c.outcome === 'ok');
  expect(created).toHaveLength(org.ws.keyringNames.length);
  expect((await org.json(['audit', 'verify'])).body.ok).toBe(true);
}, 60_000);
