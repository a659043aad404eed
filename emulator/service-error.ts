import { KeyrotorError } from '../pipeline/errors';

/**
 * An error the emulator answers on the wire, exactly as the AWS service would: an error code
 * (`__type` for JSON protocols, `<Code>` for STS), a message, an HTTP status and, for some
 * services, extra members (Identity Store's `Reason`). Thrown by operation handlers; the server
 * turns it into the response.
 */
export class AwsServiceError extends KeyrotorError {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly members: Readonly<Record<string, unknown>> = {},
  ) {
    super(message, { fault: status >= 500 ? 'aws' : 'operator', retryable: status >= 500 || code === 'ThrottlingException' });
  }
}

/**
 * Smithy's generic constraint error, worded like AWS's
 * ("1 validation error detected: Value '3' at 'pendingWindowInDays' failed to satisfy constraint: …").
 */
export function constraintError(member: string, value: unknown, constraint: string): AwsServiceError {
  return new AwsServiceError(
    'ValidationException',
    `1 validation error detected: Value '${String(value)}' at '${member}' failed to satisfy constraint: ${constraint}`,
  );
}

/** A required member is absent or has the wrong JSON type. */
export function requireString(input: Record<string, unknown>, member: string): string {
  const value = input[member];
  if (typeof value !== 'string' || value.length === 0) {
    throw new AwsServiceError('ValidationException', `1 validation error detected: Value null at '${lowerFirst(member)}' failed to satisfy constraint: Member must not be null`);
  }
  return value;
}

export function optionalString(input: Record<string, unknown>, member: string): string | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw constraintError(lowerFirst(member), value, 'Member must be a string');
  return value;
}

export function optionalInteger(input: Record<string, unknown>, member: string): number | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw constraintError(lowerFirst(member), value, 'Member must be an integer');
  return value;
}

export function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}
