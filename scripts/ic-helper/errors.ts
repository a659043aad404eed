import { KeyrotorError, type KeyrotorErrorOptions } from '../../pipeline/errors';

/** The Identity Center encryption switch was refused, failed or timed out; names the instance. */
export class IdentityCenterEncryptionError extends KeyrotorError {
  constructor(
    readonly instanceArn: string,
    message: string,
    options: KeyrotorErrorOptions,
  ) {
    super(`Identity Center instance ${instanceArn}: ${message}`, options);
  }
}
