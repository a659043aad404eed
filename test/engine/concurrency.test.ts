/**
 * One actor per run and one open run per key ring, under real concurrency: several `rotate`
 * processes started at once (a CI job and a person, two terminals) never both act. The losers
 * exit 2 at once, say who holds the run or the key ring, and change nothing; every AWS mutation the
 * winner made is in the audit chain. The same holds with the DynamoDB store, whose fence lives in
 * the run's own item. Ctrl-C stops a command at a recorded point, and a closed pipe is not a crash.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createHarness, migrateToCmk, stageStatuses, type Harness } from './harness';
import { Engine } from '../../pipeline/engine/engine';
import { FenceLostError, RunBusyError } from '../../pipeline/errors';
import { DynamoDbStateStore } from '../../pipeline/state/dynamodb-store';
import { operatorSignsStarts } from '../../scripts/demo/workspace';

const bin = path.resolve(__dirname, '../../bin/rotate.js');

interface Exit {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

function rotate(h: Harness, args: readonly string[], options: { onStderr?: (text: string, child: ReturnType<typeof spawn>) => void } = {}): Promise<Exit> {
  const env = {
    ...process.env,
    KEYROTOR_OPERATOR: h.ws.operator,
    KEYROTOR_APPROVALS_DIR: h.ws.approvalsDir,
    AWS_ACCESS_KEY_ID: 'AKIATESTOPERATOR',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  const child = spawn(process.execPath, [bin, '--config', h.ws.configPath, '--endpoint', h.emulator.endpoint, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    options.onStderr?.(err, child);
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })));
}

describe('parallel processes on one key ring (file store)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ quotas: false, workspace: { checks: [] } });
    await migrateToCmk(h);
    h.emulator.clearCallLog();
  });
  afterEach(() => h.close());

  it('GIVEN six `rotate start` at once THEN exactly one run is open; the others exit 2 naming it, and their runs are ended', async () => {
    const results = await Promise.all(Array.from({ length: 6 }, () => rotate(h, ['start', h.keyring.name, '--signing-key', h.ws.operatorKeyPath])));
    const opened = results.filter((r) => r.code === 0);
    expect(opened).toHaveLength(1);
    const open = await h.store.listRuns({ keyring: h.keyring.name, open: true });
    expect(open.filter((r) => r.kind === 'rotate')).toHaveLength(1);
    for (const lost of results.filter((r) => r.code !== 0)) {
      expect(lost.code).toBe(2);
      expect(lost.err).toMatch(new RegExp(`key ring ${h.keyring.name} already has an open run ${open[0]!.id}`));
    }
    expect((await h.store.getLease(h.keyring.name))?.runId).toBe(open[0]!.id);
    const ended = (await h.store.listRuns({ keyring: h.keyring.name })).filter((r) => r.kind === 'rotate' && r.id !== open[0]!.id);
    expect(ended.every((r) => r.status === 'cancelled')).toBe(true);
    expect(h.emulator.callLog().filter((c) => c.mutating)).toEqual([]);
  }, 60_000);

  it('GIVEN four `rotate advance RUN` at once with latency on every call THEN one acts, the others exit 2 at once naming its pid and host, and every mutation is made once and audited', async () => {
    const run = await h.engine().start(h.keyring.name, 'rotate');
    h.emulator.setLatency('*', 40);
    const results = await Promise.all(Array.from({ length: 4 }, () => rotate(h, ['advance', run.id])));
    h.emulator.setLatency('*', 0);
    expect(results.filter((r) => r.code === 0)).toHaveLength(1);
    for (const lost of results.filter((r) => r.code !== 0)) {
      expect(lost.code).toBe(2);
      expect(lost.err).toMatch(new RegExp(`run ${run.id} is being acted on by ${h.ws.operator} \\(\`rotate advance\`, pid \\d+ on ${os.hostname()}\\) since \\S+; nothing was changed`));
    }
    const mutations = h.emulator.callLog().filter((c) => c.mutating && c.outcome === 'ok').map((c) => c.operation);
    expect(mutations.filter((o) => o === 'CreateKey')).toHaveLength(1);
    expect(new Set(mutations).size).toBe(mutations.length); // no mutation twice
    const intents = (await h.store.readAudit()).filter((e) => e.action === 'aws.intent' && e.runId === run.id);
    expect(intents.map((e) => String(e.detail?.operation)).sort()).toEqual(h.emulator.callLog().filter((c) => c.mutating).map((c) => `${c.service === 'sso-admin' ? 'sso' : c.service}:${c.operation}`).sort());
    expect(stageStatuses((await h.store.getRun(run.id))!)['approval-gate']).toBe('waiting');
    expect(await h.store.getRunLock(run)).toBeUndefined();
  }, 60_000);

  it('GIVEN a running advance WHEN interrupted with Ctrl-C THEN it stops at a recorded point with exit 130, status explains, and advance continues it', async () => {
    const run = await h.engine().start(h.keyring.name, 'rotate');
    h.emulator.setLatency('*', 30);
    let signalled = false;
    const stopped = await rotate(h, ['advance', run.id], {
      onStderr: (text, child) => {
        if (!signalled && /→ kms:CreateKey/.test(text)) {
          signalled = true;
          child.kill('SIGINT');
        }
      },
    });
    h.emulator.setLatency('*', 0);
    expect(stopped.code).toBe(130);
    expect(stopped.err).toMatch(/interrupt: stopping at the next recorded point/);
    expect(stopped.err).toMatch(/error: interrupted before/);
    const after = (await h.store.getRun(run.id))!;
    expect(after.status).not.toBe('completed');
    expect((await h.store.readAudit()).some((e) => e.action === 'run.interrupted' && e.runId === run.id)).toBe(true);
    const status = await rotate(h, ['status', run.id]);
    expect(status.out).toMatch(/next: .*rotate advance/);
    const resumed = await rotate(h, ['advance', run.id]);
    expect(resumed.code).toBe(0);
    expect(stageStatuses((await h.store.getRun(run.id))!)['approval-gate']).toBe('waiting');
    expect(h.emulator.callLog().filter((c) => c.mutating && c.outcome === 'ok' && c.operation === 'CreateKey')).toHaveLength(1);
  }, 60_000);

  it('GIVEN `rotate status` piped into a reader that closes early THEN it exits cleanly, without a stack trace', async () => {
    const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
    const child = spawn(process.execPath, [bin, '--config', h.ws.configPath, 'status'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.once('data', () => child.stdout.destroy()); // `| head -1`
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(err).not.toMatch(/EPIPE|Error:|at /);
    expect(code).toBe(0);
  }, 30_000);
});

describe('parallel actors with the DynamoDB store', () => {
  const createDynalite = require('dynalite') as (options: Record<string, unknown>) => Server;
  let server: Server;
  let h: Harness;
  let endpoint: string;
  beforeAll(async () => {
    server = createDynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(async () => {
    h = await createHarness({ quotas: false, workspace: { checks: [] } });
  });
  afterEach(() => h.close());

  it('GIVEN two engines in live processes advancing one run at once THEN one acts and the other is refused naming it; the run completes its stages once', async () => {
    const store = new DynamoDbStateStore({ table: `concurrency-${Date.now()}`, region: 'us-east-1', endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    await store.ensureTable();
    const engine = (pid: number) =>
      new Engine({
        config: h.config,
        store,
        clientsFor: () => h.clients,
        actor: `operator-${pid}`,
        identifyInitiator: operatorSignsStarts(h.ws, h.config),
        sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 20))),
        identity: { host: os.hostname(), pid: process.pid }, // alive: neither lock can be taken over
        options: { poll: { initialMs: 10, maxMs: 50 } },
      });
    const migrated = await engine(1).start(h.keyring.name, 'migrate-to-cmk');
    await engine(1).advance(migrated.id);
    const run = await engine(1).start(h.keyring.name, 'rotate');
    h.emulator.clearCallLog();
    h.emulator.setLatency('*', 20);
    // The second arrives while the first holds the run: it must be refused, not take the run over.
    const later = new Promise<void>((resolve) => setTimeout(resolve, 150)).then(() => engine(3).advance(run.id));
    const results = await Promise.allSettled([engine(2).advance(run.id), later]);
    h.emulator.setLatency('*', 0);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!.reason as Error;
    expect(refused).toBeInstanceOf(RunBusyError);
    expect(refused.message).toMatch(/is being acted on by operator-2 \(`rotate advance`, pid \d+/);
    expect(h.emulator.callLog().filter((c) => c.mutating && c.operation === 'CreateKey')).toHaveLength(1);
    expect(stageStatuses((await store.getRun(run.id))!)['approval-gate']).toBe('waiting');
    expect(await store.getRunLock(run)).toBeUndefined();
    expect(await store.verifyAudit()).toEqual(expect.objectContaining({ ok: true }));
    await store.close();
  }, 60_000);

  it('GIVEN two starts on one key ring at once THEN one run opens and the other is ended, refused naming it', async () => {
    const store = new DynamoDbStateStore({ table: `starts-${Date.now()}`, region: 'us-east-1', endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    await store.ensureTable();
    const engine = new Engine({ config: h.config, store, clientsFor: () => h.clients, actor: h.ws.operator, identifyInitiator: operatorSignsStarts(h.ws, h.config) });
    const results = await Promise.allSettled([engine.start(h.keyring.name, 'migrate-to-cmk'), engine.start(h.keyring.name, 'migrate-to-cmk'), engine.start(h.keyring.name, 'migrate-to-cmk')]);
    const opened = results.filter((r): r is PromiseFulfilledResult<Awaited<ReturnType<Engine['start']>>> => r.status === 'fulfilled');
    expect(opened).toHaveLength(1);
    for (const r of results.filter((x): x is PromiseRejectedResult => x.status === 'rejected')) {
      expect((r.reason as Error).message).toMatch(new RegExp(`already has an open run ${opened[0]!.value.id}`));
    }
    expect((await store.listRuns({ open: true })).map((r) => r.id)).toEqual([opened[0]!.value.id]);
    await store.close();
  }, 30_000);
});

describe('a process that lost the run while paused between its intent and its AWS call', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('GIVEN another process took the run over after the CreateKey intent was written WHEN the first goes on THEN it makes no CreateKey, fails with FenceLostError, and the holder converges with one key', async () => {
    h = await createHarness();
    await migrateToCmk(h);
    const run = await h.engine().start(h.keyring.name, 'rotate');
    const lockFile = path.join(h.ws.stateDir, 'run-locks', `${run.id}.json`);
    // The "pause": at the moment CreateKey would be sent, another host has taken the run over.
    const takenOver = {
      hit(point: string) {
        if (point !== 'before:kms:CreateKey') return;
        const lock = JSON.parse(readFileSync(lockFile, 'utf8'));
        writeFileSync(lockFile, JSON.stringify({ ...lock, token: 'f'.repeat(32), holder: { ...lock.holder, host: 'other-host', pid: 4242 } }));
      },
    };
    h.emulator.clearCallLog();
    const error = await h.engine({ options: { crashPoints: takenOver } }).advance(run.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FenceLostError);
    expect((error as FenceLostError).message).toContain('(pid 4242 on other-host) took it over');
    expect(h.emulator.callLog().filter((c) => c.operation === 'CreateKey')).toEqual([]);

    // The new holder's lock goes away (its process is gone); the run converges with exactly one key.
    rmSync(lockFile);
    const resumed = await h.engine().advance(run.id);
    expect(stageStatuses(resumed)['approval-gate']).toBe('waiting');
    expect(h.emulator.callLog().filter((c) => c.operation === 'CreateKey' && c.outcome === 'ok')).toHaveLength(1);
  });
});
