import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../scripts/cli/main';
import type { CliIo } from '../../scripts/cli/context';
import { validConfig } from '../fixtures/config/configs';

interface FakeIo extends CliIo {
  readonly stdout: string[];
  readonly stderr: string[];
}

function fakeIo(): FakeIo {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => stdout.push(t), err: (t) => stderr.push(t), interactive: false, readLine: async () => undefined };
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'keyrotor-lint-'));
// A real approver set beside the test configs (3 people: quorum 2 stays reachable without the initiator).
beforeAll(() => {
  fs.mkdirSync(path.join(tmp, 'approvers'), { recursive: true });
  const lines = ['alice', 'bob', 'carol'].map((name) => {
    const key = path.join(tmp, 'approvers', name);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${name}@example.com`, '-f', key]);
    return `${name}@example.com ${fs.readFileSync(`${key}.pub`, 'utf8').trim()}`;
  });
  fs.writeFileSync(path.join(tmp, 'approvers', 'allowed_signers'), `${lines.join('\n')}\n`);
});
function writeConfig(name: string, raw: unknown): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, typeof raw === 'string' ? raw : JSON.stringify(raw, null, 2));
  return file;
}

async function lint(file: string, ...global: string[]) {
  const io = fakeIo();
  const code = await main(['node', 'rotate', '--config', file, ...global, 'lint'], { io, env: {}, cwd: tmp });
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

const oversized = () => {
  const raw = validConfig();
  raw.keyrings[1].keyUsers = Array.from({ length: 600 }, (_, i) => `arn:aws:iam::222222222222:role/service-${i}`);
  return raw;
};

describe('rotate lint', () => {
  it('GIVEN the committed example WHEN linted THEN every policy passes and the one finding is the placeholder approver file', async () => {
    const { code, err } = await lint(path.resolve(__dirname, '../../keyrings.json'));
    expect(code).toBe(1);
    expect(err).toContain('1 lint finding:');
    expect(err).toMatch(/approvers \S+approvers\/allowed_signers \(key rings identity-center, org-audit-logs, payments-data, payments-backups\) breaks no-approvers: lists no approver keys/);
    expect(err).toContain('next: fix the approver set through a pull request');
    const json = JSON.parse((await lint(path.resolve(__dirname, '../../keyrings.json'), '--json')).out) as { findings: unknown[]; approverFindings: Array<{ rule: string }> };
    expect(json.findings).toEqual([]);
    expect(json.approverFindings.map((f) => f.rule)).toEqual(['no-approvers']);
  });

  it('GIVEN a config whose approvers and policies are fine WHEN linted THEN it exits 0 and says so', async () => {
    const { code, out, err } = await lint(writeConfig('clean.json', validConfig()));
    expect(code).toBe(0);
    expect(out).toMatch(/2 key rings, every key policy passes the lint, every approver set can reach its quorum/);
    expect(err).toBe('');
  });

  it('GIVEN a key ring whose policy breaks a rule THEN it exits 1 and prints each finding with key ring, Sid and rule', async () => {
    const { code, err } = await lint(writeConfig('oversized.json', oversized()));
    expect(code).toBe(1);
    expect(err).toContain('1 lint finding');
    expect(err).toContain('key ring payments: statement "(whole policy)" breaks policy-too-large');
    expect(err).toContain('next: fix the key rings named above');
  });

  it('GIVEN an invalid config THEN it exits 2 and prints every issue', async () => {
    const raw = validConfig();
    raw.keyrings[1].rotation = { deletionWindowDays: 3 };
    raw.keyrings[0].alias = 'alias/aws/identity-center';
    const { code, err } = await lint(writeConfig('invalid.json', raw));
    expect(code).toBe(2);
    expect(err).toContain('(2 problems)');
    expect(err).toContain('keyrings[0].alias: "alias/aws/identity-center" uses the prefix alias/aws/');
    expect(err).toContain('keyrings[1].rotation.deletionWindowDays: 3 is below the minimum of 7');
    expect(err).toContain('next: fix');
  });

  it('GIVEN malformed JSON THEN it exits 2 with line and column', async () => {
    const { code, err } = await lint(writeConfig('broken.json', '{\n  "keyrings": [,]\n}'));
    expect(code).toBe(2);
    expect(err).toContain('malformed JSON at line 2, column 16');
  });

  it('GIVEN a missing config file THEN it exits 2 and says how to point at one', async () => {
    const { code, err } = await lint(path.join(tmp, 'nope.json'));
    expect(code).toBe(2);
    expect(err).toContain('file not found');
    expect(err).toContain('--config');
  });

  it('GIVEN --json THEN stdout is one JSON document with findings or config errors', async () => {
    const clean = await lint(writeConfig('clean-json.json', validConfig()), '--json');
    expect(clean.code).toBe(0);
    expect(JSON.parse(clean.out)).toMatchObject({ ok: true, findings: [], approverFindings: [], configErrors: [] });

    const findings = await lint(writeConfig('oversized-json.json', oversized()), '--json');
    expect(findings.code).toBe(1);
    expect(JSON.parse(findings.out)).toMatchObject({ ok: false, findings: [{ keyring: 'payments', rule: 'policy-too-large', sid: '(whole policy)' }] });

    const raw = validConfig();
    raw.keyrings[0].account = '1';
    const invalid = await lint(writeConfig('invalid-json.json', raw), '--json');
    expect(invalid.code).toBe(2);
    expect(JSON.parse(invalid.out)).toMatchObject({ ok: false, configErrors: ['keyrings[0].account: "1" is not a 12-digit AWS account id'] });
  });

  it('GIVEN a relative --config THEN it resolves against the working directory', async () => {
    writeConfig('keyrings.json', validConfig());
    const io = fakeIo();
    expect(await main(['node', 'rotate', '--config', 'keyrings.json', 'lint'], { io, env: {}, cwd: tmp })).toBe(0);
    expect(io.stdout.join('\n')).toContain(path.join(tmp, 'keyrings.json'));
  });
});
