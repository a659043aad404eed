import { KeyrotorError, type KeyrotorErrorOptions } from '../errors';

/** The Identity Center encryption switch was refused, failed or timed out; names the instance. */
export class IdentityCenterEncryptionError extends KeyrotorError {
  constructor(
    readonly instanceArn: string,
    message: string,
    options: KeyrotorErrorOptions,
    /** Set when Identity Center answered UPDATE_FAILED: its EncryptionStatusReason. The instance keeps its previous key. */
    readonly updateFailedReason?: string,
  ) {
    super(`Identity Center instance ${instanceArn}: ${message}`, options);
  }
}
