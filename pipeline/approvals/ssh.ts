/**
 * SSHSIG signing and verification through the system's `ssh-keygen` (`-Y sign`, `-Y verify`,
 * `-Y find-principals`, `-Y check-novalidate`, `-l`, `-L`, `-y`) and `ssh-add -L` — the same format
 * git uses for signed commits, so approvers use the SSH key they already have (in a file, in
 * ssh-agent, or on a security key) and no cryptography is hand-written here.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ApprovalError } from '../errors';
import { keyFingerprint } from './allowed-signers';
import { embeddedKey } from './sshsig';

/** The SSHSIG namespace of keyrotor approvals: a signature made for git or anything else never verifies here. */
export const APPROVAL_NAMESPACE = 'keyrotor-approval@v1';
/** The SSHSIG namespace of a signed `rotate start` (who started a run); never accepted as an approval. */
export const START_NAMESPACE = 'keyrotor-start@v1';

export interface SshKeygenOptions {
  /** ssh-keygen binary (name looked up on PATH, or a path). Default `ssh-keygen`. */
  readonly binary?: string;
  /** Environment for the child (merged over process.env); tests set PATH or SSH_AUTH_SOCK here. */
  readonly env?: NodeJS.ProcessEnv;
}

export interface KeygenResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function run(binary: string, args: readonly string[], input: string | undefined, options: SshKeygenOptions): Promise<KeygenResult> {
  // Loaded on first use: `rotate lint` on a file without keys, and `rotate --help`, never pay for it.
  const { execa } = await import('execa');
  const result = await execa(binary, args, { reject: false, input: input ?? '', env: options.env, stripFinalNewline: true });
  if (result.code === 'ENOENT' || (result.failed && result.exitCode === undefined)) {
    throw new ApprovalError(`cannot run ${binary}: ${result.code === 'ENOENT' ? 'not found' : result.shortMessage}; approvals are signed and verified with OpenSSH's ssh-keygen (8.2 or later)`, {
      fault: 'operator',
      nextStep: 'install openssh-client (Debian/Ubuntu: `apt-get install openssh-client`; macOS ships it) and make sure ssh-keygen is on PATH',
    });
  }
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

export async function sshKeygen(args: readonly string[], input: string | undefined, options: SshKeygenOptions = {}): Promise<KeygenResult> {
  return run(options.binary ?? 'ssh-keygen', args, input, options);
}

/** Writes `files` (name → content) into a private (0700) temp dir for ssh-keygen, removed afterwards whatever happens. */
export async function withPrivateFiles<T>(files: Readonly<Record<string, string>>, fn: (paths: Record<string, string>) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'keyrotor-ssh-'));
  try {
    const paths: Record<string, string> = {};
    for (const [name, content] of Object.entries(files)) {
      paths[name] = path.join(dir, name);
      await writeFile(paths[name]!, content, { mode: 0o600 });
    }
    return await fn(paths);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** ssh-keygen's last meaningful stderr lines ("Couldn't verify signature: namespace does not match"). */
export function keygenReason(result: KeygenResult): string {
  const lines = `${result.stderr}\n${result.stdout}`
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && l !== 'Could not verify signature.' && !/^Signing (data|file)/.test(l));
  return lines.length > 0 ? lines.join('; ') : `ssh-keygen exited with ${result.exitCode}`;
}

/**
 * The signing key ssh-keygen names in `Good "ns" signature [for P] with ED25519-CERT key SHA256:…`
 * (for a certificate, the certified key). The principal P is the caller's text, printed before the
 * key: only the end of the line is ssh-keygen's own, so the match is anchored there (an approver
 * named `x with ED25519 key SHA256:Fake y@team.example` would otherwise choose its own fingerprint).
 */
export function signingKeyFromOutput(text: string): { keyType: string; fingerprint: string } | undefined {
  const good = text.split('\n').map((l) => l.trimEnd()).filter((l) => l.startsWith('Good '));
  if (good.length !== 1) return undefined;
  const m = /with (\S+) key (SHA256:[A-Za-z0-9+/]+)$/.exec(good[0]!);
  return m ? { keyType: m[1]!, fingerprint: m[2]! } : undefined;
}

/** A principal ssh-keygen can be asked about: allowed_signers principals never hold whitespace or control characters. */
export function isPlainPrincipal(principal: string): boolean {
  return principal.length > 0 && !/[\s\x00-\x1f\x7f]/.test(principal);
}

/** For a plain key: true when ssh-keygen named the key embedded in the signature (a second check on its output). */
function namesEmbeddedKey(signature: string, fingerprint: string): boolean {
  const embedded = embeddedKey(signature);
  if (!embedded || embedded.isCertificate) return true; // a certificate's certified key is named: checked by ssh-keygen
  return keyFingerprint(embedded.base64) === fingerprint;
}

export interface SignOptions {
  readonly namespace?: string;
  /** Sign with the key held in ssh-agent (`-U`); `signingKeyPath` then names its public half. */
  readonly agent?: boolean;
}

/** Signs `payload` (exact bytes) with the key at `signingKeyPath` (a private key, or a .pub / -cert.pub whose private half is in ssh-agent or next to it). */
export async function signPayload(payload: string, signingKeyPath: string, sign: SignOptions = {}, options: SshKeygenOptions = {}): Promise<string> {
  const args = ['-Y', 'sign', ...(sign.agent ? ['-U'] : []), '-f', signingKeyPath, '-n', sign.namespace ?? APPROVAL_NAMESPACE];
  const result = await sshKeygen(args, payload, options);
  if (result.exitCode !== 0 || !result.stdout.includes('-----BEGIN SSH SIGNATURE-----')) {
    throw new ApprovalError(`signing with ${signingKeyPath} failed: ${keygenReason(result)}`, {
      fault: 'operator',
      nextStep: sign.agent
        ? 'load the key into ssh-agent (`ssh-add KEY`; a security key: touch it when it blinks) and pass its .pub with --signing-key'
        : 'pass --signing-key with your SSH private key (mode 0600), or its .pub with the key loaded in ssh-agent (a security key: touch it when it blinks)',
    });
  }
  return `${result.stdout.trim()}\n`;
}

export interface SignatureInput {
  readonly payload: string;
  readonly signature: string;
}

export type VerifyResult =
  | { readonly ok: true; readonly detail: string; readonly keyType: string; readonly fingerprint: string }
  | { readonly ok: false; readonly reason: string };

/** ssh-keygen's `verify-time` form, in UTC: YYYYMMDDHHMMSSZ. */
export function keygenTime(at: Date): string {
  return `${at.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

/**
 * `-Y verify`: the signature is by a key `allowedSignersFile` lists for `principal`, in `namespace`,
 * over `payload`. `at`: judge certificate and `valid-after`/`valid-before` validity at that moment
 * (the signing time) instead of now, so a short-lived certificate's approval outlives the certificate.
 */
export async function verifySignature(
  input: SignatureInput & { readonly allowedSignersFile: string; readonly principal: string; readonly namespace?: string; readonly at?: Date },
  options: SshKeygenOptions = {},
): Promise<VerifyResult> {
  if (!isPlainPrincipal(input.principal)) return { ok: false, reason: `principal ${JSON.stringify(input.principal)} holds whitespace or control characters, which no allowed_signers principal can` };
  return withPrivateFiles({ 'approval.sig': input.signature }, async ({ 'approval.sig': sigFile }) => {
    const result = await sshKeygen(
      [
        '-Y', 'verify', '-f', input.allowedSignersFile, '-I', input.principal, '-n', input.namespace ?? APPROVAL_NAMESPACE, '-s', sigFile!,
        ...(input.at ? ['-O', `verify-time=${keygenTime(input.at)}`] : []),
      ],
      input.payload,
      options,
    );
    if (result.exitCode !== 0) return { ok: false, reason: keygenReason(result) };
    const key = signingKeyFromOutput(result.stdout);
    if (!key) return { ok: false, reason: `ssh-keygen verified the signature but did not name the signing key (${result.stdout.trim()}); ssh-keygen 8.2 or later is needed` };
    if (!namesEmbeddedKey(input.signature, key.fingerprint)) return { ok: false, reason: `ssh-keygen named key ${key.fingerprint}, not the key the signature carries` };
    return { ok: true, detail: result.stdout.trim(), ...key };
  });
}

/**
 * `-Y check-novalidate`: is the signature well-formed, in `namespace` and over exactly `payload`,
 * whoever made it? Names the signing key. Used to explain a failed verification and to learn which
 * key signed a start; never to accept an approval.
 */
export async function checkSignatureIntegrity(input: SignatureInput & { readonly namespace?: string }, options: SshKeygenOptions = {}): Promise<VerifyResult> {
  return withPrivateFiles({ 'approval.sig': input.signature }, async ({ 'approval.sig': sigFile }) => {
    const result = await sshKeygen(['-Y', 'check-novalidate', '-n', input.namespace ?? APPROVAL_NAMESPACE, '-s', sigFile!], input.payload, options);
    if (result.exitCode !== 0) return { ok: false, reason: keygenReason(result) };
    const key = signingKeyFromOutput(result.stdout);
    if (!key) return { ok: false, reason: `ssh-keygen did not name the signing key (${result.stdout.trim()})` };
    return { ok: true, detail: result.stdout.trim(), ...key };
  });
}

/** `-Y find-principals`: the principals whose allowed key made `signature` (empty when none). */
export async function findPrincipals(input: { readonly allowedSignersFile: string; readonly signature: string }, options: SshKeygenOptions = {}): Promise<string[]> {
  return withPrivateFiles({ 'approval.sig': input.signature }, async ({ 'approval.sig': sigFile }) => {
    const result = await sshKeygen(['-Y', 'find-principals', '-f', input.allowedSignersFile, '-n', APPROVAL_NAMESPACE, '-s', sigFile!], undefined, options);
    if (result.exitCode !== 0) return [];
    return result.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  });
}

export interface ListedKey {
  readonly bits: number;
  readonly fingerprint: string;
  readonly comment: string;
  /** ED25519, ECDSA, RSA, ED25519-SK, ECDSA-SK, ED25519-CERT, … */
  readonly type: string;
}

/** Parses `ssh-keygen -l` lines: `256 SHA256:… comment (ED25519)`. */
export function parseKeyList(stdout: string): ListedKey[] {
  return stdout
    .split('\n')
    .map((line) => /^(\d+) (SHA256:[A-Za-z0-9+/]+) (.*) \(([A-Z0-9-]+)\)$/.exec(line.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ bits: Number(m[1]), fingerprint: m[2]!, comment: m[3]!, type: m[4]! }));
}

/** `ssh-keygen -l -f FILE`: the keys ssh-keygen can read from a public-key file (lines it cannot read are skipped). */
export async function listKeys(file: string, options: SshKeygenOptions = {}): Promise<{ keys: ListedKey[]; error?: string }> {
  const result = await sshKeygen(['-l', '-f', file], undefined, options);
  return result.exitCode === 0 ? { keys: parseKeyList(result.stdout) } : { keys: [], error: keygenReason(result) };
}

export interface CertificateInfo {
  /** The certified key (what counts as the person). */
  readonly fingerprint: string;
  readonly caFingerprint: string;
  readonly principals: readonly string[];
  /** ssh-keygen's `Valid:` line as printed (`forever`, or `from … to …`). */
  readonly valid: string;
  readonly validFrom?: Date;
  readonly validTo?: Date;
}

/** `ssh-keygen -L`: what a certificate says (certified key, CA, principals, validity). */
export async function certificateInfo(certificateFile: string, options: SshKeygenOptions = {}): Promise<CertificateInfo | { error: string }> {
  const result = await sshKeygen(['-L', '-f', certificateFile], undefined, options);
  if (result.exitCode !== 0) return { error: keygenReason(result) };
  const text = result.stdout;
  const fingerprint = /Public key: \S+ (SHA256:[A-Za-z0-9+/]+)/.exec(text)?.[1];
  const caFingerprint = /Signing CA: \S+ (SHA256:[A-Za-z0-9+/]+)/.exec(text)?.[1];
  if (!fingerprint || !caFingerprint) return { error: `ssh-keygen -L did not describe ${certificateFile} as a certificate` };
  const principalsBlock = /Principals:\s*\n((?:\s{9,}\S.*\n?)*)/.exec(text)?.[1] ?? '';
  const principals = principalsBlock.split('\n').map((l) => l.trim()).filter((l) => l !== '' && l !== '(none)');
  const valid = /Valid: (.*)/.exec(text)?.[1]?.trim() ?? 'unknown';
  // ssh-keygen prints validity in the local time zone without an offset (JS reads it as local time too).
  const from = /(?:^from|^after) (\S+)/.exec(valid)?.[1];
  const to = /(?: to|^before) (\S+)$/.exec(valid)?.[1];
  return {
    fingerprint,
    caFingerprint,
    principals,
    valid,
    ...(from ? { validFrom: new Date(from) } : {}),
    ...(to ? { validTo: new Date(to) } : {}),
  };
}

/** What the certificate embedded in `signature` says (`ssh-keygen -L`); undefined for a plain key or one ssh-keygen cannot describe. */
export async function certificateOfSignature(signature: string, options: SshKeygenOptions = {}): Promise<CertificateInfo | undefined> {
  const embedded = embeddedKey(signature);
  if (!embedded?.isCertificate) return undefined;
  const info = await withPrivateFiles({ 'cert.pub': `${embedded.keyType} ${embedded.base64}\n` }, ({ 'cert.pub': file }) => certificateInfo(file!, options));
  return 'error' in info ? undefined : info;
}

/** `ssh-keygen -y -f KEY`: the public half of a private key file (fails on a passphrase-protected key without a terminal). */
export async function publicKeyOfPrivate(privateKeyFile: string, options: SshKeygenOptions = {}): Promise<{ line: string } | { error: string }> {
  const result = await sshKeygen(['-y', '-P', '', '-f', privateKeyFile], undefined, options);
  return result.exitCode === 0 ? { line: result.stdout.trim() } : { error: keygenReason(result) };
}

/** `ssh-add -L`: the public keys (and certificates) ssh-agent holds; `error` when there is no agent or it cannot be reached. */
export async function agentKeys(options: SshKeygenOptions = {}): Promise<{ lines: string[] } | { error: string }> {
  const env = options.env ?? process.env;
  if (!env.SSH_AUTH_SOCK) return { error: 'SSH_AUTH_SOCK is not set: no ssh-agent is reachable from this shell' };
  const result = await run('ssh-add', ['-L'], undefined, { env: options.env });
  if (result.exitCode === 1 && /no identities/i.test(`${result.stdout}${result.stderr}`)) return { lines: [] };
  if (result.exitCode !== 0) return { error: `ssh-add -L failed: ${keygenReason(result)}` };
  return { lines: result.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '') };
}
