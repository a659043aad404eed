/**
 * `rotate approve`, `rotate approvals` and `rotate gate` as an approver and a CI job meet them:
 * through the real CLI parser (in-process, and as separate processes for concurrent signers),
 * real keys, a real ssh-agent, a real file state store. Approving writes a file and nothing else;
 * every refusal comes before the payload is shown; gate and approvals count the same files.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { main } from '../../scripts/cli/main';
import type { CliIo } from '../../scripts/cli/context';
import { fingerprintFileName } from '../../pipeline/approvals/files';
import { makeLab, OLD_KEY, openWorld, type Lab, type World, type WorldSetup } from './fixtures';

let lab: Lab;
beforeAll(() => {
  lab = makeLab();
});
afterAll(() => lab.cleanup());

interface Workspace extends World {
  readonly config: string;
  readonly runId: string;
}

/** A project dir: keyrings.json (quorum 2), the allowed_signers the run recorded, a state store with one run waiting at the gate. */
async function workspace(setup: Partial<WorldSetup> = {}): Promise<Workspace> {
  const signers = setup.signers ?? [
    lab.line('alice', 'alice@example.com', 'namespaces="keyrotor-approval@v1"'),
    lab.line('bob', 'bob@example.com'),
    lab.line('carol', 'carol@example.com'),
    lab.line('operator', 'operator@example.com'),
    lab.line('mallory', 'mallory@evil.example', 'namespaces="git"'),
  ];
  const w = await openWorld(lab, { ...setup, signers });
  mkdirSync(path.join(w.dir, 'approvers'), { recursive: true });
  writeFileSync(path.join(w.dir, 'approvers', 'allowed_signers'), w.signersText);
  const config = path.join(w.dir, 'keyrings.json');
  writeFileSync(config, JSON.stringify({
    version: 1,
    backend: { type: 'local' },
    state: { type: 'file', dir: 'state' },
    keyrings: [{
      name: 'identity-center', alias: 'alias/identity-center', account: '111111111111', region: 'us-east-1', description: 'test',
      keyAdministrators: ['arn:aws:iam::111111111111:role/KmsKeyAdministrator'],
      rotation: { deletionWindowDays: 30, minimumSoakHours: 24, disableOldKeyDuringSoak: false },
      approvals: { quorum: setup.quorum ?? 2, allowedSignersFile: 'approvers/allowed_signers', lifetimeHours: 72 },
    }],
  }));
  await w.close(); // the CLI opens its own store
  return Object.assign(w, { config, runId: (await w.run()).id });
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

async function rotate(ws: Workspace, args: string[], cap = capture(), env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string; cap: Captured }> {
  const code = await main(['node', 'rotate', '--config', ws.config, ...args], { io: cap.io, cwd: ws.dir, env });
  return { code, out: cap.out.join('\n'), err: cap.err.join('\n'), cap };
}

const key = (name: string) => lab.keys[name]!.privateKey;
const fileOf = (ws: Workspace, name: string) => path.join(ws.approvalsDir, ws.runId, fingerprintFileName(lab.keys[name]!.fingerprint));
const files = (ws: Workspace) => (existsSync(path.join(ws.approvalsDir, ws.runId)) ? readdirSync(path.join(ws.approvalsDir, ws.runId)) : []);

/** The run record and the audit log, byte for byte: approving must change neither. */
function stateSnapshot(ws: Workspace): string {
  const dir = path.join(ws.dir, 'state');
  return readdirSync(dir, { recursive: true }).map(String).sort().filter((f) => !f.endsWith('.lock')).map((f) => {
    const full = path.join(dir, f);
    try {
      return `${f}:${readFileSync(full, 'utf8')}`;
    } catch {
      return f;
    }
  }).join('\n');
}

describe('rotate approve writes an approval file, nothing else', () => {
  it('GIVEN a waiting run WHEN alice approves with --yes THEN she sees the payload in words, one file is written, and the run and audit chain are untouched', async () => {
    const ws = await workspace();
    const before = stateSnapshot(ws);
    const approve = await rotate(ws, ['approve', ws.runId, '--signing-key', key('alice'), '--yes']);
    expect(approve.code).toBe(0);
    expect(approve.out).toContain(`You, alice@example.com, approve DELETING key ${OLD_KEY}`);
    expect(approve.out).toMatch(/irrecoverable no earlier than \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/);
    expect(approve.out).toContain(`Signing key: ${lab.keys.alice!.fingerprint}`);
    expect(approve.out).toMatch(/1 of 2 distinct approvers — signed by alice@example.com; 1 more needed/);
    expect(files(ws)).toEqual([fingerprintFileName(lab.keys.alice!.fingerprint)]);
    expect(JSON.parse(readFileSync(fileOf(ws, 'alice'), 'utf8'))).toMatchObject({ signer: 'alice@example.com' });
    expect(stateSnapshot(ws)).toBe(before);

    const gate = await rotate(ws, ['gate', ws.runId]);
    expect(gate.code).toBe(1);
    expect(gate.err).toMatch(/signed by alice@example.com; 1 more needed/);
  });

  it('GIVEN two approvals (one confirmed interactively) THEN `rotate gate` exits 0 and `rotate approvals --json` shows both counting, with their keys', async () => {
    const ws = await workspace();
    expect((await rotate(ws, ['approve', ws.runId, '--signing-key', key('alice'), '-y'])).code).toBe(0);
    const bob = await rotate(ws, ['approve', ws.runId, '--signing-key', key('bob'), '--as', 'BOB@example.com'], capture({ interactive: true, answers: ['yes'] }));
    expect(bob.code).toBe(0);
    expect(bob.cap.prompts).toEqual(['Sign this approval? Type "yes" to sign: ']);
    expect((await rotate(ws, ['gate', ws.runId])).code).toBe(0);
    const listed = (JSON.parse((await rotate(ws, ['--json', 'approvals', ws.runId])).out) as { gate: { satisfied: boolean; approvals: Array<{ signer: string; counts: boolean; fingerprint: string }> } }).gate;
    expect(listed.satisfied).toBe(true);
    expect(listed.approvals.map((a) => [a.signer, a.counts, a.fingerprint]).sort()).toEqual([
      ['alice@example.com', true, lab.keys.alice!.fingerprint],
      ['bob@example.com', true, lab.keys.bob!.fingerprint],
    ]);
  });

  it('GIVEN no terminal and no --yes THEN it prints the payload, refuses, says to pass --yes, and writes nothing', async () => {
    const ws = await workspace();
    const result = await rotate(ws, ['approve', ws.runId, '--signing-key', key('alice')]);
    expect(result.code).toBe(2);
    expect(result.out).toContain('"approver":"alice@example.com"');
    expect(result.err).toMatch(/--yes/);
    expect(files(ws)).toEqual([]);
  });

  it('GIVEN the approver answers anything but "yes" THEN nothing is signed or written', async () => {
    const ws = await workspace();
    const result = await rotate(ws, ['approve', ws.runId, '--signing-key', key('alice')], capture({ interactive: true, answers: ['y'] }));
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/not signed/);
    expect(files(ws)).toEqual([]);
  });
});

describe('rotate approve fails before the prompt, naming the real problem', () => {
  it.each([
    ['the signing key file does not exist', () => [path.join(lab.dir, 'nope')], /the signing key .*nope does not exist/],
    ['the initiator approves their own run', () => [key('operator')], /run \S+'s initiator is recorded as you, so you cannot approve it, under any name/],
    ['the key is listed for someone else', () => [key('carol'), '--as', 'alice@example.com'], /your key \S+ is listed in .* for carol@example.com, not for alice@example.com/],
    ['the key is not in allowed_signers at all', () => [key('ca'), '--as', 'alice@example.com'], /alice@example.com is listed in .* with key \S+, but you are signing with key/],
    ['the entry restricts the key to another namespace', () => [key('mallory')], /restricts key \S+ to namespaces="git", which does not include keyrotor-approval@v1/],
  ])('GIVEN %s THEN exit 2, no payload shown, no prompt, no file', async (_what, args, message) => {
    const ws = await workspace();
    const cap = capture({ interactive: true, answers: ['yes'] });
    const result = await rotate(ws, ['approve', ws.runId, '--signing-key', ...args()], cap);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(message);
    expect(result.out).not.toContain('approve DELETING');
    expect(cap.prompts).toEqual([]);
    expect(files(ws)).toEqual([]);
  });

  it('GIVEN the config changed since the run started THEN approving is refused with exit 2 naming the field', async () => {
    const ws = await workspace();
    const config = JSON.parse(readFileSync(ws.config, 'utf8')) as { keyrings: Array<{ approvals: { quorum: number } }> };
    config.keyrings[0]!.approvals.quorum = 1;
    writeFileSync(ws.config, JSON.stringify(config));
    const result = await rotate(ws, ['approve', ws.runId, '--signing-key', key('alice'), '--yes']);
    expect(result.code).toBe(2);
    expect(result.err).toContain('approvals.quorum: run recorded 2; the config now says 1');
    expect(files(ws)).toEqual([]);
  });
});

describe('keys held in ssh-agent', () => {
  let agent: { sock: string; pid: number } | undefined;
  beforeAll(() => {
    const out = execFileSync('ssh-agent', ['-s', '-a', path.join(lab.dir, 'agent.sock')]).toString();
    agent = { sock: /SSH_AUTH_SOCK=([^;]+);/.exec(out)![1]!, pid: Number(/SSH_AGENT_PID=(\d+);/.exec(out)![1]) };
  });
  afterAll(() => {
    if (agent) process.kill(agent.pid);
  });

  it('GIVEN only the .pub on disk and the key in the agent WHEN approving with --agent THEN it signs through the agent and the gate counts it', async () => {
    const ws = await workspace();
    const env = { SSH_AUTH_SOCK: agent!.sock };
    const pubOnly = path.join(ws.dir, 'bob-in-agent.pub');
    copyFileSync(lab.keys.bob!.publicFile, pubOnly);
    const missing = await rotate(ws, ['approve', ws.runId, '--signing-key', pubOnly, '--agent', '--yes'], capture(), env);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/the private half of .*bob-in-agent.pub is not reachable: ssh-agent does not hold it/);
    expect(missing.err).toContain(`ssh-add ${path.join(ws.dir, 'bob-in-agent')}`);

    execFileSync('ssh-add', ['-q', key('bob')], { env: { ...process.env, SSH_AUTH_SOCK: agent!.sock }, stdio: 'ignore' });
    const signed = await rotate(ws, ['approve', ws.runId, '--signing-key', pubOnly, '--agent', '--yes'], capture(), env);
    expect(signed.code).toBe(0);
    expect(signed.out).toContain('private key in ssh-agent');
    expect(signed.out).toMatch(/1 of 2 distinct approvers — signed by bob@example.com/);
  });
});

describe('concurrent signers', () => {
  it('GIVEN three approvers signing at the same moment as separate processes THEN each writes its own file and the gate counts all three', async () => {
    const ws = await workspace({ quorum: 3 });
    const bin = path.resolve(__dirname, '../../bin/rotate.js');
    const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', KEYROTOR_APPROVALS_DIR: '' };
    const runs = ['alice', 'bob', 'carol'].map((name) =>
      new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, [bin, '--config', ws.config, 'approve', ws.runId, '--signing-key', key(name), '--yes'], { env, stdio: 'ignore' });
        child.on('exit', resolve);
      }));
    expect(await Promise.all(runs)).toEqual([0, 0, 0]);
    expect(files(ws).sort()).toEqual(['alice', 'bob', 'carol'].map((n) => fingerprintFileName(lab.keys[n]!.fingerprint)).sort());
    const gate = await promisify(execFile)(process.execPath, [bin, '--config', ws.config, 'gate', ws.runId], { env });
    expect(gate.stdout).toMatch(/approval quorum holds for run \S+: 3 of 3/);
  });
});

describe('rotate gate and rotate approvals count the same files', () => {
  it('GIVEN --approvals-dir and $KEYROTOR_APPROVALS_DIR naming the same directory THEN both give the same answer', async () => {
    const ws = await workspace();
    const dir = path.join(ws.dir, 'artifacts');
    expect((await rotate(ws, ['approve', ws.runId, '--signing-key', key('alice'), '--yes', '--out', path.join(dir, 'alice.json')])).code).toBe(0);
    expect((await rotate(ws, ['approve', ws.runId, '--signing-key', key('bob'), '--yes', '--out', path.join(dir, 'bob.json')])).code).toBe(0);
    expect((await rotate(ws, ['gate', ws.runId])).code).toBe(1);
    const byFlag = await rotate(ws, ['--json', 'gate', ws.runId, '--approvals-dir', dir]);
    const byEnv = await rotate(ws, ['--json', 'gate', ws.runId], capture(), { KEYROTOR_APPROVALS_DIR: dir });
    expect(byFlag.code).toBe(0);
    expect(byEnv.code).toBe(0);
    expect(JSON.parse(byEnv.out)).toEqual(JSON.parse(byFlag.out));
  });

  it('GIVEN a malformed file beside valid approvals THEN the gate still opens and `rotate approvals` reports the file', async () => {
    const ws = await workspace();
    await rotate(ws, ['approve', ws.runId, '--signing-key', key('alice'), '--yes']);
    await rotate(ws, ['approve', ws.runId, '--signing-key', key('bob'), '--yes']);
    writeFileSync(path.join(ws.approvalsDir, ws.runId, 'zz-half-written.json'), '{"signer": "x"');
    const gate = await rotate(ws, ['gate', ws.runId]);
    expect(gate.code).toBe(0);
    const listed = await rotate(ws, ['approvals', ws.runId]);
    expect(listed.out).toMatch(/3\s+\(unreadable\)\s+-\s+-\s+-\s+no\s+malformed: not a keyrotor approval file/);
    expect(listed.out).toContain('zz-half-written.json');
  });

  it('GIVEN one key signing under two principals THEN `rotate approvals` shows the merge and why', async () => {
    const ws = await workspace({ signers: [lab.line('alice', ['alice@example.com', 'al@example.com']), lab.line('bob', 'bob@example.com'), lab.line('operator', 'operator@example.com')] });
    await rotate(ws, ['approve', ws.runId, '--signing-key', key('alice'), '--as', 'alice@example.com', '--yes', '--out', path.join(ws.approvalsDir, ws.runId, '1.json')]);
    await rotate(ws, ['approve', ws.runId, '--signing-key', key('alice'), '--as', 'al@example.com', '--yes', '--out', path.join(ws.approvalsDir, ws.runId, '2.json')]);
    const listed = await rotate(ws, ['approvals', ws.runId]);
    expect(listed.out).toMatch(/2\s+al@example.com\s+SHA256:\S+\s+\S+ \S+\s+\S+ \S+\s+merged into #1/);
    expect(listed.out).toContain(`merged (one person, one vote):\n  #2 counted with #1: signed with the same key ${lab.keys.alice!.fingerprint} as approval #1 (as alice@example.com)`);
    expect((await rotate(ws, ['gate', ws.runId])).code).toBe(1);
  });

  it('GIVEN an unknown run, a missing config or a named approvals dir that does not exist THEN the gate exits 2, never 0 or 1', async () => {
    const ws = await workspace();
    const unknown = await rotate(ws, ['gate', 'run-nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/run not found: no run matches "run-nope"/);
    expect(await main(['node', 'rotate', '--config', path.join(ws.dir, 'missing.json'), 'gate', ws.runId], { io: capture().io, cwd: ws.dir, env: {} })).toBe(2);
    const typo = await rotate(ws, ['gate', ws.runId, '--approvals-dir', 'nope']);
    expect(typo.code).toBe(2);
    expect(typo.err).toContain(`the approvals directory ${path.join(ws.dir, 'nope')} (from --approvals-dir) does not exist`);
  });
});
