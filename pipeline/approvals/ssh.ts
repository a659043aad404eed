/**
 * SSHSIG signing and verification through the system's `ssh-keygen` (`-Y sign`, `-Y verify`,
 * `-Y find-principals`, `-Y check-novalidate`) — the same format git uses for signed commits, so
 * approvers use the SSH key they already have and no cryptography is hand-written here.
 */
import { execa } from 'execa';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ApprovalError } from '../errors';

/** The SSHSIG namespace of keyrotor approvals: a signature made for git or anything else never verifies here. */
export const APPROVAL_NAMESPACE = 'keyrotor-approval@v1';

export interface SshKeygenOptions {
  /** ssh-keygen binary (name looked up on PATH, or a path). Default `ssh-keygen`. */
  readonly binary?: string;
  /** Environment for the child (merged over process.env); tests set PATH here. */
  readonly env?: NodeJS.ProcessEnv;
}

/** Why a signature failed, when verifyWithDiagnosis could tell. */
export type SignatureProblem = 'wrong-namespace' | 'payload-mismatch' | 'unlisted-key';

export type SignatureCheck =
  | { readonly ok: true; readonly detail: string }
  | { readonly ok: false; readonly reason: string; readonly problem?: SignatureProblem };

interface KeygenResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function sshKeygen(args: readonly string[], input: string | undefined, options: SshKeygenOptions): Promise<KeygenResult> {
  const binary = options.binary ?? 'ssh-keygen';
  const result = await execa(binary, args, { reject: false, input: input ?? '', env: options.env, stripFinalNewline: true });
  if (result.code === 'ENOENT' || (result.failed && result.exitCode === undefined)) {
    throw new ApprovalError(`cannot run ${binary}: ${result.code === 'ENOENT' ? 'not found' : result.shortMessage}; approvals are signed and verified with OpenSSH's ssh-keygen (8.2 or later)`, {
      fault: 'operator',
      nextStep: 'install openssh-client (Debian/Ubuntu: `apt-get install openssh-client`; macOS ships it) and make sure ssh-keygen is on PATH',
    });
  }
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** ssh-keygen reads signatures only from files: write it into a private (0700) temp dir, removed afterwards whatever happens. */
async function withSignatureFile<T>(signature: string, fn: (sigFile: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'keyrotor-sig-'));
  try {
    const sigFile = path.join(dir, 'approval.sig');
    await writeFile(sigFile, signature, { mode: 0o600 });
    return await fn(sigFile);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** ssh-keygen's last meaningful stderr line ("Couldn't verify signature: namespace does not match"). */
function keygenReason(result: KeygenResult): string {
  const lines = `${result.stderr}\n${result.stdout}`
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && l !== 'Could not verify signature.');
  return lines.length > 0 ? lines.join('; ') : `ssh-keygen exited with ${result.exitCode}`;
}

/** Signs `payload` (exact bytes) with the private key at `signingKeyPath` (or a .pub whose key is in ssh-agent). */
export async function signPayload(payload: string, signingKeyPath: string, options: SshKeygenOptions = {}): Promise<string> {
  const result = await sshKeygen(['-Y', 'sign', '-f', signingKeyPath, '-n', APPROVAL_NAMESPACE], payload, options);
  if (result.exitCode !== 0 || !result.stdout.includes('-----BEGIN SSH SIGNATURE-----')) {
    throw new ApprovalError(`signing with ${signingKeyPath} failed: ${keygenReason(result)}`, {
      fault: 'operator',
      nextStep: 'pass --signing-key with your SSH private key (mode 0600), or its .pub file with the key loaded in ssh-agent',
    });
  }
  return `${result.stdout.trim()}\n`;
}

export interface SignatureInput {
  readonly payload: string;
  readonly signature: string;
}

/** `-Y verify`: the signature is by a key `allowed_signers` lists for `principal`, in our namespace, over `payload`. */
export async function verifySignature(
  input: SignatureInput & { readonly allowedSignersFile: string; readonly principal: string },
  options: SshKeygenOptions = {},
): Promise<SignatureCheck> {
  return withSignatureFile(input.signature, async (sigFile) => {
    const result = await sshKeygen(
      ['-Y', 'verify', '-f', input.allowedSignersFile, '-I', input.principal, '-n', APPROVAL_NAMESPACE, '-s', sigFile],
      input.payload,
      options,
    );
    return result.exitCode === 0 ? { ok: true, detail: result.stdout.trim() } : { ok: false, reason: keygenReason(result) };
  });
}

/**
 * `-Y check-novalidate`: is the signature well-formed, in our namespace and over exactly `payload`,
 * whoever made it? Used to explain a failed verification; never to accept one.
 */
export async function checkSignatureIntegrity(input: SignatureInput, options: SshKeygenOptions = {}): Promise<SignatureCheck> {
  return withSignatureFile(input.signature, async (sigFile) => {
    const result = await sshKeygen(['-Y', 'check-novalidate', '-n', APPROVAL_NAMESPACE, '-s', sigFile], input.payload, options);
    return result.exitCode === 0 ? { ok: true, detail: result.stdout.trim() } : { ok: false, reason: keygenReason(result) };
  });
}

/** `-Y find-principals`: the principals whose allowed key made `signature` (empty when none). */
export async function findPrincipals(
  input: { readonly allowedSignersFile: string; readonly signature: string },
  options: SshKeygenOptions = {},
): Promise<string[]> {
  return withSignatureFile(input.signature, async (sigFile) => {
    const result = await sshKeygen(
      ['-Y', 'find-principals', '-f', input.allowedSignersFile, '-n', APPROVAL_NAMESPACE, '-s', sigFile],
      undefined,
      options,
    );
    if (result.exitCode !== 0) return [];
    return result.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  });
}

/**
 * Verifies like `verifySignature` and, when that fails, says which of the three ways it failed:
 * not a signature over this payload (tampered / corrupt), the wrong namespace, or a key that
 * allowed_signers does not list for the claimed principal (never allowed, or since revoked).
 */
export async function verifyWithDiagnosis(
  input: SignatureInput & { readonly allowedSignersFile: string; readonly principal: string },
  options: SshKeygenOptions = {},
): Promise<SignatureCheck> {
  const verified = await verifySignature(input, options);
  if (verified.ok) return verified;
  const integrity = await checkSignatureIntegrity(input, options);
  if (!integrity.ok) {
    if (/namespace/i.test(integrity.reason)) {
      return { ok: false, problem: 'wrong-namespace', reason: `signature is for another namespace, not "${APPROVAL_NAMESPACE}" (ssh-keygen: ${integrity.reason})` };
    }
    return { ok: false, problem: 'payload-mismatch', reason: `signature does not match the payload — the payload was modified or the signature is corrupt (ssh-keygen: ${integrity.reason})` };
  }
  const key = /key (\S+)/.exec(integrity.detail)?.[1];
  const owners = await findPrincipals(input, options);
  const byKey = key ? `the signing key ${key}` : 'the signing key';
  if (owners.length > 0) {
    return { ok: false, problem: 'unlisted-key', reason: `${byKey} belongs to ${owners.join(', ')} in allowed_signers, not to ${input.principal}` };
  }
  return {
    ok: false,
    problem: 'unlisted-key',
    reason: `${byKey} is not listed for ${input.principal} in allowed_signers (never added, or removed since it signed)${verified.reason.startsWith('ssh-keygen exited') ? '' : ` (ssh-keygen: ${verified.reason})`}`,
  };
}

/** The comment of the public key next to `signingKeyPath` (`KEY.pub`, or the file itself if it is a .pub), if any. */
export async function publicKeyComment(signingKeyPath: string): Promise<string | undefined> {
  const pub = signingKeyPath.endsWith('.pub') ? signingKeyPath : `${signingKeyPath}.pub`;
  let text: string;
  try {
    text = await readFile(pub, 'utf8');
  } catch {
    return undefined;
  }
  const comment = text.trim().split(/\s+/).slice(2).join(' ');
  return comment === '' ? undefined : comment;
}
