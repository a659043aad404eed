/**
 * Client-side request quotas, per account and Region, that the rate limiter enforces.
 *
 * Reference: AWS KMS Developer Guide, "Request quotas" (requests-per-second), table "Request quotas
 * for each AWS KMS API operation". Values are the documented defaults; all are adjustable by AWS
 * Support, so callers can pass their own table.
 */

/** One request quota: `perSecond` requests, shared by every operation that names the same `bucket`. */
export interface RequestQuota {
  readonly perSecond: number;
  /** Operations that share one quota name the same bucket (e.g. the cryptographic operations). Default: the operation. */
  readonly bucket?: string;
}

/** `service` → `operation` → quota. Operations not listed are not limited client-side. */
export type QuotaTable = Readonly<Record<string, Readonly<Record<string, RequestQuota>>>>;

/**
 * Shared quota of the symmetric cryptographic operations: 5,500/s in the Regions with the lowest
 * default (10,000 or 50,000 elsewhere); the lowest is the safe client-side choice.
 */
const KMS_SYMMETRIC_CRYPTOGRAPHIC: RequestQuota = { perSecond: 5500, bucket: 'symmetric-cryptographic' };

export const KMS_REQUEST_QUOTAS: Readonly<Record<string, RequestQuota>> = {
  CancelKeyDeletion: { perSecond: 5 },
  CreateAlias: { perSecond: 5 },
  CreateKey: { perSecond: 5 },
  DeleteAlias: { perSecond: 5 },
  DisableKey: { perSecond: 5 },
  EnableKey: { perSecond: 5 },
  UpdateAlias: { perSecond: 5 },
  EnableKeyRotation: { perSecond: 15 },
  PutKeyPolicy: { perSecond: 15 },
  ScheduleKeyDeletion: { perSecond: 15 },
  // The evidence read before a deletion: few per run, but a fleet reads it for every key ring.
  GetKeyLastUsage: { perSecond: 5 },
  DescribeKey: { perSecond: 2000 },
  Encrypt: KMS_SYMMETRIC_CRYPTOGRAPHIC,
  Decrypt: KMS_SYMMETRIC_CRYPTOGRAPHIC,
  GenerateDataKey: KMS_SYMMETRIC_CRYPTOGRAPHIC,
  GenerateDataKeyWithoutPlaintext: KMS_SYMMETRIC_CRYPTOGRAPHIC,
  ReEncrypt: KMS_SYMMETRIC_CRYPTOGRAPHIC,
};

/** The default table: KMS only. SSO Admin, Identity Store and STS calls are few per run and not limited here. */
export const DEFAULT_QUOTAS: QuotaTable = { kms: KMS_REQUEST_QUOTAS };

/** The quota that applies to a call, with the bucket name it counts against; undefined = not limited. */
export function quotaFor(
  table: QuotaTable,
  service: string,
  operation: string,
): { readonly bucket: string; readonly perSecond: number } | undefined {
  const quota = table[service]?.[operation];
  if (quota === undefined) return undefined;
  return { bucket: quota.bucket ?? operation, perSecond: quota.perSecond };
}
