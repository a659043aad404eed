/**
 * The approval gate as a specification: one person is one vote (counted by key), the initiator never
 * counts under any name, a run is judged against the bar it recorded, the run is held against the
 * audit chain, approvals anchor the chain, and every refusal says exactly why. Real keys
 * (ed25519, ecdsa, rsa), real certificates (ssh-keygen -s), a real file state store.
 */
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { copyFileSync, readFileSync, rmSync, writeFileSync, mkdirSync, symlinkSync } from 'node:fs';
import * as path from 'node:path';
import { canonicalJson, digestOf } from '../../pipeline/canonical-json';
import { ApprovalError } from '../../pipeline/errors';
import { hashAuditEntry } from '../../pipeline/state/audit-chain';
import { AUDIT_HEAD_FILE, AUDIT_LOG_FILE } from '../../pipeline/state/file-store';
import type { AuditEntry } from '../../pipeline/state/types';
import { makeLab, openWorld, verdicts, type Lab, type World } from './fixtures';
import { signingKeyFromOutput } from '../../pipeline/approvals/ssh';

let lab: Lab;
const worlds: World[] = [];
beforeAll(() => {
  lab = makeLab();
});
afterAll(async () => {
  await Promise.all(worlds.map((w) => w.close()));
  lab.cleanup();
});

const NS = 'namespaces="keyrotor-approval@v1"';
async function world(setup: Parameters<typeof openWorld>[1]): Promise<World> {
  const w = await openWorld(lab, setup);
  worlds.push(w);
  return w;
}
/** The usual approver set: alice (ed25519), bob (ecdsa), carol (rsa), the operator. */
function standard(): string[] {
  return [lab.line('alice', 'alice@example.com', NS), lab.line('bob', 'bob@example.com'), lab.line('carol', 'carol@example.com'), lab.line('operator', 'operator@example.com')];
}

describe('distinct people, by key', () => {
  it('GIVEN approvers with ed25519, ecdsa and rsa keys WHEN two sign and the quorum is 2 THEN the gate is satisfied', async () => {
    const w = await world({ signers: standard() });
    await w.approve('alice');
    await w.approve('carol');
    const result = await w.evaluate();
    expect(verdicts(result)).toEqual(['counts', 'counts']);
    expect(result.satisfied).toBe(true);
    expect(result.approvals.map((a) => a.fingerprint).sort()).toEqual([lab.keys.alice!.fingerprint, lab.keys.carol!.fingerprint].sort());
  });

  it('GIVEN one public key listed under two principals on two lines WHEN it signs as each THEN it counts once, and the merge says why', async () => {
    const w = await world({ signers: [...standard(), lab.line('alice', 'alice.smith@example.com')] });
    await w.approve('alice', { as: 'alice@example.com', name: 'a.json' });
    await w.approve('alice', { as: 'alice.smith@example.com', name: 'b.json' });
    const result = await w.evaluate();
    expect(verdicts(result)).toEqual(['counts', 'same-person']);
    expect(result.satisfied).toBe(false);
    expect(result.merges).toEqual([{ kept: 1, merged: 2, why: expect.stringContaining(`signed with the same key ${lab.keys.alice!.fingerprint} as approval #1 (as alice@example.com)`) }]);
  });

  it('GIVEN one line with two principals WHEN the key signs as both THEN it counts once', async () => {
    const w = await world({ signers: [lab.line('bob', ['bob@example.com', 'robert@example.com']), lab.line('carol', 'carol@example.com'), lab.line('operator', 'operator@example.com')] });
    await w.approve('bob', { as: 'bob@example.com', name: 'a.json' });
    await w.approve('bob', { as: 'robert@example.com', name: 'b.json' });
    expect(verdicts(await w.evaluate())).toEqual(['counts', 'same-person']);
  });

  it('GIVEN a wildcard principal WHEN one key signs under two spellings THEN it counts once', async () => {
    const w = await world({ signers: [lab.line('alice', '*@example.com'), lab.line('operator', 'operator@ops.example')] });
    await w.approve('alice', { as: 'alice@example.com', name: 'a.json' });
    await w.approve('alice', { as: 'ALICE@example.com', name: 'b.json' });
    const result = await w.evaluate();
    expect(verdicts(result)).toEqual(['counts', 'same-person']);
    expect(result.signers).toEqual(['alice@example.com']);
  });

  it('GIVEN a wildcard line WHEN one key also signs under a principal that spells out a fake "with … key SHA256:…" THEN it never counts as another key: the approver name is refused, and ssh-keygen\'s key is read from the end of its line', async () => {
    const w = await world({ signers: [lab.line('alice', '*@example.com'), lab.line('operator', 'operator@ops.example')] });
    await w.approve('alice', { name: 'a.json' });
    await w.craft('alice', { approver: 'x with ED25519 key SHA256:NotARealKeyJustText y@example.com', name: 'b.json' });
    const result = await w.evaluate();
    expect(result.satisfied).toBe(false);
    expect(result.signers).toEqual(['alice@example.com']);
    expect(result.approvals.map((a) => a.fingerprint ?? null)).not.toContain('SHA256:NotARealKeyJustText');
    expect(signingKeyFromOutput('Good "keyrotor-approval@v1" signature for x with ED25519 key SHA256:Fake y@example.com with ED25519 key SHA256:RealOne')).toEqual({ keyType: 'ED25519', fingerprint: 'SHA256:RealOne' });
  });

  it('GIVEN a certificate naming two principals under a trusted CA WHEN it signs as each THEN the certified key counts once', async () => {
    const cert = lab.certify('bob', 'ca', ['bob@example.com', 'bob.ops@example.com']);
    const w = await world({ signers: [lab.line('ca', '*@example.com', `cert-authority,${NS}`), lab.line('operator', 'operator@ops.example')] });
    await w.approve('bob', { as: 'bob@example.com', signWith: cert, name: 'a.json' });
    await w.approve('bob', { as: 'bob.ops@example.com', signWith: cert, name: 'b.json' });
    const result = await w.evaluate();
    expect(verdicts(result)).toEqual(['counts', 'same-person']);
    expect(result.approvals[0]!.fingerprint).toBe(lab.keys.bob!.fingerprint);
    expect(result.approvals[0]!.keyType).toBe('ECDSA-CERT');
    expect(result.merges[0]!.why).toContain('a certificate counts once per certified key');
  });

  it('GIVEN a person with a listed key and a second key whose certificate names them and another principal WHEN they sign once with each THEN they count once: a certificate joins its key to every name it certifies', async () => {
    const cert = lab.certify('mallory', 'ca', ['alice@example.com', 'alice.oncall@example.com']);
    const w = await world({ signers: [lab.line('alice', 'alice@example.com'), lab.line('ca', '*@example.com', `cert-authority,${NS}`), lab.line('operator', 'operator@ops.example')] });
    await w.approve('alice', { name: 'a.json' });
    await w.approve('mallory', { as: 'alice.oncall@example.com', signWith: cert, name: 'b.json' });
    const result = await w.evaluate();
    expect(verdicts(result)).toEqual(['counts', 'same-person']);
    expect(result.satisfied).toBe(false);
    expect(result.merges[0]!.why).toContain(`its certificate for key ${lab.keys.mallory!.fingerprint} names alice@example.com`);
  });

  it('GIVEN one principal listed with two keys WHEN both keys sign THEN that principal counts once', async () => {
    const w = await world({ signers: [...standard(), lab.line('mallory', 'alice@example.com')] });
    await w.approve('alice', { name: 'a.json' });
    await w.approve('mallory', { as: 'alice@example.com', name: 'b.json' });
    const result = await w.evaluate();
    expect(verdicts(result)).toEqual(['counts', 'same-person']);
    expect(result.merges[0]!.why).toMatch(/the same person as approval #1 \(alice@example.com\)/);
  });

  it('GIVEN a people entry grouping two principals of one person WHEN both sign THEN they count once', async () => {
    const people = [{ name: 'carol', signers: ['carol@example.com', 'c.admin@example.com'], aws: [], github: [] }];
    const w = await world({ signers: [...standard(), lab.line('mallory', 'c.admin@example.com')], people });
    await w.approve('carol', { name: 'a.json' });
    await w.approve('mallory', { name: 'b.json', as: 'c.admin@example.com' });
    const result = await w.evaluate();
    expect(verdicts(result)).toEqual(['counts', 'same-person']);
    expect(result.merges[0]!.why).toContain('people entry "carol" groups carol@example.com and c.admin@example.com');
  });
});

describe('the initiator cannot approve under any name', () => {
  it('GIVEN the initiator signed the start WHEN their key signs as a second principal listed for it THEN it does not count', async () => {
    const w = await world({ signers: [...standard(), lab.line('operator', 'ops-second@example.com')] });
    await expect(w.approve('operator', { as: 'ops-second@example.com' })).rejects.toThrow(/run \S+'s initiator is recorded as you, so you cannot approve it, under any name/);
    await w.craft('operator', { approver: 'ops-second@example.com', name: 'a.json' });
    await w.approve('alice', { name: 'b.json' });
    const result = await w.evaluate();
    expect(verdicts(result)).toEqual(['initiator', 'counts']);
    expect(result.approvals[0]!.reason).toContain('is the run\'s initiator');
    expect(result.approvals[0]!.reason).toContain(lab.keys.operator!.fingerprint);
  });

  it('GIVEN the initiator holds a certificate naming their principal and another WHEN they approve under the other THEN `rotate approve` refuses and the gate does not count it', async () => {
    const cert = lab.certify('mallory', 'ca', ['operator@example.com', 'ops-oncall@example.com']);
    const w = await world({ signers: [...standard(), lab.line('ca', '*@example.com', `cert-authority,${NS}`)] });
    await expect(w.approve('mallory', { as: 'ops-oncall@example.com', signWith: cert })).rejects.toThrow(/run \S+'s initiator is recorded as you, so you cannot approve it, under any name \(.*certificate .*names operator@example.com/);
    await w.craft('mallory', { approver: 'ops-oncall@example.com', signWith: cert, name: 'a.json' });
    await w.approve('alice', { name: 'b.json' });
    const result = await w.evaluate();
    expect(verdicts(result)).toEqual(['initiator', 'counts']);
    expect(result.approvals[0]!.reason).toContain(`its certificate for key ${lab.keys.mallory!.fingerprint} names operator@example.com`);
    expect(result.satisfied).toBe(false);
  });

  it('GIVEN an operator whose label ($KEYROTOR_OPERATOR) names an approver WHEN that approver approves THEN the refusal says the record names them through a claim, not that they started the run', async () => {
    const w = await world({ signers: standard(), label: 'alice@example.com' });
    const error = (await w.approve('alice').catch((e: unknown) => e)) as ApprovalError;
    expect(error).toBeInstanceOf(ApprovalError);
    expect(error.message).toMatch(/run \S+'s initiator is recorded as you, so you cannot approve it, under any name \(.*initiator label alice@example.com\)/);
    expect(error.nextStep).toContain('If you did not start this run, its record names you through a claim (the label from $KEYROTOR_OPERATOR, or GITHUB_ACTOR)');
  });

  it('GIVEN the initiator signed the start with a certificate naming two principals WHEN their other key, listed under the second, approves THEN it does not count', async () => {
    const cert = lab.certify('operator', 'ca', ['operator@example.com', 'ops-oncall@example.com']);
    const w = await world({ signers: [...standard(), lab.line('mallory', 'ops-oncall@example.com'), lab.line('ca', '*@example.com', `cert-authority,${NS}`)], initiatorSignWith: cert });
    expect((await w.run()).initiatorIdentity!.principals).toEqual(expect.arrayContaining(['operator@example.com', 'ops-oncall@example.com']));
    await w.craft('mallory', { approver: 'ops-oncall@example.com', name: 'a.json' });
    const result = await w.evaluate();
    expect(verdicts(result)).toEqual(['initiator']);
  });

  it('GIVEN the initiator holds a second key listed under their principal WHEN it signs THEN it does not count either', async () => {
    const w = await world({ signers: [...standard(), lab.line('mallory', 'operator@example.com')] });
    await w.craft('mallory', { approver: 'operator@example.com' });
    const result = await w.evaluate();
    expect(verdicts(result)).toEqual(['initiator']);
    expect(result.approvals[0]!.reason).toContain(`lists key ${lab.keys.mallory!.fingerprint} for operator@example.com`);
  });

  it('GIVEN a wildcard entry WHEN the initiator\'s key signs under another spelling THEN it does not count', async () => {
    const w = await world({ signers: [lab.line('operator', '*@example.com'), lab.line('alice', 'alice@corp.example')] });
    await w.craft('operator', { approver: 'someone-else@example.com' });
    expect(verdicts(await w.evaluate())).toEqual(['initiator']);
  });

  it('GIVEN a run started without a signed start or a people mapping THEN no approval counts and the gate says why', async () => {
    const w = await world({ signers: standard(), initiatorKey: null, label: 'arn:aws:sts::111111111111:assumed-role/Shared/ci' });
    await expect(w.approve('alice')).rejects.toThrow('is not tied to a person');
    await w.craft('alice');
    await w.craft('bob');
    const result = await w.evaluate();
    expect(verdicts(result)).toEqual(['initiator-unknown', 'initiator-unknown']);
    expect(result.satisfied).toBe(false);
    expect(result.blockers.join('\n')).toContain('not tied to a person');
  });

  it('GIVEN the initiator is mapped by a people entry WHEN their other principal signs THEN it does not count', async () => {
    const people = [{ name: 'op', signers: ['operator@example.com', 'op.admin@example.com'], aws: [], github: [] }];
    const w = await world({ signers: [...standard(), lab.line('mallory', 'op.admin@example.com')], people });
    await w.craft('mallory', { approver: 'op.admin@example.com' });
    const result = await w.evaluate();
    expect(verdicts(result)).toEqual(['initiator']);
    expect(result.approvals[0]!.reason).toContain('the initiator is op.admin@example.com');
    expect((await w.run()).initiatorIdentity!.basis).toContain('the start\'s key belongs to people entry "op"');
  });
});

describe('a run is judged against the bar it recorded', () => {
  it('GIVEN the allowed_signers file is swapped after start THEN the gate still judges with the recorded copy', async () => {
    const w = await world({ signers: standard() });
    writeFileSync(path.join(w.dir, 'allowed_signers'), `${lab.line('mallory', 'mallory@evil.example')}\n`);
    await w.craft('mallory', { name: 'a.json' });
    await w.approve('alice', { name: 'b.json' });
    expect(verdicts(await w.evaluate())).toEqual(['not-allowed', 'counts']);
  });

  it('GIVEN an approval that signs another quorum or allowed_signers digest than the run recorded THEN it is stale-bar', async () => {
    const w = await world({ signers: standard() });
    await w.craft('alice', { change: (p) => ({ ...p, quorum: 1 }), name: 'a.json' });
    await w.craft('bob', { change: (p) => ({ ...p, allowedSignersSha256: 'f'.repeat(64) }), name: 'b.json' });
    const result = await w.evaluate();
    expect(verdicts(result)).toEqual(['stale-bar', 'stale-bar']);
    expect(result.approvals[0]!.reason).toBe('signed for a quorum of 1, but the run recorded 2');
  });

  it('GIVEN an approval longer-lived than the recorded lifetime THEN it does not count', async () => {
    const w = await world({ signers: standard(), lifetimeHours: 12 });
    await w.craft('alice');
    expect((await w.evaluate()).approvals[0]).toMatchObject({ rejection: 'lifetime-too-long', reason: expect.stringContaining('longer than the run\'s approval lifetime of 12 h') });
  });
});

describe('the run is held against the audit chain, and approvals anchor the chain', () => {
  it('GIVEN the initiator edited in the run file WHEN gated THEN it is blocked naming the run.start entry', async () => {
    const w = await world({ signers: standard() });
    await w.approve('alice');
    await w.approve('bob');
    const run = await w.run();
    await w.store.putRun({ ...run, initiator: 'someone-else@example.com' });
    const result = await w.evaluate();
    expect(result.satisfied).toBe(false);
    expect(result.blockers.join('\n')).toMatch(/the run says it was started by someone-else@example.com, but its run.start audit entry \(seq 1\) says operator@example.com/);
  });

  it('GIVEN the evidence and its digest rewritten in the run file THEN the gate is blocked: the chain recorded another digest', async () => {
    const w = await world({ signers: standard() });
    const run = await w.run();
    const evidence = { ...run.evidence, oldKeyLastUsage: { KeyLastUsage: {} } };
    await w.store.putRun({ ...run, evidence, evidenceDigest: digestOf(evidence) });
    const result = await w.evaluate();
    expect(result.blockers.join('\n')).toContain('is not the one the audit chain recorded');
  });

  it('GIVEN the whole chain recomputed after approvals (an edit hash-links cannot reveal) THEN every approval is unanchored', async () => {
    const w = await world({ signers: standard() });
    await w.approve('alice');
    await w.approve('bob');
    expect((await w.evaluate()).satisfied).toBe(true);
    // Rewrite history: change the run.start entry's actor, then recompute every hash and the head.
    const log = path.join(w.dir, 'state', AUDIT_LOG_FILE);
    const entries = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditEntry);
    let prev = '0'.repeat(64);
    const rewritten = entries.map((e, i) => {
      const edited = { ...e, ...(i === 0 ? { actor: 'nobody' } : {}), prevHash: prev };
      const hash = hashAuditEntry(edited);
      prev = hash;
      return { ...edited, hash };
    });
    writeFileSync(log, `${rewritten.map((e) => JSON.stringify(e)).join('\n')}\n`);
    writeFileSync(path.join(w.dir, 'state', AUDIT_HEAD_FILE), JSON.stringify({ seq: rewritten.length, hash: prev }));
    expect((await w.store.verifyAudit()).ok).toBe(true);
    const result = await w.evaluate();
    expect(verdicts(result)).toEqual(['unanchored', 'unanchored']);
    expect(result.approvals[0]!.reason).toMatch(/the audit chain was rewritten after signing/);
  });

  it('GIVEN an approval signing an audit head before the current evidence THEN it is unanchored (the approver cannot have seen it)', async () => {
    const w = await world({ signers: standard() });
    const chain = await w.chain();
    await w.craft('alice', { change: (p) => ({ ...p, auditHead: { seq: 1, hash: chain.entries[0]!.hash } }), name: 'early.json' });
    const result = await w.evaluate();
    expect(result.approvals.find((a) => a.source.endsWith('early.json'))).toMatchObject({ rejection: 'unanchored', reason: expect.stringContaining('before the run\'s current evidence was recorded') });
  });

  it('GIVEN an approval backdated before the audit entry it signed THEN it does not count', async () => {
    const w = await world({ signers: standard() });
    await w.craft('alice', { change: (p) => ({ ...p, issuedAt: '2020-01-01T00:00:00.000Z' }) });
    expect((await w.evaluate()).approvals[0]).toMatchObject({ rejection: 'not-yet-valid', reason: expect.stringContaining('backdated') });
  });
});

describe('exact reasons, and one bad file never blocks the others', () => {
  it('GIVEN a malformed file among valid approvals THEN it is reported as malformed and the quorum still holds', async () => {
    const w = await world({ signers: standard() });
    await w.approve('alice');
    await w.approve('bob');
    mkdirSync(path.join(w.approvalsDir, (await w.run()).id), { recursive: true });
    writeFileSync(path.join(w.approvalsDir, (await w.run()).id, 'zz-broken.json'), '{ not json');
    const result = await w.evaluate();
    expect(result.satisfied).toBe(true);
    expect(result.approvals.find((a) => a.source.endsWith('zz-broken.json'))).toMatchObject({ counts: false, rejection: 'malformed', reason: expect.stringContaining('not a keyrotor approval file') });
  });

  it('GIVEN a symlink and an oversized file among the approvals THEN each is reported unread with its reason, and the real approvals still count', async () => {
    const w = await world({ signers: standard() });
    const { file } = await w.approve('alice');
    await w.approve('bob');
    const runDir = path.join(w.approvalsDir, (await w.run()).id);
    symlinkSync(file, path.join(runDir, 'zz-link.json'));
    writeFileSync(path.join(runDir, 'zz-huge.json'), ' '.repeat(300 * 1024));
    const result = await w.evaluate();
    expect(result.satisfied).toBe(true);
    expect(result.approvals.find((a) => a.source.endsWith('zz-link.json'))).toMatchObject({ counts: false, rejection: 'malformed', reason: expect.stringContaining('not a regular file (a symbolic link)') });
    expect(result.approvals.find((a) => a.source.endsWith('zz-huge.json'))).toMatchObject({ counts: false, rejection: 'malformed', reason: expect.stringContaining('more than an approval can be') });
  });

  it('GIVEN an RSA signature made with SHA-1 (ssh-rsa), which ssh-keygen refuses THEN the reason names the algorithm and how to sign again, not tampering', async () => {
    const w = await world({ signers: standard(), quorum: 1 });
    const crafted = await w.craft('carol', { name: 'sha2.json' });
    const carol = lab.keys.carol!;
    const pem = path.join(lab.dir, 'carol-sha1.pem');
    copyFileSync(carol.privateKey, pem);
    execFileSync('ssh-keygen', ['-q', '-p', '-N', '', '-P', '', '-m', 'PEM', '-f', pem]);
    const sshString = (b: Buffer | string): Buffer => {
      const data = Buffer.isBuffer(b) ? b : Buffer.from(b);
      const length = Buffer.alloc(4);
      length.writeUInt32BE(data.length);
      return Buffer.concat([length, data]);
    };
    const namespace = 'keyrotor-approval@v1';
    const signedData = Buffer.concat([Buffer.from('SSHSIG'), sshString(namespace), sshString(''), sshString('sha512'), sshString(createHash('sha512').update(crafted.payload).digest())]);
    const sha1 = cryptoSign('sha1', signedData, readFileSync(pem, 'utf8'));
    const version = Buffer.alloc(4);
    version.writeUInt32BE(1);
    const blob = Buffer.concat([Buffer.from('SSHSIG'), version, sshString(Buffer.from(carol.publicKeyLine.split(' ')[1]!, 'base64')), sshString(namespace), sshString(''), sshString('sha512'), sshString(Buffer.concat([sshString('ssh-rsa'), sshString(sha1)]))]);
    const signature = `-----BEGIN SSH SIGNATURE-----\n${blob.toString('base64').match(/.{1,70}/g)!.join('\n')}\n-----END SSH SIGNATURE-----\n`;
    const runDir = path.join(w.approvalsDir, (await w.run()).id);
    rmSync(path.join(runDir, 'sha2.json'));
    writeFileSync(path.join(runDir, 'sha1.json'), JSON.stringify({ ...crafted, signature }));
    const [verdict] = (await w.evaluate()).approvals;
    expect(verdict).toMatchObject({ counts: false, rejection: 'bad-signature', reason: expect.stringContaining('signed with an algorithm ssh-keygen refuses') });
    expect(verdict!.reason).toContain('never SHA-1');
  });

  it('GIVEN a FIDO security key (sk-ssh-ed25519) WHEN it signs with a touch and without one THEN the touched approval counts and the untouched one does not, saying why', async () => {
    const type = 'sk-ssh-ed25519@openssh.com';
    const sshString = (b: Buffer | string): Buffer => {
      const data = Buffer.isBuffer(b) ? b : Buffer.from(b);
      const length = Buffer.alloc(4);
      length.writeUInt32BE(data.length);
      return Buffer.concat([length, data]);
    };
    const sha256 = (b: Buffer | string): Buffer => createHash('sha256').update(b).digest();
    // A software stand-in for the security key: the same key type and signature format (PROTOCOL.u2f).
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const application = 'ssh:';
    const publicBlob = Buffer.concat([sshString(type), sshString(publicKey.export({ format: 'der', type: 'spki' }).subarray(-32)), sshString(application)]);
    const w = await world({ signers: [`dave@example.com ${type} ${publicBlob.toString('base64')} dave-fido`, lab.line('operator', 'operator@example.com')], quorum: 1 });
    const template = await w.craft('alice', { approver: 'dave@example.com', name: 'template.json' });
    const namespace = 'keyrotor-approval@v1';
    const signWithFlags = (flags: number): string => {
      const signedData = Buffer.concat([Buffer.from('SSHSIG'), sshString(namespace), sshString(''), sshString('sha512'), sshString(createHash('sha512').update(template.payload).digest())]);
      const counter = Buffer.alloc(4);
      counter.writeUInt32BE(7);
      const raw = cryptoSign(null, Buffer.concat([sha256(application), Buffer.from([flags]), counter, sha256(signedData)]), privateKey);
      const version = Buffer.alloc(4);
      version.writeUInt32BE(1);
      const blob = Buffer.concat([Buffer.from('SSHSIG'), version, sshString(publicBlob), sshString(namespace), sshString(''), sshString('sha512'), sshString(Buffer.concat([sshString(type), sshString(raw), Buffer.from([flags]), counter]))]);
      return `-----BEGIN SSH SIGNATURE-----\n${blob.toString('base64').match(/.{1,70}/g)!.join('\n')}\n-----END SSH SIGNATURE-----\n`;
    };
    const runDir = path.join(w.approvalsDir, (await w.run()).id);
    rmSync(path.join(runDir, 'template.json'));
    writeFileSync(path.join(runDir, 'touched.json'), JSON.stringify({ ...template, signature: signWithFlags(0x01) }));
    expect(verdicts(await w.evaluate())).toEqual(['counts']);
    rmSync(path.join(runDir, 'touched.json'));
    writeFileSync(path.join(runDir, 'untouched.json'), JSON.stringify({ ...template, signature: signWithFlags(0x00) }));
    const [untouched] = (await w.evaluate()).approvals;
    expect(untouched).toMatchObject({ counts: false, rejection: 'key-not-valid', reason: expect.stringContaining('signed without a touch (its user-presence flag is off)') });
  });

  it('GIVEN a key whose entry is restricted to another namespace THEN the reason names the namespaces= restriction', async () => {
    const w = await world({ signers: [lab.line('alice', 'alice@example.com', 'namespaces="git"'), lab.line('operator', 'operator@example.com')] });
    await w.craft('alice');
    expect((await w.evaluate()).approvals[0]).toMatchObject({
      rejection: 'namespace-restricted',
      reason: `allowed_signers line 2 restricts key ${lab.keys.alice!.fingerprint} to namespaces="git", which does not include keyrotor-approval@v1`,
    });
  });

  it('GIVEN an entry whose valid-before passed before signing THEN the reason names valid-before', async () => {
    const w = await world({ signers: [lab.line('alice', 'alice@example.com', 'valid-before="20200101Z"'), lab.line('operator', 'operator@example.com')] });
    await w.craft('alice');
    expect((await w.evaluate()).approvals[0]).toMatchObject({ rejection: 'key-not-valid', reason: expect.stringContaining('(valid-before)') });
  });

  it('GIVEN a plain key whose line ends (valid-before) during the run WHEN judged after that date THEN its approval no longer counts, however early it claims to have been signed', async () => {
    const end = new Date(Date.now() + 3600_000);
    const stamp = `${end.toISOString().replace(/[-:T]/g, '').slice(0, 12)}Z`;
    const w = await world({ signers: [lab.line('alice', 'alice@example.com', `valid-before="${stamp}"`), lab.line('operator', 'operator@example.com')], quorum: 1 });
    await w.approve('alice', { name: 'a.json' });
    expect(verdicts(await w.evaluate())).toEqual(['counts']);
    const afterTheEnd = new Date(end.getTime() + 3600_000);
    await w.craft('alice', { name: 'b.json', now: afterTheEnd, change: (p) => ({ ...p, issuedAt: new Date(end.getTime() - 60_000).toISOString() }) });
    const result = await w.evaluate(afterTheEnd);
    expect(verdicts(result)).toEqual(['key-not-valid', 'key-not-valid']);
    expect(result.approvals[1]!.reason).toContain('valid-before');
  });

  it('GIVEN a short-lived certificate that expired after signing THEN the approval still counts (validity is judged at signing time)', async () => {
    const cert = lab.certify('carol', 'ca', ['carol@example.com'], '-10m:+2m');
    const w = await world({ signers: [lab.line('ca', '*@example.com', 'cert-authority'), lab.line('operator', 'operator@ops.example')], quorum: 1 });
    await w.approve('carol', { signWith: cert });
    const later = new Date(Date.now() + 3600_000);
    expect(verdicts(await w.evaluate(later))).toEqual(['counts']);
  });

  it('GIVEN a certificate from a CA the run does not trust, or naming someone else THEN the reason says which', async () => {
    const cert = lab.certify('bob', 'mallory', ['bob@example.com']);
    const w = await world({ signers: [lab.line('ca', '*@example.com', 'cert-authority'), lab.line('operator', 'operator@ops.example')] });
    await w.craft('bob', { signWith: cert, name: 'untrusted.json' });
    const named = lab.certify('alice', 'ca', ['alice@example.com']);
    await w.craft('alice', { signWith: named, approver: 'dave@example.com', name: 'other-name.json' });
    const result = await w.evaluate();
    const by = (name: string) => result.approvals.find((a) => a.source.endsWith(name))!;
    expect(by('untrusted.json')).toMatchObject({ rejection: 'unlisted-key', reason: expect.stringContaining(`from CA ${lab.keys.mallory!.fingerprint}, which allowed_signers does not trust`) });
    expect(by('other-name.json')).toMatchObject({ rejection: 'unlisted-key', reason: expect.stringContaining('names alice@example.com, not dave@example.com') });
  });

  it.each([
    ['a key not in the file claiming an allowed principal (forgery)', 'mallory', { approver: 'alice@example.com' }, 'unlisted-key', /alice@example.com is listed with key .* but the approval was signed with key/],
    ['an allowed key signing as another allowed principal', 'bob', { approver: 'alice@example.com' }, 'unlisted-key', /the signing key SHA256:\S+ is listed in allowed_signers for bob@example.com, not for alice@example.com/],
    ['a principal not in the file at all', 'mallory', {}, 'not-allowed', /mallory@evil.example is not in the run's allowed_signers/],
    ['a signature in another namespace (a git commit signature)', 'alice', { namespace: 'git' }, 'wrong-namespace', /signature is for namespace "git", not "keyrotor-approval@v1"/],
    ['a payload modified after signing', 'alice', { tamper: true }, 'bad-signature', /the payload was modified or the signature is corrupt/],
    ['an approval signed for another run', 'alice', { change: (p: Record<string, unknown>) => ({ ...p, runId: 'other-run' }) }, 'other-run', /not run identity-center-test/],
    ['an expired approval', 'alice', { change: (p: Record<string, unknown>) => ({ ...p, expiresAt: new Date(Date.now() - 1000).toISOString() }) }, 'expired', /expired at/],
    ['a version 1 approval', 'alice', { change: (p: Record<string, unknown>) => ({ ...p, version: 1 }) }, 'malformed', /v1, which signs neither the run's bar nor the audit head/],
    ['a stored signer that disagrees with the signed approver', 'alice', { signer: 'bob@example.com' }, 'malformed', /stored signer bob@example.com differs from the signed approver alice@example.com/],
  ] as const)('GIVEN %s THEN it is %s with an exact reason', async (_what, key, options, rejection, reason) => {
    const w = await world({ signers: standard() });
    const o = options as { approver?: string; namespace?: string; tamper?: boolean; change?: (p: Record<string, unknown>) => Record<string, unknown>; signer?: string };
    const approval = await w.craft(key, {
      ...(o.approver ? { approver: o.approver } : {}),
      ...(o.namespace ? { namespace: o.namespace } : {}),
      ...(o.signer ? { signer: o.signer } : {}),
      ...(o.change ? { change: (p) => o.change!(p as unknown as Record<string, unknown>) } : {}),
      name: 'x.json',
    });
    if (o.tamper) {
      const file = path.join(w.approvalsDir, (await w.run()).id, 'x.json');
      const tampered = JSON.parse(approval.payload) as Record<string, unknown>;
      writeFileSync(file, JSON.stringify({ ...approval, payload: canonicalJson({ ...tampered, deletionWindowDays: 7 }) }));
    }
    const result = await w.evaluate();
    expect(result.approvals[0]).toMatchObject({ counts: false, rejection });
    expect(result.approvals[0]!.reason).toMatch(reason);
  });
});
