import { randomBytes } from 'node:crypto';
import { member, type OperationContext, type OperationTable } from '../operation';
import { AwsServiceError, constraintError, optionalInteger, optionalString, requireString } from '../service-error';
import { open, parseCiphertext, seal, type EncryptionContext } from './ciphertext';
import { assertCrossAccountUse } from './cross-account';
import type { KeyStore, KmsKey } from './key-store';
import { assertSymmetricEncryption, assertUsable } from './rules';

type Input = Record<string, unknown>;

function blob(input: Input, name: string): Buffer {
  const value = requireString(input, name);
  return Buffer.from(value, 'base64');
}

function encryptionContext(input: Input, name: string): EncryptionContext | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw constraintError(name.charAt(0).toLowerCase() + name.slice(1), JSON.stringify(value), 'Member must be a map of string to string');
  }
  return value as EncryptionContext;
}

/** Every successful cryptographic use is what GetKeyLastUsage reports. */
function recordUse(key: KmsKey, operation: string, ctx: OperationContext): void {
  key.lastUsage = { operation, at: ctx.now(), requestId: ctx.requestId };
}

/**
 * Looks a key up for cryptographic use: it must exist, be Enabled and be a symmetric encryption key.
 * `action` is the permission checked across accounts when it differs from the operation (ReEncryptTo).
 */
function usableKey(store: KeyStore, keyId: string, operation: string, ctx: OperationContext, action = operation): KmsKey {
  const key = store.resolve(ctx.caller, keyId, { allowAlias: true, operation: action });
  assertUsable(key);
  assertSymmetricEncryption(key, operation);
  return key;
}

/** Seals `plaintext` under the key's current material (the newest rotation's). */
function sealWith(key: KmsKey, plaintext: Buffer, context: EncryptionContext | undefined): Buffer {
  const material = key.material.current;
  return seal({ account: key.account, keyId: key.keyId, materialId: material.id }, material.bytes, plaintext, context);
}

/**
 * Decrypt API reference: KeyId is optional for symmetric ciphertexts (the key is found from the
 * blob, in the caller's Region: a multi-Region ciphertext decrypts under any related key); when
 * given it must name that key (IncorrectKeyException); a wrong encryption context or a tampered
 * blob is InvalidCiphertextException. A key that does not exist in this Region, or of another
 * account whose policy does not allow the caller, is AccessDeniedException worded as KMS words it.
 * `action` is the permission checked across accounts (kms:Decrypt, or kms:ReEncryptFrom).
 */
function decryptBlob(store: KeyStore, ciphertext: Buffer, context: EncryptionContext | undefined, keyId: string | undefined, ctx: OperationContext, action: string) {
  const parsed = parseCiphertext(ciphertext);
  if (!parsed) throw new AwsServiceError('InvalidCiphertextException', 'The ciphertext is not a KMS ciphertext, or it was corrupted.');
  const embedded = store.get({ account: parsed.by.account, region: ctx.caller.region }, parsed.by.keyId);
  if (!embedded) {
    throw new AwsServiceError('AccessDeniedException', 'The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.');
  }
  if (embedded.account !== ctx.caller.account) assertCrossAccountUse(embedded, ctx.caller, action);
  if (keyId !== undefined) {
    const named = store.resolve(ctx.caller, keyId, { allowAlias: true, operation: action });
    if (named !== embedded) {
      throw new AwsServiceError('IncorrectKeyException', `The ciphertext was encrypted under ${embedded.arn}, not the KeyId given (${named.arn}).`);
    }
  }
  assertUsable(embedded);
  const material = embedded.material.find(parsed.by.materialId);
  const plaintext = material && open(parsed, material.bytes, context);
  if (!plaintext) {
    throw new AwsServiceError('InvalidCiphertextException', 'The ciphertext could not be authenticated: the encryption context differs from the one used to encrypt, or the ciphertext was modified.');
  }
  recordUse(embedded, action === 'Decrypt' ? 'Decrypt' : 'ReEncrypt', ctx);
  return { key: embedded, plaintext };
}

/** Encrypt, Decrypt, GenerateDataKey(WithoutPlaintext), ReEncrypt with real AES-256-GCM per key. */
export function cryptoOperations(store: KeyStore): OperationTable {
  const generateDataKey = (withPlaintext: boolean) => (input: Input, ctx: OperationContext) => {
    const operation = withPlaintext ? 'GenerateDataKey' : 'GenerateDataKeyWithoutPlaintext';
    const key = usableKey(store, requireString(input, 'KeyId'), operation, ctx);
    // GenerateDataKey API reference: exactly one of KeySpec (AES_128 | AES_256) or NumberOfBytes (1–1024).
    const spec = optionalString(input, 'KeySpec');
    const bytes = optionalInteger(input, 'NumberOfBytes');
    if ((spec === undefined) === (bytes === undefined)) {
      throw new AwsServiceError('ValidationException', 'Specify either KeySpec or NumberOfBytes, but not both.');
    }
    if (spec !== undefined && spec !== 'AES_128' && spec !== 'AES_256') throw constraintError('keySpec', spec, 'Member must satisfy enum value set: [AES_256, AES_128]');
    if (bytes !== undefined && (bytes < 1 || bytes > 1024)) throw constraintError('numberOfBytes', bytes, 'Member must have value between 1 and 1024');
    const plaintext = randomBytes(bytes ?? (spec === 'AES_128' ? 16 : 32));
    const ciphertext = sealWith(key, plaintext, encryptionContext(input, 'EncryptionContext'));
    recordUse(key, operation, ctx);
    return {
      KeyId: key.arn,
      CiphertextBlob: ciphertext.toString('base64'),
      Plaintext: withPlaintext ? plaintext.toString('base64') : undefined,
    };
  };

  return {
    // Encrypt API reference: at most 4096 bytes of plaintext; EncryptionContext is bound to the ciphertext.
    Encrypt: {
      mutating: false,
      target: member('KeyId'),
      handle: (input, ctx) => {
        const key = usableKey(store, requireString(input, 'KeyId'), 'Encrypt', ctx);
        const plaintext = blob(input, 'Plaintext');
        if (plaintext.length < 1 || plaintext.length > 4096) throw constraintError('plaintext', `${plaintext.length} bytes`, 'Member must have length between 1 and 4096');
        const ciphertext = sealWith(key, plaintext, encryptionContext(input, 'EncryptionContext'));
        recordUse(key, 'Encrypt', ctx);
        return { KeyId: key.arn, CiphertextBlob: ciphertext.toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
      },
    },
    Decrypt: {
      mutating: false,
      target: member('KeyId'),
      handle: (input, ctx) => {
        const { key, plaintext } = decryptBlob(store, blob(input, 'CiphertextBlob'), encryptionContext(input, 'EncryptionContext'), optionalString(input, 'KeyId'), ctx, 'Decrypt');
        return { KeyId: key.arn, Plaintext: plaintext.toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
      },
    },
    GenerateDataKey: { mutating: false, target: member('KeyId'), handle: generateDataKey(true) },
    GenerateDataKeyWithoutPlaintext: { mutating: false, target: member('KeyId'), handle: generateDataKey(false) },
    // ReEncrypt API reference: decrypt under the source key (and source context), encrypt under the
    // destination key (and destination context) without exposing the plaintext.
    ReEncrypt: {
      mutating: false,
      target: member('DestinationKeyId'),
      handle: (input, ctx) => {
        const source = decryptBlob(
          store, blob(input, 'CiphertextBlob'), encryptionContext(input, 'SourceEncryptionContext'), optionalString(input, 'SourceKeyId'), ctx, 'ReEncryptFrom',
        );
        const destination = usableKey(store, requireString(input, 'DestinationKeyId'), 'ReEncrypt', ctx, 'ReEncryptTo');
        const ciphertext = sealWith(destination, source.plaintext, encryptionContext(input, 'DestinationEncryptionContext'));
        recordUse(destination, 'ReEncrypt', ctx);
        return {
          CiphertextBlob: ciphertext.toString('base64'),
          SourceKeyId: source.key.arn,
          KeyId: destination.arn,
          SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
          DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        };
      },
    },
  };
}
