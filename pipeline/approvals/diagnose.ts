/**
 * Why ssh-keygen refused a signature, in exact words. ssh-keygen only says "Could not verify
 * signature"; this module finds out which of these it was, so whoever reads the refusal knows what
 * to fix: a tampered payload, another namespace, a key listed for someone else, a principal listed
 * with another key, an entry restricted to other namespaces or to another time, a certificate from
 * an untrusted CA or naming other principals, or outside its validity.
 */
import { entriesFor, entryRestriction, type AllowedSigner } from './allowed-signers';
import { APPROVAL_NAMESPACE, certificateOfSignature, checkSignatureIntegrity, type SshKeygenOptions } from './ssh';
import { embeddedKey } from './sshsig';

export type SignatureProblem =
  | 'wrong-namespace' // signed for another namespace (e.g. a git commit signature)
  | 'bad-signature' // payload modified after signing, or a corrupt signature
  | 'not-allowed' // the principal is not in allowed_signers at all
  | 'unlisted-key' // signed by a key (or CA) allowed_signers does not list for that principal
  | 'namespace-restricted' // listed, but the entry's namespaces= excludes keyrotor approvals
  | 'key-not-valid'; // listed, but valid-after/valid-before or the certificate's validity excludes the signing time

export interface Diagnosis {
  readonly problem: SignatureProblem;
  readonly reason: string;
  readonly fingerprint?: string;
  readonly keyType?: string;
}

function namespaceOrTime(restriction: string): SignatureProblem {
  return /namespaces=/.test(restriction) ? 'namespace-restricted' : 'key-not-valid';
}

async function diagnoseCertificate(
  signature: string,
  principal: string,
  fingerprint: string,
  signers: readonly AllowedSigner[],
  at: Date,
  ssh: SshKeygenOptions | undefined,
): Promise<Diagnosis | undefined> {
  const keyType = embeddedKey(signature)?.keyType;
  const info = await certificateOfSignature(signature, ssh);
  if (!info || keyType === undefined) return undefined;
  const base = { fingerprint, keyType };
  const trusted = signers.filter((s) => s.certAuthority && s.fingerprint === info.caFingerprint);
  if (trusted.length === 0) {
    return { ...base, problem: 'unlisted-key', reason: `signed with a certificate (key ${fingerprint}) from CA ${info.caFingerprint}, which allowed_signers does not trust (no cert-authority entry with that key)` };
  }
  const forPrincipal = trusted.filter((s) => entriesFor([s], principal).length > 0);
  if (forPrincipal.length === 0) {
    return { ...base, problem: 'unlisted-key', reason: `CA ${info.caFingerprint} is trusted in allowed_signers for ${trusted.map((s) => s.principals.join(',')).join('; ')} (line ${trusted.map((s) => s.line).join(', ')}), not for ${principal}` };
  }
  if (!info.principals.includes(principal)) {
    return { ...base, problem: 'unlisted-key', reason: `the certificate for key ${fingerprint} names ${info.principals.length > 0 ? info.principals.join(', ') : 'no principal'}, not ${principal}` };
  }
  const restriction = forPrincipal.map((s) => entryRestriction(s, APPROVAL_NAMESPACE, at)).find((r) => r !== undefined);
  if (restriction && forPrincipal.every((s) => entryRestriction(s, APPROVAL_NAMESPACE, at) !== undefined)) {
    return { ...base, problem: namespaceOrTime(restriction), reason: restriction };
  }
  if ((info.validFrom && at < info.validFrom) || (info.validTo && at > info.validTo)) {
    return { ...base, problem: 'key-not-valid', reason: `the certificate for key ${fingerprint} is valid ${info.valid} (local time), not at the signing time ${at.toISOString()}` };
  }
  return undefined;
}

/**
 * Explains a signature ssh-keygen refused for `principal` against the entries `signers`. `at` is
 * the time validity was judged at. `fallback` is ssh-keygen's own message, used when nothing more
 * precise can be said.
 */
export async function diagnoseRefusal(
  input: { readonly payload: string; readonly signature: string; readonly principal: string; readonly at: Date; readonly fallback: string },
  signers: readonly AllowedSigner[],
  ssh?: SshKeygenOptions,
): Promise<Diagnosis> {
  const integrity = await checkSignatureIntegrity({ payload: input.payload, signature: input.signature }, ssh);
  if (!integrity.ok) {
    if (/namespace/i.test(integrity.reason)) {
      const other = embeddedKey(input.signature)?.namespace;
      return { problem: 'wrong-namespace', reason: `signature is for namespace "${other ?? 'another'}", not "${APPROVAL_NAMESPACE}" (ssh-keygen: ${integrity.reason})` };
    }
    if (/unsupported .*signature algorithm|signature algorithm .* not (allowed|supported)/i.test(integrity.reason)) {
      return { problem: 'bad-signature', reason: `signed with an algorithm ssh-keygen refuses (ssh-keygen: ${integrity.reason}); sign again with \`rotate approve\` (an RSA key signs with rsa-sha2-512, never SHA-1) or an ed25519 key` };
    }
    return { problem: 'bad-signature', reason: `signature does not match the payload — the payload was modified or the signature is corrupt (ssh-keygen: ${integrity.reason})` };
  }
  const { fingerprint, keyType } = integrity;
  const base = { fingerprint, keyType };
  const certificate = await diagnoseCertificate(input.signature, input.principal, fingerprint, signers, input.at, ssh);
  if (certificate) return certificate;

  const accepting = entriesFor(signers, input.principal);
  const direct = accepting.filter((s) => !s.certAuthority && s.fingerprint === fingerprint);
  if (direct.length > 0) {
    const restriction = direct.map((s) => entryRestriction(s, APPROVAL_NAMESPACE, input.at)).find((r) => r !== undefined);
    if (restriction) return { ...base, problem: namespaceOrTime(restriction), reason: restriction };
  }
  const elsewhere = signers.filter((s) => !s.certAuthority && s.fingerprint === fingerprint);
  if (direct.length === 0 && elsewhere.length > 0) {
    return { ...base, problem: 'unlisted-key', reason: `the signing key ${fingerprint} is listed in allowed_signers for ${elsewhere.map((s) => s.principals.join(',')).join('; ')}, not for ${input.principal}` };
  }
  if (accepting.length === 0) {
    return { ...base, problem: 'not-allowed', reason: `${input.principal} is not in the run's allowed_signers (never added, or removed before the run started)` };
  }
  if (direct.length === 0) {
    const keys = accepting.map((s) => `${s.fingerprint}${s.certAuthority ? ' (CA)' : ''}`).join(', ');
    return { ...base, problem: 'unlisted-key', reason: `${input.principal} is listed with key ${keys}, but the approval was signed with key ${fingerprint} (a forgery, or a key that is not theirs)` };
  }
  return { ...base, problem: 'unlisted-key', reason: `ssh-keygen refused key ${fingerprint} for ${input.principal}: ${input.fallback}` };
}

