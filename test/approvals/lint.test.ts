/**
 * `rotate lint` checks the approver set through the real CLI: the allowed_signers file exists and
 * parses, every key is one ssh-keygen can use and strong enough, no key is an example, and each
 * quorum is reachable by distinct people (by key) once the initiator is left out.
 */
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { main } from '../../scripts/cli/main';
import type { CliIo } from '../../scripts/cli/context';
import { makeLab, type Lab } from './fixtures';

let lab: Lab;
let weakRsa: string;
beforeAll(() => {
  lab = makeLab();
  const file = path.join(lab.dir, 'weak');
  execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '1024', '-N', '', '-f', file]);
  weakRsa = execFileSync('cat', [`${file}.pub`]).toString().trim().split(' ').slice(0, 2).join(' ');
});
afterAll(() => lab.cleanup());

let caseNo = 0;
interface LintResult {
  code: number;
  err: string;
  findings: Array<{ rule: string; line?: number; message: string; keyrings: string[] }>;
}

/** Lints a one-key-ring config (quorum `quorum`) whose allowed_signers holds `signers` (undefined: no file). */
async function lint(signers: string | undefined, options: { quorum?: number; people?: unknown[] } = {}): Promise<LintResult> {
  const dir = path.join(lab.dir, `lint-${++caseNo}`);
  mkdirSync(path.join(dir, 'approvers'), { recursive: true });
  if (signers !== undefined) writeFileSync(path.join(dir, 'approvers', 'allowed_signers'), signers);
  const config = path.join(dir, 'keyrings.json');
  writeFileSync(config, JSON.stringify({
    version: 1,
    backend: { type: 'local' },
    keyrings: [{ name: 'ring', alias: 'alias/ring', account: '111111111111', region: 'us-east-1', keyAdministrators: ['arn:aws:iam::111111111111:role/Admin'], approvals: { quorum: options.quorum ?? 2 } }],
    ...(options.people ? { people: options.people } : {}),
  }));
  const run = async (json: boolean) => {
    let out = '';
    let err = '';
    const io: CliIo = { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`), interactive: false, readLine: async () => undefined };
    const code = await main(['node', 'rotate', '--config', config, ...(json ? ['--json'] : []), 'lint'], { io, env: {}, cwd: dir });
    return { code, out, err };
  };
  const text = await run(false);
  const json = JSON.parse((await run(true)).out) as { approverFindings: LintResult['findings'] };
  return { code: text.code, err: text.err, findings: json.approverFindings };
}

const line = (key: string, principal: string, options?: string) => lab.line(key, principal, options);

describe('rotate lint: the approver set', () => {
  it('GIVEN three people with usable keys and quorum 2 THEN it passes', async () => {
    const result = await lint(`${line('alice', 'alice@example.com')}\n${line('bob', 'bob@example.com')}\n${line('carol', 'carol@example.com')}\n`);
    expect(result.findings).toEqual([]);
    expect(result.code).toBe(0);
  });

  it('GIVEN no allowed_signers file THEN it fails naming the file (not a silent pass)', async () => {
    const result = await lint(undefined);
    expect(result.code).toBe(1);
    expect(result.findings).toEqual([expect.objectContaining({ rule: 'signers-missing', message: expect.stringContaining('it does not exist') })]);
    expect(result.err).toContain('next: fix the approver set');
  });

  it('GIVEN garbage in the file THEN it fails naming the line', async () => {
    const result = await lint('this is not an allowed signers file\n');
    expect(result.findings).toEqual([expect.objectContaining({ rule: 'signers-unparseable', line: 1, message: expect.stringContaining(':1: not an allowed_signers entry') })]);
  });

  it('GIVEN only example keys (marked, or the ones keyrotor once shipped) THEN it fails: nobody could approve', async () => {
    const shipped = 'example-approver-1@example.invalid namespaces="keyrotor-approval@v1" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICF8ouwqGtzfOIQISrRMAAydXS4Is2iDaRqHulPJrMsx EXAMPLE approver 1';
    const result = await lint(`${shipped}\n${line('alice', 'alice@example.com')} keyrotor:example\n`);
    expect(result.findings.map((f) => [f.rule, f.line])).toEqual([['example-key', 1], ['example-key', 2], ['no-approvers', undefined]]);
    expect(result.findings[2]!.message).toContain('all example or unusable');
  });

  it('GIVEN the placeholder with no entries THEN it fails with no-approvers', async () => {
    expect((await lint('# nobody yet\n')).findings.map((f) => f.rule)).toEqual(['no-approvers']);
  });

  it('GIVEN a damaged key, a weak RSA key and an unknown option THEN each is named by line; the rest still count', async () => {
    const damaged = `dave@example.com ssh-ed25519 ${Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 5, 1, 2, 3, 4, 5])]).toString('base64')}`;
    const result = await lint([line('alice', 'alice@example.com'), damaged, `eve@example.com ${weakRsa}`, line('bob', 'bob@example.com', 'no-such-option'), line('carol', 'carol@example.com'), line('operator', 'op@example.com')].join('\n'));
    expect(result.findings.map((f) => [f.rule, f.line])).toEqual([['key-unusable', 2], ['key-weak', 3], ['unknown-option', 4]]);
    expect(result.findings[0]!.message).toContain('ssh-keygen cannot use the ssh-ed25519 key of dave@example.com');
    expect(result.findings[1]!.message).toContain('has 1024 bits; use at least 2048');
  });

  it('GIVEN an unquoted valid-before, valid-after or namespaces THEN lint fails naming the file, the line and the option and saying to quote it; that line counts for nobody, as ssh-keygen rejects it', async () => {
    const result = await lint([line('alice', 'alice@example.com'), line('bob', 'bob@example.com', 'valid-before=20270101'), line('carol', 'carol@example.com', 'namespaces="keyrotor-approval@v1",valid-after=20200101Z')].join('\n'));
    expect(result.code).toBe(1);
    expect(result.findings.map((f) => [f.rule, f.line])).toEqual([['option-unquoted', 2], ['option-unquoted', 3], ['quorum-unreachable', undefined]]);
    expect(result.findings[0]!.message).toContain('valid-before=20270101 lacks the double quotes ssh-keygen requires around option values, so ssh-keygen rejects the whole line ("bad options: missing start quote")');
    expect(result.findings[0]!.message).toContain('quote the value (valid-before="20270101")');
    expect(result.findings[1]!.message).toContain('quote the value (valid-after="20200101Z")');
    expect(result.err).toMatch(/approvers \S*approvers\/allowed_signers:2 \(key ring ring\) breaks option-unquoted: valid-before=20270101 lacks the double quotes/);
    expect(result.findings[2]!.message).toContain('the file lists 1 distinct person by key (alice@example.com)');
  });

  it('GIVEN one key under two principals THEN it is one person, and the quorum is judged by keys', async () => {
    const result = await lint(`${line('alice', 'alice@example.com')}\n${line('alice', 'al@example.com')}\n${line('bob', 'bob@example.com')}\n`);
    expect(result.findings).toEqual([expect.objectContaining({ rule: 'quorum-unreachable', keyrings: ['ring'], message: expect.stringContaining('quorum 2 is unreachable once the initiator (who signs the start with a listed key) is left out: the file lists 2 distinct people by key') })]);
  });

  it('GIVEN fewer people than the quorum THEN it says how many are listed', async () => {
    const result = await lint(`${line('alice', 'alice@example.com')}\n`, { quorum: 3 });
    expect(result.findings[0]).toMatchObject({ rule: 'quorum-unreachable', message: expect.stringContaining('quorum 3 needs 3 distinct approvers; the file lists 1 distinct person by key (alice@example.com)') });
  });

  it('GIVEN an operator mapped in people who is not an approver THEN two approvers reach quorum 2; an operator who is one of them does not', async () => {
    const signers = `${line('alice', 'alice@example.com')}\n${line('bob', 'bob@example.com')}\n`;
    const operator = { name: 'ops', signers: [], aws: ['arn:aws:iam::111111111111:user/ops'] };
    expect((await lint(signers, { people: [operator] })).findings).toEqual([]);
    const approverOperator = { name: 'alice', signers: ['alice@example.com'], aws: ['arn:aws:iam::111111111111:user/alice'] };
    expect((await lint(signers, { people: [approverOperator] })).findings).toEqual([
      expect.objectContaining({ rule: 'quorum-unreachable', message: expect.stringContaining('quorum 2 is unreachable when alice starts the run: 1 other distinct approver') }),
    ]);
  });

  it('GIVEN a trusted CA and a security key (sk-ssh-ed25519) THEN both are usable and the CA makes the quorum reachable', async () => {
    const len = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
    const sk = Buffer.concat([len(Buffer.from('sk-ssh-ed25519@openssh.com')), len(crypto.randomBytes(32)), len(Buffer.from('ssh:'))]).toString('base64');
    const result = await lint(`${line('ca', '*@example.com', 'cert-authority')}\ndave@example.com sk-ssh-ed25519@openssh.com ${sk}\n`, { quorum: 3 });
    expect(result.findings).toEqual([]);
  });
});
