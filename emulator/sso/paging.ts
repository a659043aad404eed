import { AwsServiceError, optionalInteger, optionalString } from '../service-error';

/**
 * MaxResults (1–100) / NextToken paging as SSO Admin and Identity Store page their lists; the
 * emulator's token is the next index.
 */
export function pageByToken<T>(items: readonly T[], input: Record<string, unknown>): { items: T[]; NextToken?: string } {
  const max = optionalInteger(input, 'MaxResults') ?? 100;
  if (max < 1 || max > 100) throw new AwsServiceError('ValidationException', `MaxResults ${max} must be between 1 and 100.`);
  const token = optionalString(input, 'NextToken');
  const start = token === undefined ? 0 : Number.parseInt(token, 10);
  if (!Number.isInteger(start) || start < 0 || start > items.length) throw new AwsServiceError('ValidationException', `NextToken ${token} is not valid.`);
  const slice = items.slice(start, start + max);
  return { items: slice, NextToken: start + slice.length < items.length ? String(start + slice.length) : undefined };
}
