import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { main } from '../../scripts/cli/main';
import type { CliIo } from '../../scripts/cli/context';
import { openStateStore } from '../../pipeline/state/open';
import type { Run } from '../../pipeline/state/types';
import { CAST, makeKeyLab, makeRun, OLD_KEY, type KeyLab } from './fixtures';

let lab: KeyLab;
let caseNo = 0;

beforeAll(() => {
  lab = makeKeyLab(CAST);
});
afterAll(() => lab.cleanup());

interface Workspace {
  readonly dir: string;
  readonly config: string;
  readonly run: Run;
  storedRun(): Promise<Run>;
}

/** A fresh project dir: keyrings.json (quorum 2), allowed_signers (alice, bob, carol), a file state store holding one waiting run started by carol. */
async function workspace(): Promise<Workspace> {
  const dir = path.join(lab.dir, `ws-${++caseNo}`);
  mkdirSync(path.join(dir, 'approvers'), { recursive: true });
  const signers = lab.allowedSigners([
    { principal: 'alice@example.com', key: 'alice', options: 'namespaces="keyrotor-approval@v1"' },
    { principal: 'bob@example.com', key: 'bob' },
    { principal: 'carol@example.com', key: 'carol' },
  ], `allowed_signers_${caseNo}`);
  writeFileSync(path.join(dir, 'approvers', 'allowed_signers'), readFileSync(signers));
  const config = path.join(dir, 'keyrings.json');
  writeFileSync(config, JSON.stringify({
    version: 1,
    backend: { type: 'local' },
    state: { type: 'file', dir: 'state' },
    keyrings: [{
      name: 'identity-center', alias: 'alias/identity-center', account: '111111111111', region: 'us-east-1', description: 'test',
      keyAdministrators: ['arn:aws:iam::111111111111:role/KmsKeyAdministrator'],
      approvals: { quorum: 2, allowedSignersFile: 'approvers/allowed_signers', lifetimeHours: 72 },
    }],
  }));
  const openStore = () => openStateStore({ type: 'file', dir: path.join(dir, 'state') });
  const store = await openStore();
  const run = await store.putRun({ ...makeRun(), version: 0 });
  await store.close();
  return {
    dir,
    config,
    run,
    async storedRun() {
      const s = await openStore();
      try {
        return (await s.getRun(run.id))!;
      } finally {
        await s.close();
      }
    },
  };
}

interface Captured {
  readonly io: CliIo;
  readonly out: string[];
  readonly err: string[];
  readonly prompts: string[];
}

function capture(options: { interactive?: boolean; answers?: string[] } = {}): Captured {
  const out: string[] = [];
  const err: string[] = [];
  const prompts: string[] = [];
  const answers = [...(options.answers ?? [])];
  return {
    out,
    err,
    prompts,
    io: {
      out: (t) => out.push(t),
      err: (t) => err.push(t),
      interactive: options.interactive ?? false,
      readLine: async (prompt) => {
        prompts.push(prompt);
        return answers.shift();
      },
    },
  };
}

async function rotate(ws: Workspace, args: string[], cap = capture()): Promise<{ code: number; out: string; err: string; cap: Captured }> {
  const code = await main(['node', 'rotate', '--config', ws.config, ...args], { io: cap.io, cwd: ws.dir, env: {} });
  return { code, out: cap.out.join('\n'), err: cap.err.join('\n'), cap };
}

const key = (name: string) => lab.keys[name]!.privateKey;

describe('rotate approve / approvals / gate (in-process CLI, real keys, file state store)', () => {
  it('GIVEN a waiting run WHEN alice approves with --yes THEN she is shown the payload in words, the approval is stored and the gate still wants one more', async () => {
    const ws = await workspace();
    const approve = await rotate(ws, ['approve', ws.run.id, '--signing-key', key('alice'), '--yes']);
    expect(approve.code).toBe(0);
    expect(approve.out).toContain(`You, alice@example.com, approve DELETING key ${OLD_KEY}`);
    expect(approve.out).toMatch(/irrecoverable no earlier than \d{4}-\d\d-\d\dT/);
    expect(approve.out).toMatch(/check alias round trip: passed/);
    expect(approve.out).toMatch(/old key was last used: 2026-11-20T08:00:00.000Z for Decrypt/);
    expect(approve.out).toMatch(/1 of 2 valid — signed by alice@example.com; 1 more needed/);
    expect((await ws.storedRun()).approvals.map((a) => a.signer)).toEqual(['alice@example.com']);

    const gate = await rotate(ws, ['gate', ws.run.id]);
    expect(gate.code).toBe(1);
    expect(gate.err).toMatch(/signed by alice@example.com; 1 more needed/);
  });

  it('GIVEN two approvals (one confirmed interactively) THEN `rotate gate` exits 0 and `rotate approvals --json` shows both counting', async () => {
    const ws = await workspace();
    expect((await rotate(ws, ['approve', ws.run.id, '--signing-key', key('alice'), '-y'])).code).toBe(0);
    const bob = await rotate(ws, ['approve', ws.run.id, '--signing-key', key('bob'), '--as', 'BOB@example.com'], capture({ interactive: true, answers: ['yes'] }));
    expect(bob.code).toBe(0);
    expect(bob.cap.prompts).toEqual(['Sign this approval? Type "yes" to sign: ']);
    expect((await rotate(ws, ['gate', ws.run.id])).code).toBe(0);

    const listed = await rotate(ws, ['--json', 'approvals', ws.run.id]);
    const result = JSON.parse(listed.out) as { satisfied: boolean; approvals: Array<{ signer: string; counts: boolean }> };
    expect(result.satisfied).toBe(true);
    expect(result.approvals.map((a) => [a.signer, a.counts])).toEqual([['alice@example.com', true], ['bob@example.com', true]]);
  });

  it('GIVEN no terminal and no --yes THEN approve prints the payload, refuses, says to pass --yes, and stores nothing', async () => {
    const ws = await workspace();
    const result = await rotate(ws, ['approve', ws.run.id, '--signing-key', key('alice')]);
    expect(result.code).toBe(2);
    expect(result.out).toContain('"approver":"alice@example.com"');
    expect(result.err).toMatch(/--yes/);
    expect((await ws.storedRun()).approvals).toEqual([]);
  });

  it('GIVEN the approver answers anything but "yes" THEN nothing is signed or stored', async () => {
    const ws = await workspace();
    const result = await rotate(ws, ['approve', ws.run.id, '--signing-key', key('alice')], capture({ interactive: true, answers: ['y'] }));
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/not signed/);
    expect((await ws.storedRun()).approvals).toEqual([]);
  });

  it('GIVEN the initiator tries to approve their own run THEN it is refused before signing', async () => {
    const ws = await workspace();
    const result = await rotate(ws, ['approve', ws.run.id, '--signing-key', key('carol'), '--yes']);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/carol@example.com initiated run run-0001/);
    expect((await ws.storedRun()).approvals).toEqual([]);
  });

  it('GIVEN a key not in allowed_signers claiming an allowed principal THEN approve fails at once and stores nothing', async () => {
    const ws = await workspace();
    const result = await rotate(ws, ['approve', ws.run.id, '--signing-key', key('mallory'), '--as', 'alice@example.com', '--yes']);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/does not verify against .*allowed_signers: the signing key SHA256:\S+ is not listed for alice@example.com/);
    expect((await ws.storedRun()).approvals).toEqual([]);
  });

  it('GIVEN approvals carried as files (--out) THEN `rotate gate --approvals-dir` counts them like stored ones', async () => {
    const ws = await workspace();
    const elsewhere = await workspace(); // same run id and digests, another state store: the approvals travel as artifacts
    const dir = path.join(ws.dir, 'artifacts');
    expect((await rotate(elsewhere, ['approve', ws.run.id, '--signing-key', key('alice'), '--yes', '--out', path.join(dir, 'alice.json')])).code).toBe(0);
    expect((await rotate(elsewhere, ['approve', ws.run.id, '--signing-key', key('bob'), '--yes', '--out', path.join(dir, 'bob.json')])).code).toBe(0);
    expect((await rotate(ws, ['gate', ws.run.id])).code).toBe(1);
    const gate = await rotate(ws, ['gate', ws.run.id, '--approvals-dir', dir]);
    expect(gate.code).toBe(0);
    expect(gate.out).toMatch(/quorum holds .*2 of 2 \(alice@example.com, bob@example.com\)/);
  });

  it('GIVEN an unknown run, a missing config or an unreadable approvals dir THEN the gate exits 2, never 0 or 1', async () => {
    const ws = await workspace();
    const unknown = await rotate(ws, ['gate', 'run-nope']);
    expect(unknown).toMatchObject({ code: 2 });
    expect(unknown.err).toMatch(/run run-nope not found/);
    const noConfig = await main(['node', 'rotate', '--config', path.join(ws.dir, 'missing.json'), 'gate', ws.run.id], { io: capture().io, cwd: ws.dir, env: {} });
    expect(noConfig).toBe(2);
    expect((await rotate(ws, ['gate', ws.run.id, '--approvals-dir', path.join(ws.dir, 'nope')])).code).toBe(2);
  });

  it('GIVEN approvals of mixed validity THEN `rotate approvals` prints a table saying which count and why not', async () => {
    const ws = await workspace();
    await rotate(ws, ['approve', ws.run.id, '--signing-key', key('alice'), '--yes']);
    const stored = await ws.storedRun();
    const alice = stored.approvals[0]!;
    const tampered = { ...alice, payload: alice.payload.replace('"deletionWindowDays":30', '"deletionWindowDays":7') };
    const store = await openStateStore({ type: 'file', dir: path.join(ws.dir, 'state') });
    await store.putRun({ ...stored, approvals: [alice, tampered] });
    await store.close();

    const listed = await rotate(ws, ['approvals', ws.run.id]);
    expect(listed.code).toBe(0);
    const lines = listed.out.split('\n');
    expect(lines[0]).toMatch(/^#\s+signer\s+issued\s+expires\s+counts\s+why not$/);
    expect(lines[1]).toMatch(/^1\s+alice@example.com\s+\S+\s+\S+\s+yes$/);
    expect(lines[2]).toMatch(/^2\s+alice@example.com\s+\S+\s+\S+\s+no\s+bad-signature: signature does not match the payload/);
    expect(listed.out).toMatch(/1 of 2 valid — signed by alice@example.com; 1 more needed/);
  });
});
