import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * The emulator's ciphertext blob: a version byte, a header naming the key's account, key id and
 * key material (so Decrypt can find the key without a KeyId, as KMS embeds key metadata in
 * symmetric ciphertexts — Decrypt API reference — and can pick the material a rotation retired),
 * a 12-byte IV, the 16-byte GCM tag and the AES-256-GCM ciphertext. The Region is not in it: a
 * multi-Region key's ciphertext decrypts under the related key of any Region. The encryption
 * context is bound as additional authenticated data, so a different context fails authentication
 * exactly like KMS's InvalidCiphertextException.
 */
const VERSION = 2;

/** Which key and key material sealed a ciphertext. */
export interface SealedBy {
  readonly account: string;
  readonly keyId: string;
  readonly materialId: string;
}

export type EncryptionContext = Readonly<Record<string, string>>;

/** Canonical bytes of an encryption context: order of pairs never matters (KMS treats it as a map). */
export function contextAad(context: EncryptionContext | undefined): Buffer {
  const pairs = Object.entries(context ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(JSON.stringify(pairs), 'utf8');
}

export function seal(by: SealedBy, material: Buffer, plaintext: Buffer, context: EncryptionContext | undefined): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', material, iv);
  cipher.setAAD(contextAad(context));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const header = Buffer.from(`${by.account}:${by.keyId}:${by.materialId}`, 'utf8');
  return Buffer.concat([Buffer.from([VERSION, header.length]), header, iv, cipher.getAuthTag(), body]);
}

export interface ParsedCiphertext {
  readonly by: SealedBy;
  readonly iv: Buffer;
  readonly tag: Buffer;
  readonly body: Buffer;
}

/** Undefined when the blob is not one of ours (truncated, wrong version). */
export function parseCiphertext(blob: Buffer): ParsedCiphertext | undefined {
  if (blob.length < 2 || blob[0] !== VERSION) return undefined;
  const idLength = blob[1]!;
  const headerEnd = 2 + idLength + 12 + 16;
  if (blob.length < headerEnd) return undefined;
  const [account, keyId, materialId] = blob.subarray(2, 2 + idLength).toString('utf8').split(':');
  if (!account || !keyId || !materialId) return undefined;
  return {
    by: { account, keyId, materialId },
    iv: blob.subarray(2 + idLength, 2 + idLength + 12),
    tag: blob.subarray(2 + idLength + 12, headerEnd),
    body: blob.subarray(headerEnd),
  };
}

/** Undefined when authentication fails (wrong key, wrong context, tampered blob). */
export function open(parsed: ParsedCiphertext, material: Buffer, context: EncryptionContext | undefined): Buffer | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', material, parsed.iv);
    decipher.setAAD(contextAad(context));
    decipher.setAuthTag(parsed.tag);
    return Buffer.concat([decipher.update(parsed.body), decipher.final()]);
  } catch {
    return undefined;
  }
}
