import { IdentityCenterEncryptionError } from '../../pipeline/identity-center/errors';

/**
 * `--timeout-seconds` as a number, refused before any AWS call when it is not a positive number
 * (`Number('15m')` is NaN, and a NaN deadline would never be reached).
 */
export function parseTimeoutSeconds(instanceArn: string, raw: string): number {
  const seconds = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) {
    throw new IdentityCenterEncryptionError(instanceArn, `--timeout-seconds ${JSON.stringify(raw)} is not a positive number of seconds`, {
      fault: 'operator',
      nextStep: 'pass --timeout-seconds as a number, e.g. --timeout-seconds 900',
    });
  }
  return seconds;
}
