import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { canonicalJson, digestOf } from '../../pipeline/canonical-json';
import { ApprovalError } from '../../pipeline/errors';
import { createApproval } from '../../pipeline/approvals/approve';
import { assertQuorum, evaluateApprovals, QuorumNotMetError } from '../../pipeline/approvals/gate';
import { buildPayload, serializePayload, type ApprovalPayload } from '../../pipeline/approvals/payload';
import { signPayload } from '../../pipeline/approvals/ssh';
import type { Run, StoredApproval } from '../../pipeline/state/types';
import { CAST, makeKeyLab, makeRun, policyFor, type KeyLab } from './fixtures';

const NOW = new Date('2026-11-23T12:00:00.000Z');
let lab: KeyLab;
let allowed: string;

beforeAll(() => {
  lab = makeKeyLab(CAST);
  allowed = lab.allowedSigners([
    { principal: 'alice@example.com', key: 'alice', options: 'namespaces="keyrotor-approval@v1"' },
    { principal: 'bob@example.com', key: 'bob' },
    { principal: 'carol@example.com', key: 'carol' },
  ]);
});
afterAll(() => lab.cleanup());

/** Signs a payload for `run` as `approver` with `key` — bypassing createApproval's own checks, as an attacker or a stale client would. */
async function signed(run: Run, key: string, approver = lab.keys[key]!.principal, at = NOW, tweak: (p: ApprovalPayload) => ApprovalPayload = (p) => p): Promise<StoredApproval> {
  const payload = tweak(buildPayload({ run, approver, now: at, lifetimeHours: 72 }));
  const text = serializePayload(payload);
  return { signer: approver, payload: text, signature: await signPayload(text, lab.keys[key]!.privateKey), recordedAt: at.toISOString() };
}

function withApprovals(run: Run, approvals: StoredApproval[]): Run {
  return { ...run, approvals };
}

describe('approval gate with real SSH keys (ed25519 and ecdsa)', () => {
  it('GIVEN two distinct allowed signers of different key types WHEN quorum is 2 THEN the gate is satisfied', async () => {
    const run = makeRun();
    const result = await evaluateApprovals(withApprovals(run, [await signed(run, 'alice'), await signed(run, 'bob')]), policyFor(allowed), { now: NOW });
    expect(result.approvals.map((a) => a.counts)).toEqual([true, true]);
    expect(result.signers).toEqual(['alice@example.com', 'bob@example.com']);
    expect(result).toMatchObject({ satisfied: true, missing: 0, quorum: 2, blockers: [] });
    await expect(assertQuorum(withApprovals(run, [await signed(run, 'alice'), await signed(run, 'bob')]), policyFor(allowed), { now: NOW })).resolves.toMatchObject({ satisfied: true });
  });

  it('GIVEN one approval WHEN quorum is 2 THEN it is not met, and assertQuorum names the signer and how many more are needed', async () => {
    const run = withApprovals(makeRun(), [await signed(makeRun(), 'alice')]);
    const result = await evaluateApprovals(run, policyFor(allowed), { now: NOW });
    expect(result).toMatchObject({ satisfied: false, missing: 1, signers: ['alice@example.com'] });
    const error = await assertQuorum(run, policyFor(allowed), { now: NOW }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QuorumNotMetError);
    expect((error as Error).message).toMatch(/1 of 2 valid — signed by alice@example.com; 1 more needed/);
    expect((error as QuorumNotMetError).nextStep).toMatch(/rotate approve run-0001/);
  });

  it('GIVEN no approvals THEN the gate says nobody signed and all M are missing', async () => {
    const result = await evaluateApprovals(makeRun(), policyFor(allowed, 3), { now: NOW });
    expect(result).toMatchObject({ satisfied: false, missing: 3, signers: [] });
  });

  it('GIVEN the initiator signs (ARN session name = their principal) THEN the approval does not count', async () => {
    const run = makeRun(); // initiated by …/carol@example.com
    const result = await evaluateApprovals(withApprovals(run, [await signed(run, 'carol'), await signed(run, 'alice')]), policyFor(allowed), { now: NOW });
    expect(result.approvals[0]).toMatchObject({ counts: false, rejection: 'initiator' });
    expect(result.approvals[0]!.reason).toMatch(/carol@example.com initiated this run/);
    expect(result).toMatchObject({ satisfied: false, missing: 1 });
  });

  it('GIVEN one person signs twice (also in another letter case) THEN they count once', async () => {
    const run = makeRun();
    const first = await signed(run, 'alice');
    const second = await signed(run, 'alice', 'ALICE@example.com', new Date(NOW.getTime() + 60_000));
    const result = await evaluateApprovals(withApprovals(run, [first, second]), policyFor(allowed), { now: new Date(NOW.getTime() + 120_000) });
    expect(result.approvals.map((a) => [a.counts, a.rejection])).toEqual([[true, undefined], [false, 'duplicate']]);
    expect(result).toMatchObject({ signers: ['alice@example.com'], satisfied: false, missing: 1 });
  });

  it('GIVEN an approval past its expiry THEN it does not count', async () => {
    const run = makeRun();
    const old = await signed(run, 'alice', undefined, new Date(NOW.getTime() - 73 * 3_600_000));
    const result = await evaluateApprovals(withApprovals(run, [old, await signed(run, 'bob')]), policyFor(allowed), { now: NOW });
    expect(result.approvals[0]).toMatchObject({ counts: false, rejection: 'expired' });
    expect(result.satisfied).toBe(false);
  });

  it('GIVEN an approval whose lifetime exceeds the key ring policy THEN it does not count', async () => {
    const run = makeRun();
    const long = await signed(run, 'alice', undefined, NOW, (p) => ({ ...p, expiresAt: new Date(NOW.getTime() + 1000 * 3_600_000).toISOString() }));
    const result = await evaluateApprovals(withApprovals(run, [long]), policyFor(allowed), { now: NOW });
    expect(result.approvals[0]).toMatchObject({ counts: false, rejection: 'lifetime-too-long' });
  });

  it('GIVEN the plan changed after signing THEN older approvals are stale', async () => {
    const run = makeRun();
    const approvals = [await signed(run, 'alice'), await signed(run, 'bob')];
    const plan = { ...run.plan, deletionWindowDays: 7 };
    const changed: Run = { ...run, plan, planDigest: digestOf(plan), approvals };
    const result = await evaluateApprovals(changed, policyFor(allowed), { now: NOW });
    expect(result.approvals.map((a) => a.rejection)).toEqual(['stale-plan', 'stale-plan']);
    expect(result).toMatchObject({ satisfied: false, signers: [] });
  });

  it('GIVEN the evidence changed after signing THEN older approvals are stale', async () => {
    const run = makeRun();
    const approvals = [await signed(run, 'alice'), await signed(run, 'bob')];
    const evidence = { ...run.evidence, oldKeyLastUsage: { KeyLastUsage: { Operation: 'Decrypt', Timestamp: '2026-11-23T11:59:00.000Z' } } };
    const result = await evaluateApprovals({ ...run, evidence, evidenceDigest: digestOf(evidence), approvals }, policyFor(allowed), { now: NOW });
    expect(result.approvals.map((a) => a.rejection)).toEqual(['stale-evidence', 'stale-evidence']);
  });

  it('GIVEN a signer removed from allowed_signers after signing THEN their approval no longer counts', async () => {
    const run = makeRun();
    const approvals = [await signed(run, 'alice'), await signed(run, 'bob')];
    const withoutBob = lab.allowedSigners([{ principal: 'alice@example.com', key: 'alice' }, { principal: 'carol@example.com', key: 'carol' }], 'revoked_signers');
    const result = await evaluateApprovals(withApprovals(run, approvals), policyFor(withoutBob), { now: NOW });
    expect(result.approvals[1]).toMatchObject({ counts: false, rejection: 'not-allowed' });
    expect(result.approvals[1]!.reason).toMatch(/bob@example.com is not in .*revoked_signers/);
    expect(result.satisfied).toBe(false);
  });

  it('GIVEN a signer whose key was replaced in allowed_signers THEN approvals made with the old key no longer count', async () => {
    const run = makeRun();
    const approvals = [await signed(run, 'bob')];
    const rotated = lab.allowedSigners([{ principal: 'bob@example.com', key: 'carol' }], 'rotated_signers');
    const result = await evaluateApprovals(withApprovals(run, approvals), policyFor(rotated), { now: NOW });
    expect(result.approvals[0]).toMatchObject({ counts: false, rejection: 'unlisted-key' });
  });

  it('GIVEN a signature by a key not in the file claiming an allowed principal (forgery) THEN it is rejected naming the key', async () => {
    const run = makeRun();
    const forged = await signed(run, 'mallory', 'alice@example.com');
    const result = await evaluateApprovals(withApprovals(run, [forged, await signed(run, 'bob')]), policyFor(allowed), { now: NOW });
    expect(result.approvals[0]).toMatchObject({ counts: false, rejection: 'unlisted-key', signer: 'alice@example.com' });
    expect(result.approvals[0]!.reason).toMatch(/signing key SHA256:\S+ is not listed for alice@example.com/);
    expect(result.satisfied).toBe(false);
  });

  it('GIVEN an allowed key signing as another allowed principal THEN it is rejected saying whose key it is', async () => {
    const run = makeRun();
    const result = await evaluateApprovals(withApprovals(run, [await signed(run, 'bob', 'alice@example.com')]), policyFor(allowed), { now: NOW });
    expect(result.approvals[0]).toMatchObject({ counts: false, rejection: 'unlisted-key' });
    expect(result.approvals[0]!.reason).toMatch(/belongs to bob@example.com .*not to alice@example.com/);
  });

  it('GIVEN a signature made in another namespace (e.g. a git commit signature) THEN it is rejected as wrong namespace', async () => {
    const run = makeRun();
    const text = serializePayload(buildPayload({ run, approver: 'bob@example.com', now: NOW, lifetimeHours: 72 }));
    const signature = execFileSync('ssh-keygen', ['-Y', 'sign', '-f', lab.keys.bob!.privateKey, '-n', 'git'], { input: text, stdio: ['pipe', 'pipe', 'ignore'] }).toString();
    const result = await evaluateApprovals(withApprovals(run, [{ signer: 'bob@example.com', payload: text, signature, recordedAt: NOW.toISOString() }]), policyFor(allowed), { now: NOW });
    expect(result.approvals[0]).toMatchObject({ counts: false, rejection: 'wrong-namespace' });
    expect(result.approvals[0]!.reason).toMatch(/namespace/);
  });

  it('GIVEN a payload modified after signing (lifetime extended) THEN the signature no longer matches', async () => {
    const run = makeRun();
    const good = await signed(run, 'alice');
    const payload = JSON.parse(good.payload) as ApprovalPayload;
    const tampered = { ...good, payload: canonicalJson({ ...payload, expiresAt: new Date(NOW.getTime() + 70 * 3_600_000 + 1).toISOString() }) };
    const result = await evaluateApprovals(withApprovals(run, [tampered]), policyFor(allowed), { now: NOW });
    expect(result.approvals[0]).toMatchObject({ counts: false, rejection: 'bad-signature' });
    expect(result.approvals[0]!.reason).toMatch(/payload was modified/);
  });

  it('GIVEN an approval signed for another run THEN it does not count here', async () => {
    const other = { ...makeRun(), id: 'run-0002' };
    const result = await evaluateApprovals(withApprovals(makeRun(), [await signed(other, 'alice')]), policyFor(allowed), { now: NOW });
    expect(result.approvals[0]).toMatchObject({ counts: false, rejection: 'other-run' });
  });

  it('GIVEN garbage or a signer field that disagrees with the signed payload THEN the approval is malformed', async () => {
    const run = makeRun();
    const good = await signed(run, 'alice');
    const result = await evaluateApprovals(
      withApprovals(run, [{ ...good, payload: '{"hello":1}' }, { ...good, signer: 'bob@example.com' }, { ...good, payload: `${good.payload} ` }]),
      policyFor(allowed),
      { now: NOW },
    );
    expect(result.approvals.map((a) => a.rejection)).toEqual(['malformed', 'malformed', 'malformed']);
    expect(result.approvals[1]!.reason).toMatch(/stored signer bob@example.com differs from the signed approver alice@example.com/);
  });

  it('GIVEN extra approvals from outside the run THEN they are judged the same way and can complete the quorum', async () => {
    const run = makeRun();
    const result = await evaluateApprovals(withApprovals(run, [await signed(run, 'alice')]), policyFor(allowed), { now: NOW, extraApprovals: [await signed(run, 'bob'), await signed(run, 'alice')] });
    expect(result.approvals.map((a) => [a.source, a.counts])).toEqual([['run', true], ['extra', true], ['extra', false]]);
    expect(result.satisfied).toBe(true);
  });

  it('GIVEN a run whose recorded digests do not match its plan or evidence THEN the gate is blocked whatever was signed', async () => {
    const run = makeRun();
    const approvals = [await signed(run, 'alice'), await signed(run, 'bob')];
    const edited: Run = { ...run, plan: { ...run.plan, deletionWindowDays: 7 }, evidence: { checks: [] }, approvals };
    const result = await evaluateApprovals(edited, policyFor(allowed), { now: NOW });
    expect(result.satisfied).toBe(false);
    expect(result.blockers.join('\n')).toMatch(/plan no longer matches[\s\S]*evidence no longer matches/);
  });

  it('GIVEN a run without evidence THEN the gate is blocked and says to advance through integration-checks', async () => {
    const run: Run = { ...makeRun(), evidence: undefined, evidenceDigest: undefined };
    const result = await evaluateApprovals(run, policyFor(allowed), { now: NOW });
    expect(result.blockers).toEqual([expect.stringMatching(/no check evidence yet .*integration-checks/)]);
  });

  it('GIVEN a missing allowed_signers file THEN the gate fails with an ApprovalError naming the file and the config field', async () => {
    await expect(evaluateApprovals(makeRun(), policyFor('/nonexistent/allowed_signers'), { now: NOW })).rejects.toMatchObject({
      message: expect.stringMatching(/\/nonexistent\/allowed_signers/),
      nextStep: expect.stringMatching(/allowedSignersFile/),
    });
  });

  describe('without ssh-keygen', () => {
    let emptyDir: string;
    beforeAll(() => {
      emptyDir = mkdtempSync(path.join(tmpdir(), 'keyrotor-empty-path-'));
    });
    afterAll(() => rmSync(emptyDir, { recursive: true, force: true }));

    it('GIVEN PATH without ssh-keygen WHEN the gate verifies THEN it fails saying to install openssh-client', async () => {
      const run = makeRun();
      const error = await evaluateApprovals(withApprovals(run, [await signed(run, 'alice')]), policyFor(allowed), { now: NOW, ssh: { env: { PATH: emptyDir } } }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApprovalError);
      expect((error as Error).message).toMatch(/cannot run ssh-keygen: not found/);
      expect((error as ApprovalError).nextStep).toMatch(/install openssh-client/);
    });

    it('GIVEN a configured ssh-keygen path that does not exist WHEN approving THEN it fails the same clear way', async () => {
      const error = await createApproval({ run: makeRun(), policy: policyFor(allowed), signingKeyPath: lab.keys.alice!.privateKey, approver: 'alice@example.com', now: NOW, ssh: { binary: path.join(emptyDir, 'ssh-keygen') } }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApprovalError);
      expect((error as ApprovalError).nextStep).toMatch(/openssh-client/);
    });
  });
});
