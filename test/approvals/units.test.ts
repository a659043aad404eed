import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { hasPatternPrincipals, parseAllowedSigners, principalAsListed } from '../../pipeline/approvals/allowed-signers';
import { initiatorIdentities, isInitiator } from '../../pipeline/approvals/identity';
import { buildPayload, describePayload, parsePayload, serializePayload } from '../../pipeline/approvals/payload';
import { summarizeEvidence } from '../../pipeline/approvals/evidence';
import { loadApprovalsFromDir, readApprovalFile, writeApprovalFile } from '../../pipeline/approvals/files';
import { ApprovalError } from '../../pipeline/errors';
import { APPROVAL_NAMESPACE } from '../../pipeline/approvals/ssh';
import { makeRun, NEW_KEY, OLD_KEY } from './fixtures';

const NOW = new Date('2026-11-23T12:00:00.000Z');

describe('allowed_signers parsing', () => {
  it('reads principals, options with quoted spaces, key and comment; skips comments and blank lines', () => {
    const text = [
      '# approvers',
      '',
      'alice@example.com,ALICE@corp.example namespaces="keyrotor-approval@v1,git" ssh-ed25519 AAAAC3Nza alice laptop',
      'bob@example.com ecdsa-sha2-nistp256 AAAAE2Vj',
      '"*@ops.example" cert-authority sk-ssh-ed25519@openssh.com AAAAGnNr',
    ].join('\n');
    const signers = parseAllowedSigners(text, 'allowed_signers');
    expect(signers).toEqual([
      { principals: ['alice@example.com', 'ALICE@corp.example'], options: 'namespaces="keyrotor-approval@v1,git"', keyType: 'ssh-ed25519', publicKey: 'AAAAC3Nza', comment: 'alice laptop', line: 3 },
      { principals: ['bob@example.com'], options: undefined, keyType: 'ecdsa-sha2-nistp256', publicKey: 'AAAAE2Vj', comment: undefined, line: 4 },
      { principals: ['*@ops.example'], options: 'cert-authority', keyType: 'sk-ssh-ed25519@openssh.com', publicKey: 'AAAAGnNr', comment: undefined, line: 5 },
    ]);
    expect(principalAsListed(signers, 'Alice@Example.com')).toBe('alice@example.com');
    expect(principalAsListed(signers, 'carol@example.com')).toBeUndefined();
    expect(hasPatternPrincipals(signers)).toBe(true);
    expect(hasPatternPrincipals(signers.slice(0, 2))).toBe(false);
  });

  it('rejects a line without a key, naming file and line and saying how to fix it', () => {
    expect(() => parseAllowedSigners('alice@example.com\n', 'approvers/allowed_signers')).toThrow(ApprovalError);
    expect(() => parseAllowedSigners('ok@x ssh-ed25519 AAAA\nalice@example.com ssh-ed25519\n', 'approvers/allowed_signers')).toThrow(/approvers\/allowed_signers:2: not an allowed_signers entry/);
  });

  it('the committed approvers/allowed_signers parses here and ssh-keygen accepts every line of it', () => {
    const file = path.join(__dirname, '../../approvers/allowed_signers');
    const signers = parseAllowedSigners(readFileSync(file, 'utf8'), file);
    expect(signers.length).toBeGreaterThanOrEqual(2);
    expect(signers.every((s) => s.principals[0]!.startsWith('example-approver-') && s.options === `namespaces="${APPROVAL_NAMESPACE}"`)).toBe(true);
    // find-principals over a foreign signature parses the whole file and answers "no match" (exit 1), not a parse error.
    const dir = mkdtempSync(path.join(tmpdir(), 'keyrotor-committed-'));
    try {
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'k')]);
      const sig = execFileSync('ssh-keygen', ['-Y', 'sign', '-f', path.join(dir, 'k'), '-n', APPROVAL_NAMESPACE], { input: 'x', stdio: ['pipe', 'pipe', 'ignore'] });
      writeFileSync(path.join(dir, 'x.sig'), sig);
      let stderr = '';
      try {
        execFileSync('ssh-keygen', ['-Y', 'find-principals', '-f', file, '-s', path.join(dir, 'x.sig')], { stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (error) {
        stderr = String((error as { stderr: Buffer }).stderr);
      }
      expect(stderr).toMatch(/No principal matched/);
      expect(stderr).not.toMatch(/allowed_signers:\d+/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('who counts as the initiator', () => {
  it('an assumed-role ARN yields its session name; an IAM user ARN its user name', () => {
    expect(initiatorIdentities('arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_Admin_0123/Carol@Example.com')).toEqual([
      'arn:aws:sts::111111111111:assumed-role/awsreservedsso_admin_0123/carol@example.com',
      'carol@example.com',
    ]);
    expect(initiatorIdentities('arn:aws:iam::111111111111:user/dave')).toContain('dave');
  });
  it('matches case-insensitively, on the full identity or, for a bare user name, on the e-mail local part', () => {
    expect(isInitiator('CAROL@example.com', 'arn:aws:sts::1:assumed-role/R/carol@example.com')).toBe(true);
    expect(isInitiator('carol@example.com', 'carol@example.com')).toBe(true);
    expect(isInitiator('dave@example.com', 'arn:aws:iam::111111111111:user/dave')).toBe(true);
    expect(isInitiator('alice@example.com', 'arn:aws:sts::1:assumed-role/R/carol@example.com')).toBe(false);
    expect(isInitiator('carol@other.example', 'carol@example.com')).toBe(false);
  });
});

describe('approval payload', () => {
  it('binds run, keys, window, digests, approver and validity, with the earliest deletion date = issuedAt + window', () => {
    const run = makeRun();
    const payload = buildPayload({ run, approver: 'alice@example.com', now: NOW, lifetimeHours: 72 });
    expect(payload).toEqual({
      version: 1,
      namespace: APPROVAL_NAMESPACE,
      runId: 'run-0001',
      keyring: 'identity-center',
      oldKeyArn: OLD_KEY,
      newKeyArn: NEW_KEY,
      deletionWindowDays: 30,
      earliestDeletionDate: '2026-12-23T12:00:00.000Z',
      planDigest: run.planDigest,
      evidenceDigest: run.evidenceDigest,
      approver: 'alice@example.com',
      issuedAt: '2026-11-23T12:00:00.000Z',
      expiresAt: '2026-11-26T12:00:00.000Z',
    });
    const text = serializePayload(payload);
    expect(text.startsWith('{"approver":"alice@example.com","deletionWindowDays":30,')).toBe(true);
    expect(parsePayload(text)).toEqual({ ok: true, payload });
  });

  it.each([
    ['completed', { status: 'completed' as const }, /it is completed/],
    ['rolled back', { status: 'rolled-back' as const }, /it is rolled-back/],
    ['no old key', { plan: { oldKeyArn: undefined } }, /retires no customer managed key/],
  ])('refuses a run that is %s', (_label, overrides, message) => {
    expect(() => buildPayload({ run: makeRun(overrides), approver: 'a@x', now: NOW, lifetimeHours: 1 })).toThrow(message);
  });

  it('refuses a run without evidence and says to advance it', () => {
    const run = { ...makeRun(), evidence: undefined, evidenceDigest: undefined };
    expect(() => buildPayload({ run, approver: 'a@x', now: NOW, lifetimeHours: 1 })).toThrow(expect.objectContaining({ nextStep: expect.stringMatching(/rotate advance run-0001/) }));
  });

  it('rejects payloads that are not JSON, have unknown or missing fields, another namespace, or are not canonical', () => {
    const good = serializePayload(buildPayload({ run: makeRun(), approver: 'a@x', now: NOW, lifetimeHours: 1 }));
    const obj = JSON.parse(good) as Record<string, unknown>;
    expect(parsePayload('{').ok).toBe(false);
    expect(parsePayload(JSON.stringify({ ...obj, extra: 1 }))).toMatchObject({ ok: false, reason: expect.stringMatching(/extra/) });
    expect(parsePayload(JSON.stringify({ ...obj, planDigest: undefined }))).toMatchObject({ ok: false, reason: expect.stringMatching(/planDigest/) });
    expect(parsePayload(JSON.stringify({ ...obj, namespace: 'git' }))).toMatchObject({ ok: false, reason: expect.stringMatching(/namespace/) });
    expect(parsePayload(JSON.stringify(obj, null, 1))).toMatchObject({ ok: false, reason: 'payload is not in canonical JSON form' });
  });

  it('describes itself in words with the evidence an approver must weigh', () => {
    const run = makeRun();
    const text = describePayload(buildPayload({ run, approver: 'alice@example.com', now: NOW, lifetimeHours: 72 }), run.evidence);
    expect(text).toContain(`You, alice@example.com, approve DELETING key ${OLD_KEY}`);
    expect(text).toContain('irrecoverable no earlier than 2026-12-23T12:00:00.000Z');
    expect(text).toContain(`The new key is ${NEW_KEY}`);
    expect(text).toContain('check alias round trip: passed — Encrypt/Decrypt through alias/identity-center used the new key');
    expect(text).toContain('the old key was last used: 2026-11-20T08:00:00.000Z for Decrypt (CloudTrail event ev-123)');
    expect(text).toContain('checkedAt: 2026-11-23T09:00:00.000Z');
  });

  it('says so when the replacement is an AWS owned key', () => {
    const run = makeRun({ plan: { kind: 'migrate-to-aws-owned', newKeyArn: undefined } });
    expect(describePayload(buildPayload({ run, approver: 'a@x', now: NOW, lifetimeHours: 1 }))).toContain('The replacement is an AWS owned key');
  });
});

describe('evidence summary', () => {
  it('shows failed checks as FAILED and a never-used key as never', () => {
    const summary = summarizeEvidence({ checks: [{ name: 'c', ok: false, detail: 'exit 1:\n  boom' }], oldKeyLastUsage: { KeyLastUsage: {}, TrackingStartDate: '2026-01-01T00:00:00Z' } });
    expect(summary.checks).toEqual([{ name: 'c', outcome: 'FAILED', detail: 'exit 1: boom' }]);
    expect(summary.oldKeyLastUse).toBe('never since tracking began 2026-01-01T00:00:00Z');
  });
  it('never turns a missing or failed last-use lookup into reassurance', () => {
    expect(summarizeEvidence({ checks: [] }).oldKeyLastUse).toMatch(/not recorded — ask the operator/);
    expect(summarizeEvidence({ oldKeyLastUsage: { unavailable: 'AccessDenied' } }).oldKeyLastUse).toMatch(/unknown: GetKeyLastUsage failed \(AccessDenied\)/);
    expect(summarizeEvidence('junk')).toMatchObject({ checks: [], oldKeyLastUse: expect.stringMatching(/not recorded/) });
  });
});

describe('approval files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'keyrotor-approval-files-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const approvalFor = (runId: string) => ({ signer: 'a@x', payload: JSON.stringify({ runId }), signature: '-----BEGIN SSH SIGNATURE-----', recordedAt: NOW.toISOString() });

  it('round-trips an approval and loads only those signed for the asked run (unreadable payloads kept for the gate to reject)', async () => {
    await writeApprovalFile(path.join(dir, 'a.json'), approvalFor('run-1'));
    await writeApprovalFile(path.join(dir, 'b.json'), approvalFor('run-2'));
    await writeApprovalFile(path.join(dir, 'c.json'), { ...approvalFor('run-1'), payload: 'not json' });
    writeFileSync(path.join(dir, 'notes.txt'), 'ignored');
    expect(await readApprovalFile(path.join(dir, 'a.json'))).toEqual(approvalFor('run-1'));
    expect((await loadApprovalsFromDir(dir, 'run-1')).map((a) => a.payload)).toEqual([JSON.stringify({ runId: 'run-1' }), 'not json']);
  });

  it('names a file that is not an approval and a directory that cannot be read', async () => {
    mkdirSync(path.join(dir, 'sub'));
    writeFileSync(path.join(dir, 'bad.json'), JSON.stringify({ signer: 'a@x' }));
    await expect(loadApprovalsFromDir(dir, 'run-1')).rejects.toThrow(/bad.json is not a keyrotor approval file: payload/);
    await expect(loadApprovalsFromDir(path.join(dir, 'missing'), 'run-1')).rejects.toThrow(/cannot read the approvals directory .*missing/);
  });
});
