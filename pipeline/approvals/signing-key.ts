/**
 * The approver's signing key, found and checked before anything is shown or signed: the file
 * exists and is a key, its public half is known, the private half is reachable (next to it, or in
 * ssh-agent), and allowed_signers lists it for the claimed principal. Supports plain keys
 * (ed25519, ecdsa, rsa), keys held only in ssh-agent (pass the .pub; `--agent` forces the agent),
 * OpenSSH certificates (`KEY-cert.pub`, used when the run trusts the CA rather than the key) and
 * FIDO security keys (`sk-ssh-ed25519@openssh.com`, `sk-ecdsa-sha2-nistp256@openssh.com`: the file
 * holds a key handle and the device signs; ssh-keygen asks for a touch).
 */
import { access, readFile, stat } from 'node:fs/promises';
import { constants } from 'node:fs';
import { ApprovalError } from '../errors';
import {
  entriesFor,
  entryRestriction,
  isPattern,
  keyFingerprint,
  principalAsListed,
  type AllowedSigner,
} from './allowed-signers';
import { agentKeys, APPROVAL_NAMESPACE, certificateInfo, publicKeyOfPrivate, type CertificateInfo, type SshKeygenOptions } from './ssh';

export interface SigningKey {
  /** The file given. */
  readonly path: string;
  /** What `ssh-keygen -Y sign -f` receives (the private key, the .pub, or the certificate). */
  readonly signWith: string;
  /** Sign through ssh-agent only (`-U`). */
  readonly agent: boolean;
  /** `type base64` of the public key (the plain key, even when signing with its certificate). */
  readonly publicKey: string;
  readonly keyType: string;
  /** The key's fingerprint (for a certificate, the certified key's): how the gate counts people. */
  readonly fingerprint: string;
  readonly comment?: string;
  /** A FIDO security key (`sk-…`): the device must be present and will ask for a touch. */
  readonly hardware: boolean;
  /** The certificate to sign with, when there is one (`--signing-key` names it, or `KEY-cert.pub` sits beside the key). */
  readonly certificate?: { readonly path: string; readonly info: CertificateInfo };
  /** Where the private half is, in words. */
  readonly privateHalf: string;
}

function refuse(message: string, nextStep: string): never {
  throw new ApprovalError(message, { fault: 'operator', nextStep });
}

const PRIVATE_KEY = /^-----BEGIN (OPENSSH|RSA|EC|DSA|ENCRYPTED)? ?PRIVATE KEY-----/;
const PUBLIC_LINE = /^(ssh-[a-z0-9-]+(?:@openssh\.com)?|ecdsa-sha2-nistp\d+(?:-cert-v01@openssh\.com)?|sk-(?:ssh-ed25519|ecdsa-sha2-nistp256)(?:-cert-v01)?@openssh\.com|rsa-sha2-\d+(?:-cert-v01@openssh\.com)?)\s+([A-Za-z0-9+/=]+)(?:\s+(.*))?$/;

/** The key type a certificate type certifies: `ssh-ed25519-cert-v01@openssh.com` → `ssh-ed25519`, `sk-ssh-ed25519-cert-v01@openssh.com` → `sk-ssh-ed25519@openssh.com`. */
function plainKeyType(type: string): string {
  if (!type.includes('-cert-v01@openssh.com')) return type;
  const bare = type.replace('-cert-v01@openssh.com', '');
  return bare.startsWith('sk-') ? `${bare}@openssh.com` : bare;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

function parsePublicLine(text: string, file: string): { keyType: string; base64: string; comment?: string } {
  const line = text.split(/\r?\n/).map((l) => l.trim()).find((l) => l !== '' && !l.startsWith('#')) ?? '';
  const m = PUBLIC_LINE.exec(line);
  if (!m) refuse(`${file} is not an OpenSSH public key (expected "key-type base64 [comment]" on one line)`, 'pass your private key, or the .pub file ssh-keygen wrote next to it');
  return { keyType: m[1]!, base64: m[2]!, ...(m[3] ? { comment: m[3] } : {}) };
}

/** The plain public key a certificate certifies, as `type base64` (from ssh-keygen -L's fingerprint only; the line itself comes from the .pub beside it when present). */
async function certificateOf(file: string, ssh: SshKeygenOptions | undefined): Promise<CertificateInfo> {
  const info = await certificateInfo(file, ssh);
  if ('error' in info) refuse(`${file} looks like an OpenSSH certificate but ssh-keygen cannot read it: ${info.error}`, 'ask your CA for a fresh certificate, or sign with the plain key');
  return info;
}

async function agentHolds(base64s: readonly string[], ssh: SshKeygenOptions | undefined): Promise<{ held: boolean; error?: string }> {
  const listed = await agentKeys(ssh);
  if ('error' in listed) return { held: false, error: listed.error };
  return { held: listed.lines.some((l) => base64s.includes(l.split(/\s+/)[1] ?? '')) };
}

/** Finds and checks the key at `file` (see the module comment). Every refusal names the real problem. */
export async function resolveSigningKey(file: string, options: { agent?: boolean; ssh?: SshKeygenOptions } = {}): Promise<SigningKey> {
  const ssh = options.ssh;
  let info;
  try {
    info = await stat(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    refuse(
      code === 'ENOENT' ? `the signing key ${file} does not exist` : `the signing key ${file} cannot be read (${code ?? (error as Error).message})`,
      'pass --signing-key with the path of your SSH private key (e.g. ~/.ssh/id_ed25519), or of its .pub when the key is in ssh-agent',
    );
  }
  if (info.isDirectory()) refuse(`the signing key ${file} is a directory`, 'pass the key file itself, e.g. ~/.ssh/id_ed25519');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    refuse(`the signing key ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, `check its permissions (\`ls -l ${file}\`)`);
  }

  if (PRIVATE_KEY.test(text.trimStart())) {
    const pubFile = `${file}.pub`;
    let pub: { keyType: string; base64: string; comment?: string };
    if (await exists(pubFile)) {
      pub = parsePublicLine(await readFile(pubFile, 'utf8'), pubFile);
    } else {
      const derived = await publicKeyOfPrivate(file, ssh);
      if ('error' in derived) {
        refuse(
          `the public half of ${file} is unknown: ${pubFile} does not exist and ssh-keygen cannot derive it without the passphrase (${derived.error})`,
          `write it once with \`ssh-keygen -y -f ${file} > ${pubFile}\`, then run the command again`,
        );
      }
      pub = parsePublicLine(derived.line, file);
    }
    const certFile = `${file}-cert.pub`;
    const certificate = (await exists(certFile)) ? { path: certFile, info: await certificateOf(certFile, ssh) } : undefined;
    if (options.agent) {
      const agent = await agentHolds([pub.base64], ssh);
      if (!agent.held) refuse(`--agent: ssh-agent does not hold ${file}${agent.error ? ` (${agent.error})` : ''}`, `load it with \`ssh-add ${file}\`, or leave out --agent to sign from the file`);
    }
    return {
      path: file,
      signWith: options.agent ? (await exists(pubFile) ? pubFile : file) : file,
      agent: options.agent ?? false,
      publicKey: `${pub.keyType} ${pub.base64}`,
      keyType: pub.keyType,
      fingerprint: keyFingerprint(pub.base64),
      ...(pub.comment ? { comment: pub.comment } : {}),
      hardware: pub.keyType.startsWith('sk-'),
      ...(certificate ? { certificate } : {}),
      privateHalf: options.agent ? 'in ssh-agent' : `in ${file}`,
    };
  }

  // A public key or certificate: the private half must be in ssh-agent or in the file beside it.
  const pub = parsePublicLine(text, file);
  const isCert = pub.keyType.includes('-cert-v01@openssh.com');
  const stem = file.replace(/-cert\.pub$/, '').replace(/\.pub$/, '');
  const certificate = isCert ? { path: file, info: await certificateOf(file, ssh) } : undefined;
  let plain = isCert ? undefined : pub;
  if (isCert && (await exists(`${stem}.pub`))) plain = parsePublicLine(await readFile(`${stem}.pub`, 'utf8'), `${stem}.pub`);
  const agent = await agentHolds([pub.base64, ...(plain ? [plain.base64] : [])], ssh);
  const privateFile = stem !== file && (await exists(stem)) ? stem : undefined;
  if (!agent.held && (options.agent || !privateFile)) {
    const hardware = pub.keyType.startsWith('sk-');
    refuse(
      `the private half of ${file} is not reachable: ${agent.error ?? 'ssh-agent does not hold it'}${options.agent ? '' : `, and ${stem !== file ? stem : 'no private key file'} ${stem !== file ? 'does not exist' : 'sits beside it'}`}`,
      hardware
        ? `plug in the security key and load it (\`ssh-add ${stem}\`, or \`ssh-add -K\` for a resident key), or pass the key-handle file ${stem}`
        : `load the key with \`ssh-add ${stem}\` (SSH_AUTH_SOCK must reach the agent), or pass the private key file with --signing-key`,
    );
  }
  const fingerprint = certificate ? certificate.info.fingerprint : keyFingerprint(pub.base64);
  return {
    path: file,
    signWith: file,
    agent: options.agent ?? false,
    publicKey: plain ? `${plain.keyType} ${plain.base64}` : `${pub.keyType} ${pub.base64}`,
    keyType: plain?.keyType ?? plainKeyType(pub.keyType),
    fingerprint,
    ...(pub.comment ? { comment: pub.comment } : {}),
    hardware: pub.keyType.startsWith('sk-'),
    ...(certificate ? { certificate } : {}),
    privateHalf: agent.held ? 'in ssh-agent' : `in ${privateFile}`,
  };
}

export interface Listing {
  /** The principal to sign as (as allowed_signers spells it, or the approver's spelling for a pattern). */
  readonly principal: string;
  /** Sign with the certificate (the run trusts its CA) or the plain key. */
  readonly useCertificate: boolean;
  /** How the key is listed, in words. */
  readonly how: string;
}

/** The literal principals allowed_signers lists `key` under (plain entries), or its certificate's principals the run's CAs accept. */
export function principalsFor(key: SigningKey, signers: readonly AllowedSigner[]): string[] {
  const literal = signers.filter((s) => !s.certAuthority && s.fingerprint === key.fingerprint).flatMap((s) => s.principals.filter((p) => !isPattern(p)));
  const viaCert = key.certificate
    ? key.certificate.info.principals.filter((p) => signers.some((s) => s.certAuthority && s.fingerprint === key.certificate!.info.caFingerprint && entriesFor([s], p).length > 0))
    : [];
  return [...new Set([...literal, ...viaCert])];
}

/**
 * Checks that `signers` (the run's recorded allowed_signers) accept `key` for `claimed` at `now`,
 * before anything is shown; refuses with the exact reason otherwise.
 */
export function checkListed(key: SigningKey, claimed: string, signers: readonly AllowedSigner[], now: Date, source: string): Listing {
  const principal = principalAsListed(signers, claimed) ?? claimed;
  const accepting = entriesFor(signers, principal);
  const direct = accepting.filter((s) => !s.certAuthority && s.fingerprint === key.fingerprint);
  const restrictions: string[] = [];
  for (const entry of direct) {
    const restriction = entryRestriction(entry, APPROVAL_NAMESPACE, now);
    if (!restriction) return { principal, useCertificate: false, how: `key ${key.fingerprint} is listed for ${principal} (line ${entry.line})` };
    restrictions.push(restriction);
  }
  const cert = key.certificate;
  if (cert) {
    const cas = accepting.filter((s) => s.certAuthority && s.fingerprint === cert.info.caFingerprint);
    for (const ca of cas) {
      const restriction = entryRestriction(ca, APPROVAL_NAMESPACE, now);
      if (restriction) {
        restrictions.push(restriction);
        continue;
      }
      if (!cert.info.principals.includes(principal)) {
        restrictions.push(`your certificate ${cert.path} names ${cert.info.principals.join(', ') || 'no principal'}, not ${principal}`);
        continue;
      }
      if ((cert.info.validFrom && now < cert.info.validFrom) || (cert.info.validTo && now > cert.info.validTo)) {
        restrictions.push(`your certificate ${cert.path} is valid ${cert.info.valid}, not now`);
        continue;
      }
      return { principal, useCertificate: true, how: `certificate ${cert.path} for key ${key.fingerprint}, signed by CA ${ca.fingerprint} trusted for ${ca.principals.join(',')} (line ${ca.line})` };
    }
  }
  const next = `fix the entry through a pull request to allowed_signers (approvers/README.md); a run keeps the copy it recorded at start, so a fixed entry counts only on a new or re-planned run`;
  if (restrictions.length > 0) refuse(`your key is listed for ${principal} in ${source}, but not for approvals: ${restrictions.join('; ')}`, next);
  const listedAs = principalsFor(key, signers);
  if (listedAs.length > 0) refuse(`your key ${key.fingerprint} is listed in ${source} for ${listedAs.join(', ')}, not for ${principal}`, `sign as yourself: \`--as ${listedAs[0]}\``);
  if (accepting.length > 0) {
    refuse(
      `${principal} is listed in ${source} with key ${accepting.map((s) => `${s.fingerprint}${s.certAuthority ? ' (a CA)' : ''}`).join(', ')}, but you are signing with key ${key.fingerprint} (${key.path})`,
      accepting.some((s) => s.certAuthority) ? `sign with a certificate from that CA for ${principal} (KEY-cert.pub beside your key)` : `sign with the key listed for ${principal}, or get your key listed through a pull request`,
    );
  }
  refuse(`${principal} is not listed in ${source}`, `check --as (principals there: ${[...new Set(signers.flatMap((s) => s.principals))].join(', ') || 'none'}); to be added, open a pull request (approvers/README.md)`);
}
