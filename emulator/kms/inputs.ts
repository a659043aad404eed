import type { OperationContext } from '../operation';
import { AwsServiceError, constraintError, optionalInteger, optionalString, requireString } from '../service-error';
import type { KeyStore, KmsKey } from './key-store';

type Input = Record<string, unknown>;

/** The key a key-id-only operation names (key id or key ARN, not an alias). */
export function keyById(store: KeyStore, input: Input, ctx: OperationContext, operation: string): KmsKey {
  return store.resolve(ctx.caller, requireString(input, 'KeyId'), { allowAlias: false, operation });
}

/** Tags as KMS takes them: [{TagKey, TagValue}]; "aws:" keys are reserved (TagResource API reference). */
export function parseTags(raw: unknown): Map<string, string> {
  const tags = new Map<string, string>();
  if (raw === undefined || raw === null) return tags;
  if (!Array.isArray(raw)) throw constraintError('tags', raw, 'Member must be a list');
  for (const tag of raw as { TagKey?: unknown; TagValue?: unknown }[]) {
    if (typeof tag?.TagKey !== 'string' || tag.TagKey.length === 0 || tag.TagKey.length > 128) {
      throw new AwsServiceError('TagException', `Tag key ${JSON.stringify(tag?.TagKey)} must be a string of 1–128 characters.`);
    }
    if (tag.TagKey.toLowerCase().startsWith('aws:')) throw new AwsServiceError('TagException', `Tag key ${tag.TagKey} uses the reserved prefix aws:.`);
    if (typeof tag.TagValue !== 'string' || tag.TagValue.length > 256) {
      throw new AwsServiceError('TagException', `Tag value of ${tag.TagKey} must be a string of at most 256 characters.`);
    }
    tags.set(tag.TagKey, tag.TagValue);
  }
  return tags;
}

/** Description: at most 8192 characters (CreateKey / ReplicateKey API references). */
export function parseDescription(input: Input): string {
  const description = optionalString(input, 'Description') ?? '';
  if (description.length > 8192) throw constraintError('description', '…', 'Member must have length less than or equal to 8192');
  return description;
}

/** Limit/Marker paging shared by the List* operations; the marker is the next index. */
export function paginate<T>(items: readonly T[], input: Input): { items: T[]; next: { Truncated: boolean; NextMarker?: string } } {
  const limit = optionalInteger(input, 'Limit') ?? 100;
  if (limit < 1 || limit > 1000) throw constraintError('limit', limit, 'Member must have value between 1 and 1000');
  const marker = optionalString(input, 'Marker');
  const start = marker === undefined ? 0 : Number.parseInt(marker, 10);
  if (!Number.isInteger(start) || start < 0 || start > items.length) throw new AwsServiceError('InvalidMarkerException', `Marker ${marker} is not valid.`);
  const page = items.slice(start, start + limit);
  const end = start + page.length;
  return { items: page, next: end < items.length ? { Truncated: true, NextMarker: String(end) } : { Truncated: false } };
}
