/**
 * Reads the one thing keyrotor needs from an armored SSH signature without ssh-keygen: the public
 * key (or certificate) embedded in it (PROTOCOL.sshsig: "SSHSIG", version, publickey, namespace,
 * reserved, hash_algorithm, signature). Used only to explain a refusal — which certificate signed —
 * never to decide that a signature is valid.
 */

function readString(buf: Buffer, at: number): { value: Buffer; next: number } | undefined {
  if (at + 4 > buf.length) return undefined;
  const length = buf.readUInt32BE(at);
  if (at + 4 + length > buf.length) return undefined;
  return { value: buf.subarray(at + 4, at + 4 + length), next: at + 4 + length };
}

export interface EmbeddedKey {
  /** e.g. `ssh-ed25519`, `ssh-ed25519-cert-v01@openssh.com`, `sk-ssh-ed25519@openssh.com`. */
  readonly keyType: string;
  /** The public key blob, base64 (an OpenSSH public-key line is `keyType base64`). */
  readonly base64: string;
  readonly namespace: string;
  readonly isCertificate: boolean;
}

/** The SSHSIG blob inside an armored signature, from its magic on (fields start at byte 10); undefined when it is not one. */
function sshsigBlob(armored: string): Buffer | undefined {
  const body = /-----BEGIN SSH SIGNATURE-----([\s\S]*?)-----END SSH SIGNATURE-----/.exec(armored)?.[1];
  if (!body) return undefined;
  const blob = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  return blob.subarray(0, 6).toString('latin1') === 'SSHSIG' && blob.length >= 10 ? blob : undefined;
}

export function embeddedKey(armored: string): EmbeddedKey | undefined {
  const blob = sshsigBlob(armored);
  if (!blob) return undefined;
  const publicKey = readString(blob, 10);
  if (!publicKey) return undefined;
  const namespace = readString(blob, publicKey.next);
  const keyType = readString(publicKey.value, 0);
  if (!namespace || !keyType) return undefined;
  const type = keyType.value.toString('latin1');
  return { keyType: type, base64: publicKey.value.toString('base64'), namespace: namespace.value.toString('utf8'), isCertificate: type.includes('-cert-v01@openssh.com') };
}

/**
 * For a signature made by a FIDO security key (`sk-…` types): whether the key reported user
 * presence (a touch) for it — the flags byte after the signature, bit 0 (PROTOCOL.u2f). ssh-keygen
 * -Y verify does not look at it; an approval must be a person's act, so the gate does. Undefined
 * for any other key type or an unreadable signature.
 */
export function securityKeyTouched(armored: string): boolean | undefined {
  const blob = sshsigBlob(armored);
  if (!blob) return undefined;
  let at = 10;
  for (let field = 0; field < 4; field++) {
    const skipped = readString(blob, at); // publickey, namespace, reserved, hash_algorithm
    if (!skipped) return undefined;
    at = skipped.next;
  }
  const signature = readString(blob, at);
  if (!signature) return undefined;
  const type = readString(signature.value, 0);
  if (!type || !type.value.toString('latin1').startsWith('sk-')) return undefined;
  const raw = readString(signature.value, type.next);
  if (!raw || raw.next + 5 > signature.value.length) return undefined;
  return (signature.value[raw.next]! & 0x01) === 0x01;
}
