/**
 * The approval building blocks one by one: allowed_signers parsing (options, patterns, fingerprints,
 * example keys), the payload, what the evidence's last-use reading proves and the freshness rule,
 * the bar and its changes, approval files and the approvals directory, who the initiator is, and
 * the signing key checks that run before anything is shown. Real keys where keys matter.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import { entriesFor, entryRestriction, keyFingerprint, matchesPatternList, parseAllowedSigners, principalAsListed } from '../../pipeline/approvals/allowed-signers';
import { barChanges, BarChangedError, describeBarChanges, personGroups, sha256Hex } from '../../pipeline/approvals/bar';
import { freshUseProblem, lastUseMeaning, summarizeEvidence } from '../../pipeline/approvals/evidence';
import { approvalsDirFor, collectApprovals, defaultApprovalFile, fingerprintFileName, writeApprovalFile } from '../../pipeline/approvals/files';
import { githubLoginFromSession, labelNamesApprover, resolveInitiator } from '../../pipeline/approvals/initiator';
import { buildPayload, describePayload, parsePayload, serializePayload } from '../../pipeline/approvals/payload';
import { checkListed, resolveSigningKey } from '../../pipeline/approvals/signing-key';
import { APPROVAL_NAMESPACE, certificateInfo } from '../../pipeline/approvals/ssh';
import { ApprovalError } from '../../pipeline/errors';
import { keyringConfig, makeLab, makeRun, NEW_KEY, OLD_KEY, type Lab } from './fixtures';

const NOW = new Date('2026-11-23T12:00:00.000Z');
const HEAD = { seq: 7, hash: 'a'.repeat(64) };

let lab: Lab;
beforeAll(() => {
  lab = makeLab();
});
afterAll(() => lab.cleanup());

describe('allowed_signers parsing', () => {
  it('reads principals, options (keywords in any case, quoted lists), key, fingerprint and comment; skips comments and blank lines', () => {
    const text = [
      '# approvers',
      '',
      `alice@example.com,ALICE@corp.example NameSpaces="keyrotor-approval@v1,git",valid-before="20300101Z" ${lab.keys.alice!.publicKeyLine} alice laptop`,
      `"*@ops.example" cert-authority ${lab.keys.ca!.publicKeyLine}`,
      `bob@example.com ${lab.keys.bob!.publicKeyLine} keyrotor:example demo key`,
    ].join('\n');
    const [alice, ca, bob] = parseAllowedSigners(text, 'allowed_signers');
    expect(alice).toMatchObject({ principals: ['alice@example.com', 'ALICE@corp.example'], namespaces: 'keyrotor-approval@v1,git', validBefore: '20300101Z', certAuthority: false, unquotedOptions: [], comment: 'alice laptop', line: 3, example: false });
    expect(alice!.fingerprint).toBe(lab.keys.alice!.fingerprint);
    expect(ca).toMatchObject({ principals: ['*@ops.example'], certAuthority: true, line: 4 });
    expect(bob).toMatchObject({ example: true });
  });

  it('computes the fingerprint ssh-keygen -l prints', () => {
    const listed = execFileSync('ssh-keygen', ['-l', '-f', lab.keys.carol!.publicFile]).toString();
    expect(listed).toContain(keyFingerprint(lab.keys.carol!.publicKeyLine.split(' ')[1]!));
  });

  it('rejects a line without a key, naming file and line and saying how to fix it', () => {
    expect(() => parseAllowedSigners('alice@example.com\n', 'approvers/allowed_signers')).toThrow(ApprovalError);
    expect(() => parseAllowedSigners(`ok@x ${lab.keys.alice!.publicKeyLine}\nalice@example.com ssh-ed25519\n`, 'approvers/allowed_signers')).toThrow(/approvers\/allowed_signers:2: not an allowed_signers entry/);
  });

  it('matches principal patterns as ssh-keygen does: wildcards, negation, case-sensitive', () => {
    expect(matchesPatternList('alice@example.com', '*@example.com')).toBe(true);
    expect(matchesPatternList('alice@example.com', '*@example.com,!alice@example.com')).toBe(false);
    expect(matchesPatternList('Alice@Example.com', 'alice@example.com')).toBe(false);
    expect(matchesPatternList('a@x', 'a?x')).toBe(true);
    const signers = parseAllowedSigners(`alice@example.com ${lab.keys.alice!.publicKeyLine}\n*@example.com ${lab.keys.bob!.publicKeyLine}\n`, 'f');
    expect(principalAsListed(signers, 'Alice@Example.com')).toBe('alice@example.com');
    expect(entriesFor(signers, 'zed@example.com').map((s) => s.line)).toEqual([2]);
  });

  it('says exactly why an entry refuses a keyrotor signature: namespaces=, valid-after, valid-before', () => {
    const [ns, after, before] = parseAllowedSigners(
      [`a@x namespaces="git,file" ${lab.keys.alice!.publicKeyLine}`, `b@x valid-after="20991231Z" ${lab.keys.bob!.publicKeyLine}`, `c@x valid-before="20200101" ${lab.keys.carol!.publicKeyLine}`].join('\n'),
      'f',
    );
    expect(entryRestriction(ns!, APPROVAL_NAMESPACE, NOW)).toBe(`allowed_signers line 1 restricts key ${lab.keys.alice!.fingerprint} to namespaces="git,file", which does not include keyrotor-approval@v1`);
    expect(entryRestriction(after!, APPROVAL_NAMESPACE, NOW)).toMatch(/accepts key .* only from 2099-12-31T00:00:00.000Z \(valid-after\)/);
    expect(entryRestriction(before!, APPROVAL_NAMESPACE, NOW)).toMatch(/\(valid-before\)$/);
  });

  it('GIVEN valid-before, valid-after or namespaces without the double quotes ssh-keygen requires THEN the entry is flagged and its refusal names the line, the option and the quoted form', () => {
    const text = [
      `a@x valid-before=20270101 ${lab.keys.alice!.publicKeyLine}`,
      `b@x VALID-AFTER=20200101Z,namespaces="keyrotor-approval@v1" ${lab.keys.bob!.publicKeyLine}`,
      `c@x namespaces=keyrotor-approval@v1 ${lab.keys.carol!.publicKeyLine}`,
      `d@x valid-before="20270101",namespaces="keyrotor-approval@v1" ${lab.keys.operator!.publicKeyLine}`,
    ].join('\n');
    const [before, after, namespaces, quoted] = parseAllowedSigners(text, 'approvers/allowed_signers');
    expect([before, after, namespaces, quoted].map((s) => s!.unquotedOptions)).toEqual([['valid-before=20270101'], ['VALID-AFTER=20200101Z'], ['namespaces=keyrotor-approval@v1'], []]);
    expect(entryRestriction(before!, APPROVAL_NAMESPACE, NOW)).toBe(
      `allowed_signers line 1: valid-before=20270101 lacks the double quotes ssh-keygen requires around option values, so ssh-keygen rejects the whole line ("bad options: missing start quote") and never accepts key ${lab.keys.alice!.fingerprint} through it: quote the value (valid-before="20270101")`,
    );
    expect(entryRestriction(after!, APPROVAL_NAMESPACE, NOW)).toContain('allowed_signers line 2: VALID-AFTER=20200101Z lacks the double quotes');
    expect(entryRestriction(after!, APPROVAL_NAMESPACE, NOW)).toContain('quote the value (VALID-AFTER="20200101Z")');
    expect(entryRestriction(namespaces!, APPROVAL_NAMESPACE, NOW)).toContain('quote the value (namespaces="keyrotor-approval@v1")');
    expect(entryRestriction(quoted!, APPROVAL_NAMESPACE, NOW)).toBeUndefined();
  });

  it('GIVEN each way of writing an option value THEN the lines flagged are exactly those ssh-keygen itself refuses for a missing quote', () => {
    const message = path.join(lab.dir, 'quoting-message');
    writeFileSync(message, 'payload');
    execFileSync('ssh-keygen', ['-q', '-Y', 'sign', '-f', lab.keys.alice!.privateKey, '-n', APPROVAL_NAMESPACE, message], { stdio: 'ignore' });
    const forms = ['valid-before=20990101', 'valid-before="20990101"', 'valid-after=20200101Z', 'valid-after="20200101Z"', 'namespaces=keyrotor-approval@v1', 'namespaces="keyrotor-approval@v1"', 'Valid-Before="20990101",NAMESPACES="keyrotor-approval@v1"'];
    for (const options of forms) {
      const file = path.join(lab.dir, 'quoting_allowed_signers');
      writeFileSync(file, `a@x ${options} ${lab.keys.alice!.publicKeyLine}\n`);
      const verified = spawnSync('ssh-keygen', ['-Y', 'verify', '-f', file, '-I', 'a@x', '-n', APPROVAL_NAMESPACE, '-s', `${message}.sig`], { input: 'payload', encoding: 'utf8' });
      const sshKeygenRefusesTheLine = verified.stderr.includes('missing start quote');
      expect([options, sshKeygenRefusesTheLine]).toEqual([options, verified.status !== 0]);
      expect([options, parseAllowedSigners(readFileSync(file, 'utf8'), file)[0]!.unquotedOptions.length > 0]).toEqual([options, sshKeygenRefusesTheLine]);
    }
  });

  it('the committed approvers/allowed_signers is a clear placeholder that lists nobody', () => {
    const file = path.join(__dirname, '../../approvers/allowed_signers');
    const text = readFileSync(file, 'utf8');
    expect(parseAllowedSigners(text, file)).toEqual([]);
    expect(text).toContain('PLACEHOLDER');
  });

  it('recognises the example keys keyrotor once shipped, marked or not', () => {
    const shipped = 'x@example.invalid ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICF8ouwqGtzfOIQISrRMAAydXS4Is2iDaRqHulPJrMsx';
    expect(parseAllowedSigners(shipped, 'f')[0]!.example).toBe(true);
  });
});

describe('approval payload (version 2)', () => {
  it('binds run, keys, window, digests, the bar and the audit head, with the earliest deletion date = issuedAt + window', () => {
    const run = makeRun();
    const payload = buildPayload({ run, approver: 'alice@example.com', now: NOW, lifetimeHours: 72, auditHead: HEAD });
    expect(payload).toEqual({
      version: 2,
      namespace: APPROVAL_NAMESPACE,
      runId: 'run-0001',
      keyring: 'identity-center',
      oldKeyArn: OLD_KEY,
      newKeyArn: NEW_KEY,
      deletionWindowDays: 30,
      earliestDeletionDate: '2026-12-23T12:00:00.000Z',
      planDigest: run.planDigest,
      evidenceDigest: run.evidenceDigest,
      quorum: 2,
      allowedSignersSha256: run.plan.approvals!.allowedSignersSha256,
      auditHead: HEAD,
      approver: 'alice@example.com',
      issuedAt: '2026-11-23T12:00:00.000Z',
      expiresAt: '2026-11-26T12:00:00.000Z',
    });
    expect(parsePayload(serializePayload(payload))).toEqual({ ok: true, payload });
  });

  it.each([
    ['completed', { status: 'completed' as const }, /it is completed/],
    ['without an old key', { plan: { oldKeyArn: undefined } }, /retires no customer managed key/],
    ['without a recorded bar', { plan: { approvals: undefined } }, /records no approval bar/],
  ])('refuses a run that is %s', (_label, overrides, message) => {
    expect(() => buildPayload({ run: makeRun(overrides), approver: 'a@x', now: NOW, lifetimeHours: 1, auditHead: HEAD })).toThrow(message);
  });

  it('rejects payloads that are not JSON, have unknown or missing fields, another namespace, or are not canonical', () => {
    const good = serializePayload(buildPayload({ run: makeRun(), approver: 'a@x', now: NOW, lifetimeHours: 1, auditHead: HEAD }));
    const obj = JSON.parse(good) as Record<string, unknown>;
    expect(parsePayload('{').ok).toBe(false);
    expect(parsePayload(JSON.stringify({ ...obj, extra: 1 }))).toMatchObject({ ok: false, reason: expect.stringMatching(/extra/) });
    expect(parsePayload(JSON.stringify({ ...obj, auditHead: undefined }))).toMatchObject({ ok: false, reason: expect.stringMatching(/auditHead/) });
    expect(parsePayload(JSON.stringify({ ...obj, namespace: 'git' }))).toMatchObject({ ok: false, reason: expect.stringMatching(/namespace/) });
    expect(parsePayload(JSON.stringify(obj, null, 1))).toMatchObject({ ok: false, reason: 'payload is not in canonical JSON form' });
  });

  it('describes itself in words: the key, the date, the bar, the head, the evidence and what the last-use reading proves', () => {
    const evidence = { checks: [{ name: 'alias round trip', ok: true, detail: 'ok' }], oldKeyLastUsage: { KeyLastUsage: {}, TrackingStartDate: '2026-01-01T00:00:00Z', KeyCreationDate: '2025-01-01T00:00:00Z' } };
    const run = makeRun({ evidence: { ...evidence, oldKeyLastUseMeaning: lastUseMeaning(OLD_KEY, evidence.oldKeyLastUsage, '2026-11-23T09:00:00Z') } });
    const text = describePayload(buildPayload({ run, approver: 'alice@example.com', now: NOW, lifetimeHours: 72, auditHead: HEAD }), run);
    expect(text).toContain(`You, alice@example.com, approve DELETING key ${OLD_KEY}`);
    expect(text).toContain('started by operator@example.com');
    expect(text).toContain('irrecoverable no earlier than 2026-12-23T12:00:00.000Z');
    expect(text).toContain('2 distinct approver(s) other than the initiator, from approvers/allowed_signers as recorded at start');
    expect(text).toContain('audit chain head #7');
    expect(text).toContain('this proves: no successful cryptographic operation on this key in us-east-1 recorded from 2026-01-01T00:00:00Z (when KMS began tracking)');
    expect(text).toContain('it does not prove: refused calls');
  });
});

describe('what a last-use reading proves, and the freshness rule at deletion', () => {
  it('names the per-Region caveat of a multi-Region key', () => {
    const mrk = 'arn:aws:kms:eu-west-1:111111111111:key/mrk-1234abcd12ab34cd56ef1234567890ab';
    expect(lastUseMeaning(mrk, { KeyLastUsage: {} }, 'now').doesNotProve[0]).toMatch(/multi-Region key's replicas .*this reading covers eu-west-1 only/);
    expect(lastUseMeaning(OLD_KEY, { unavailable: 'AccessDenied' }, 'now').proves).toMatch(/^nothing: GetKeyLastUsage could not be read/);
  });

  const signed = { KeyLastUsage: { Operation: 'Decrypt', Timestamp: '2026-11-20T08:00:00.000Z' }, TrackingStartDate: '2026-01-01T00:00:00.000Z' };
  it.each([
    ['the same reading', signed, undefined],
    ['a later use', { ...signed, KeyLastUsage: { Operation: 'Encrypt', Timestamp: '2026-11-24T08:00:00.000Z', CloudTrailEventId: 'ev-9' } }, 'used'],
    ['a use of a key the evidence said was never used', { ...signed, KeyLastUsage: { Operation: 'Encrypt', Timestamp: '2026-11-24T08:00:00.000Z' } }, 'used'],
    ['an unreadable reading', { unavailable: 'ThrottlingException' }, 'unreadable'],
    ['tracking restarted', { KeyLastUsage: {}, TrackingStartDate: '2026-11-22T00:00:00.000Z' }, 'no-baseline'],
  ])('GIVEN %s THEN the verdict is %s', (what, fresh, kind) => {
    const base = what.includes('never used') ? { KeyLastUsage: {}, TrackingStartDate: signed.TrackingStartDate } : signed;
    expect(freshUseProblem(base, fresh)?.kind).toBe(kind);
  });

  it('says which operation, when and which CloudTrail event', () => {
    const problem = freshUseProblem(signed, { ...signed, KeyLastUsage: { Operation: 'Encrypt', Timestamp: '2026-11-24T08:00:00.000Z', CloudTrailEventId: 'ev-9' } });
    expect(problem?.reason).toBe('the old key was used after the evidence the approvers signed: Encrypt at 2026-11-24T08:00:00.000Z, CloudTrail event ev-9 (the signed evidence said last used 2026-11-20T08:00:00.000Z)');
    expect(freshUseProblem({ unavailable: 'x' }, signed)?.kind).toBe('no-baseline');
  });

  it('never turns a missing or failed last-use lookup into reassurance', () => {
    expect(summarizeEvidence({ checks: [] }).oldKeyLastUse).toMatch(/not recorded — ask the operator/);
    expect(summarizeEvidence({ oldKeyLastUsage: { unavailable: 'AccessDenied' } }).oldKeyLastUse).toMatch(/unknown: GetKeyLastUsage failed \(AccessDenied\)/);
  });
});

describe('the bar a run keeps', () => {
  const text = () => `${lab.line('alice', 'alice@example.com')}\n${lab.line('bob', 'bob@example.com')}\n`;
  const run = () => makeRun({ signers: text(), plan: { deletionWindowDays: 30, minimumSoakHours: 24, disableOldKeyDuringSoak: false } });
  const keyring = (o: Parameters<typeof keyringConfig>[1] = {}) => keyringConfig('/repo/approvers/allowed_signers', o);

  it('GIVEN the config as the run recorded it THEN nothing changed', () => {
    expect(barChanges(run(), keyring(), text(), [])).toEqual([]);
  });

  it('GIVEN only comments, blank lines and order changed in allowed_signers THEN nothing changed', () => {
    const reordered = `# reviewed 2026-11\n\n${lab.line('bob', 'bob@example.com')}\n${lab.line('alice', 'alice@example.com')}\n`;
    expect(barChanges(run(), keyring(), reordered, [])).toEqual([]);
  });

  it('GIVEN every bar field changed THEN each is named with what the run recorded and what the config says', () => {
    const swapped = `${lab.line('mallory', 'alice@example.com')}\n${lab.line('bob', 'bob@example.com')}\n`;
    const people = [{ name: 'al', signers: ['alice@example.com'], aws: [], github: [] }];
    const changes = barChanges(run(), keyring({ quorum: 1, lifetimeHours: 24, deletionWindowDays: 7, minimumSoakHours: 1, disable: true }), swapped, people);
    expect(changes.map((c) => c.field)).toEqual([
      'approvals.quorum', 'approvals.lifetimeHours', 'rotation.deletionWindowDays', 'rotation.minimumSoakHours', 'rotation.disableOldKeyDuringSoak', 'approvals.allowedSignersFile', 'people',
    ]);
    expect(changes[0]).toEqual({ field: 'approvals.quorum', signed: '2', current: '1' });
    expect(changes[5]!.current).toContain(`- alice@example.com ${lab.keys.alice!.fingerprint}`);
    expect(changes[5]!.current).toContain(`+ alice@example.com ${lab.keys.mallory!.fingerprint}`);
    const error = new BarChangedError('run-0001', changes);
    expect(error.message).toBe(describeBarChanges('run-0001', changes));
    expect(error.message).toContain('rotation.deletionWindowDays: run recorded 30; the config now says 7');
    expect(error.nextStep).toContain('rotate replan run-0001');
    expect(error.fault).toBe('operator');
  });

  it('GIVEN the allowed_signers file cannot be read THEN that is a change', () => {
    expect(barChanges(run(), keyring(), undefined, [])).toEqual([{ field: 'approvals.allowedSignersFile', signed: expect.any(String), current: '/repo/approvers/allowed_signers cannot be read' }]);
  });

  it('GIVEN a run without an approval gate THEN it has no bar to change', () => {
    expect(barChanges(makeRun({ plan: { stages: ['preflight', 'adopt-key'], approvals: undefined } }), keyring({ quorum: 5 }), undefined)).toEqual([]);
  });

  it('records only the people entries that name approvers, sorted', () => {
    expect(personGroups([{ name: 'z', signers: ['z@x'], aws: [], github: [] }, { name: 'ops', signers: [], aws: ['arn:aws:iam::111111111111:user/o'], github: [] }, { name: 'a', signers: ['a@x'], aws: [], github: [] }])).toEqual([
      { name: 'a', signers: ['a@x'] }, { name: 'z', signers: ['z@x'] },
    ]);
    expect(sha256Hex('x')).toBe(crypto.createHash('sha256').update('x').digest('hex'));
  });
});

describe('approval files and the approvals directory', () => {
  it('one rule decides the directory: flag, else $KEYROTOR_APPROVALS_DIR, else approvals/ beside the config', () => {
    expect(approvalsDirFor('/repo', { flag: 'ci-approvals', cwd: '/work', env: { KEYROTOR_APPROVALS_DIR: '/env' } })).toBe('/work/ci-approvals');
    expect(approvalsDirFor('/repo', { env: { KEYROTOR_APPROVALS_DIR: '/env' } })).toBe('/env');
    expect(approvalsDirFor('/repo', { env: {} })).toBe('/repo/approvals');
  });

  it('names the default file after the run and the key fingerprint, safe for any file system', () => {
    expect(fingerprintFileName('SHA256:ab+c/d')).toBe('SHA256-ab-c_d.json');
    expect(defaultApprovalFile('/repo/approvals', 'run-1', 'SHA256:x')).toBe('/repo/approvals/run-1/SHA256-x.json');
  });

  it('collects the run\'s own directory and the flat one, skips other runs in the flat one, reports unreadable files, keeps one of each signature', async () => {
    const dir = path.join(lab.dir, 'files');
    const approval = (runId: string, sig: string) => ({ signer: 'a@x', payload: JSON.stringify({ runId }), signature: sig, recordedAt: NOW.toISOString() });
    await writeApprovalFile(path.join(dir, 'run-1', 'a.json'), approval('run-1', 'S1'));
    await writeApprovalFile(path.join(dir, 'run-1', 'b.json'), approval('run-2', 'S2'));
    await writeApprovalFile(path.join(dir, 'flat-same.json'), approval('run-1', 'S1'));
    await writeApprovalFile(path.join(dir, 'flat-other.json'), approval('run-2', 'S3'));
    writeFileSync(path.join(dir, 'run-1', 'c.json'), JSON.stringify({ signer: 'a@x' }));
    writeFileSync(path.join(dir, 'notes.txt'), 'ignored');
    const collected = await collectApprovals({ id: 'run-1', approvals: [] }, dir);
    expect(collected.approvals.map((a) => path.basename(a.source))).toEqual(['a.json', 'b.json']);
    expect(collected.problems).toEqual([{ source: path.join(dir, 'run-1', 'c.json'), reason: expect.stringContaining('not a keyrotor approval file: payload') }]);
    expect((await collectApprovals({ id: 'run-1', approvals: [] }, path.join(dir, 'missing'))).dirs).toEqual([`${path.join(dir, 'missing')} (does not exist)`]);
  });
});

describe('who started the run', () => {
  const signers = () => `${lab.line('operator', 'operator@example.com')}\n${lab.line('alice', 'alice@example.com')}\n`;
  const ic = keyringConfig('/x', { pipelineRole: 'arn:aws:iam::111111111111:role/keyrotor-pipeline' });
  const people = [
    { name: 'alice', signers: ['alice@example.com'], aws: ['arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_KeyAdmin_*/alice@example.com'], github: ['alice-gh'] },
  ];

  it('GIVEN an Identity Center session matching a people entry THEN the run is tied to that person and their keys', () => {
    const identity = resolveInitiator({ label: 'x', awsCaller: 'arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_KeyAdmin_0a1b2c/alice@example.com', env: {}, people, keyring: ic, allowedSignersText: signers() });
    expect(identity).toMatchObject({ tied: true, people: ['alice'], principals: ['alice@example.com'], fingerprints: [lab.keys.alice!.fingerprint] });
  });

  it('GIVEN CI: the pipeline role session the workflow names after the dispatcher THEN the GitHub user ties the run', () => {
    const env = { GITHUB_ACTIONS: 'true', GITHUB_ACTOR: 'alice-gh', GITHUB_RUN_ID: '42' };
    const caller = 'arn:aws:sts::111111111111:assumed-role/keyrotor-pipeline/gh-alice-gh-42';
    expect(githubLoginFromSession(caller, ic, env)).toBe('alice-gh');
    expect(resolveInitiator({ label: caller, awsCaller: caller, env, people, keyring: ic, allowedSignersText: signers() })).toMatchObject({ tied: true, people: ['alice'], github: { actor: 'alice-gh', verifiedActor: 'alice-gh' } });
  });

  it('GIVEN GITHUB_ACTOR set by hand outside the pipeline role THEN it is only a claim: excluded, not tied', () => {
    const env = { GITHUB_ACTIONS: 'true', GITHUB_ACTOR: 'alice-gh', GITHUB_RUN_ID: '42' };
    const caller = 'arn:aws:sts::111111111111:assumed-role/SomeAdmin/gh-alice-gh-42';
    const identity = resolveInitiator({ label: caller, awsCaller: caller, env, people, keyring: ic, allowedSignersText: signers() });
    expect(identity.tied).toBe(false);
    expect(identity.principals).toContain('alice@example.com');
    expect(identity.basis.join('; ')).toContain('a claim');
  });

  it('GIVEN only a label THEN the run is not tied, and a label naming an approver still excludes them', () => {
    const identity = resolveInitiator({ label: 'alice@example.com', env: {}, people: [], keyring: ic, allowedSignersText: signers() });
    expect(identity).toMatchObject({ tied: false, principals: ['alice@example.com'] });
    expect(labelNamesApprover('ALICE@example.com', 'arn:aws:sts::1:assumed-role/R/alice@example.com')).toBe(true);
    expect(labelNamesApprover('dave@example.com', 'arn:aws:iam::111111111111:user/dave')).toBe(true);
    expect(labelNamesApprover('carol@other.example', 'carol@example.com')).toBe(false);
  });
});

describe('the signing key, checked before anything is shown', () => {
  const signers = () => parseAllowedSigners(
    [lab.line('alice', 'alice@example.com', 'namespaces="keyrotor-approval@v1"'), lab.line('bob', 'bob@example.com', 'namespaces="git"'), lab.line('carol', 'carol@example.com'), lab.line('ca', '*@corp.example', 'cert-authority')].join('\n'),
    'allowed_signers',
  );

  it('GIVEN a path that does not exist THEN it says so (not that a .pub has no comment)', async () => {
    await expect(resolveSigningKey(path.join(lab.dir, 'no-such-key'))).rejects.toThrow(`the signing key ${path.join(lab.dir, 'no-such-key')} does not exist`);
  });

  it('GIVEN a directory or a file that is no key THEN it says which', async () => {
    await expect(resolveSigningKey(lab.dir)).rejects.toThrow('is a directory');
    const junk = path.join(lab.dir, 'junk.pub');
    writeFileSync(junk, 'hello');
    await expect(resolveSigningKey(junk)).rejects.toThrow(`${junk} is not an OpenSSH public key`);
  });

  it('GIVEN a private key THEN its public half and fingerprint are known', async () => {
    const key = await resolveSigningKey(lab.keys.carol!.privateKey);
    expect(key).toMatchObject({ keyType: 'ssh-rsa', fingerprint: lab.keys.carol!.fingerprint, agent: false, hardware: false, privateHalf: `in ${lab.keys.carol!.privateKey}` });
  });

  it('GIVEN a passphrase-protected key without its .pub THEN it says how to write the .pub', async () => {
    const file = path.join(lab.dir, 'locked');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'secret', '-f', file]);
    execFileSync('rm', [`${file}.pub`]);
    await expect(resolveSigningKey(file)).rejects.toThrow(expect.objectContaining({ message: expect.stringContaining(`${file}.pub does not exist and ssh-keygen cannot derive it without the passphrase`), nextStep: `write it once with \`ssh-keygen -y -f ${file} > ${file}.pub\`, then run the command again` }));
  });

  it('GIVEN a .pub whose private half is neither beside it nor in an agent THEN it says to load it', async () => {
    const lone = path.join(lab.dir, 'lone');
    mkdirSync(lone, { recursive: true });
    copyFileSync(lab.keys.alice!.publicFile, path.join(lone, 'id.pub'));
    await expect(resolveSigningKey(path.join(lone, 'id.pub'), { ssh: { env: { PATH: process.env.PATH } } })).rejects.toThrow(/the private half of .*id.pub is not reachable: SSH_AUTH_SOCK is not set/);
  });

  it('GIVEN a FIDO security key (sk-ssh-ed25519) .pub THEN it is read, fingerprinted, marked hardware, and asks for the device', async () => {
    const blob = Buffer.concat([['sk-ssh-ed25519@openssh.com'], [crypto.randomBytes(32)], ['ssh:']].map(([v]) => {
      const b = Buffer.isBuffer(v) ? v : Buffer.from(v as string);
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.length);
      return Buffer.concat([len, b]);
    }));
    const file = path.join(lab.dir, 'id_ed25519_sk.pub');
    writeFileSync(file, `sk-ssh-ed25519@openssh.com ${blob.toString('base64')} dave@example.com\n`);
    expect(execFileSync('ssh-keygen', ['-l', '-f', file]).toString()).toContain('(ED25519-SK)');
    await expect(resolveSigningKey(file, { ssh: { env: { PATH: process.env.PATH } } })).rejects.toThrow(expect.objectContaining({ nextStep: expect.stringContaining('plug in the security key') }));
    writeFileSync(path.join(lab.dir, 'id_ed25519_sk'), '-----BEGIN OPENSSH PRIVATE KEY-----\n(key handle)\n-----END OPENSSH PRIVATE KEY-----\n');
    chmodSync(path.join(lab.dir, 'id_ed25519_sk'), 0o600);
    const key = await resolveSigningKey(file, { ssh: { env: { PATH: process.env.PATH } } });
    expect(key).toMatchObject({ hardware: true, keyType: 'sk-ssh-ed25519@openssh.com', fingerprint: keyFingerprint(blob.toString('base64')) });
    const listed = parseAllowedSigners(`dave@example.com ${key.publicKey}`, 'f');
    expect(checkListed(key, 'dave@example.com', listed, NOW, 'allowed_signers').how).toContain('is listed for dave@example.com');
  });

  it.each([
    ['a key listed for someone else', 'carol', 'alice@example.com', /your key \S+ is listed in allowed_signers for carol@example.com, not for alice@example.com/],
    ['a principal listed with another key', 'mallory', 'alice@example.com', /alice@example.com is listed in allowed_signers with key \S+, but you are signing with key/],
    ['a principal not listed at all', 'mallory', 'mallory@evil.example', /mallory@evil.example is not listed in allowed_signers/],
    ['an entry restricted to the git namespace', 'bob', 'bob@example.com', /restricts key \S+ to namespaces="git", which does not include keyrotor-approval@v1/],
  ])('GIVEN %s THEN the refusal names it', async (_what, keyName, principal, message) => {
    const key = await resolveSigningKey(lab.keys[keyName]!.privateKey);
    expect(() => checkListed(key, principal, signers(), NOW, 'allowed_signers')).toThrow(message);
  });

  it('GIVEN a certificate from a trusted CA beside the key THEN it is used for a principal only the CA vouches for', async () => {
    const cert = lab.certify('mallory', 'ca', ['mallory@corp.example']);
    const info = await certificateInfo(cert);
    expect(info).toMatchObject({ fingerprint: lab.keys.mallory!.fingerprint, caFingerprint: lab.keys.ca!.fingerprint, principals: ['mallory@corp.example'] });
    const key = await resolveSigningKey(lab.keys.mallory!.privateKey);
    expect(checkListed(key, 'mallory@corp.example', signers(), new Date(), 'allowed_signers')).toMatchObject({ useCertificate: true, how: expect.stringContaining(`signed by CA ${lab.keys.ca!.fingerprint}`) });
    expect(() => checkListed(key, 'boss@corp.example', signers(), new Date(), 'allowed_signers')).toThrow('names mallory@corp.example, not boss@corp.example');
  });
});

describe('rotate replan re-binds a run', () => {
  it('GIVEN a longer soak in the config THEN the soak and the gate run again; the plan digest moves', async () => {
    const { replannedRun } = await import('../../pipeline/approvals/replan');
    const text = `${lab.line('alice', 'alice@example.com')}\n`;
    const base = makeRun({ signers: text, plan: { stages: ['preflight', 'soak', 'approval-gate', 'schedule-deletion'] } });
    const run = { ...base, stages: base.plan.stages.map((name) => ({ name, status: name === 'schedule-deletion' ? 'pending' as const : name === 'approval-gate' ? 'waiting' as const : 'done' as const, attempts: 1, mutations: [], endedAt: 'x', summary: 's' })) };
    const next = replannedRun(run, keyringConfig('/x', { minimumSoakHours: 48 }), { allowedSignersText: text, allowedSignersFile: 'approvers/allowed_signers', people: [] });
    expect(next.reopened).toEqual(['soak', 'approval-gate']);
    expect(next.run.stages.map((s) => s.status)).toEqual(['done', 'pending', 'pending', 'pending']);
    expect(next.run.stages[1]).not.toHaveProperty('endedAt');
    expect(next.run.plan.minimumSoakHours).toBe(48);
    expect(next.run.planDigest).not.toBe(run.planDigest);
    const same = replannedRun(run, keyringConfig('/x', { quorum: 1 }), { allowedSignersText: text, allowedSignersFile: 'approvers/allowed_signers', people: [] });
    expect(same.reopened).toEqual(['approval-gate']);
    expect(same.run.plan.approvals!.quorum).toBe(1);
  });
});
