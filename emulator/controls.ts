import { performance } from 'node:perf_hooks';
import type { ServiceName } from './operation';
import { AwsServiceError } from './service-error';

/**
 * KMS request quotas per account and Region (KMS developer guide, "Request quotas"), as issue 3
 * lists them. Operations not listed are not throttled.
 */
export const DEFAULT_QUOTAS: Readonly<Record<string, number>> = {
  'kms:CreateKey': 5,
  'kms:CreateAlias': 5,
  'kms:UpdateAlias': 5,
  'kms:EnableKey': 5,
  'kms:DisableKey': 5,
  'kms:CancelKeyDeletion': 5,
  'kms:UpdatePrimaryRegion': 5,
  'kms:ScheduleKeyDeletion': 15,
  'kms:EnableKeyRotation': 15,
  'kms:PutKeyPolicy': 15,
  'kms:GetKeyLastUsage': 5,
  'kms:DescribeKey': 2000,
};

/**
 * Token buckets per (account, Region, operation): a bucket holds one second's worth of requests and
 * refills continuously, which is how KMS's per-second quotas behave for short bursts.
 */
export class QuotaLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly quotas: boolean | Partial<Record<string, number>> = true) {}

  rateFor(service: ServiceName, operation: string): number | undefined {
    if (this.quotas === false) return undefined;
    const custom = this.quotas === true ? {} : this.quotas;
    return custom[`${service}:${operation}`] ?? custom[operation] ?? DEFAULT_QUOTAS[`${service}:${operation}`];
  }

  /** Throws ThrottlingException when the caller's bucket for this operation is empty. */
  take(service: ServiceName, operation: string, account: string, region: string): void {
    const rate = this.rateFor(service, operation);
    if (rate === undefined || rate <= 0) return;
    const id = `${account}/${region}/${service}:${operation}`;
    const now = performance.now();
    const bucket = this.buckets.get(id) ?? { tokens: rate, at: now };
    bucket.tokens = Math.min(rate, bucket.tokens + ((now - bucket.at) / 1000) * rate);
    bucket.at = now;
    this.buckets.set(id, bucket);
    if (bucket.tokens < 1) {
      throw new AwsServiceError('ThrottlingException', `Rate exceeded for ${operation}: the quota is ${rate} requests per second in account ${account}, Region ${region}.`);
    }
    bucket.tokens -= 1;
  }
}

export interface FaultSpec {
  readonly code: string;
  readonly message?: string;
  /** HTTP status; default 400, use 5xx for server faults. */
  readonly status?: number;
}

/**
 * Injected failures and latency, keyed by `service:Operation` or a bare `Operation` (any service).
 * A fault is consumed by the call it fails.
 */
export class FaultInjector {
  private readonly faults = new Map<string, { remaining: number; fault: FaultSpec }[]>();
  private readonly latency = new Map<string, number>();

  failNext(operation: string, count: number, fault: FaultSpec): void {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`failNext(${operation}): count ${count} must be a positive integer`);
    if (!fault.code) throw new RangeError(`failNext(${operation}): the fault needs an error code`);
    const queue = this.faults.get(operation) ?? [];
    queue.push({ remaining: count, fault });
    this.faults.set(operation, queue);
  }

  setLatency(operation: string, ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`setLatency(${operation}): ${ms} ms must be zero or more`);
    if (ms === 0) this.latency.delete(operation);
    else this.latency.set(operation, ms);
  }

  clear(): void {
    this.faults.clear();
    this.latency.clear();
  }

  latencyFor(service: ServiceName, operation: string): number {
    return this.latency.get(`${service}:${operation}`) ?? this.latency.get(operation) ?? this.latency.get('*') ?? 0;
  }

  /** The injected error for this call, if one is queued (and consumes it). */
  take(service: ServiceName, operation: string): AwsServiceError | undefined {
    for (const key of [`${service}:${operation}`, operation]) {
      const queue = this.faults.get(key);
      const head = queue?.[0];
      if (!queue || !head) continue;
      head.remaining -= 1;
      if (head.remaining === 0) queue.shift();
      if (queue.length === 0) this.faults.delete(key);
      const { code, message, status } = head.fault;
      return new AwsServiceError(code, message ?? `Injected fault ${code} on ${operation} (emulator failNext).`, status ?? 400);
    }
    return undefined;
  }
}

export interface CallLogEntry {
  readonly seq: number;
  readonly at: string;
  readonly service: ServiceName;
  readonly operation: string;
  /** The account of the caller's credentials (an assumed role's account for its sessions). */
  readonly account: string;
  /** The Region of the request's SigV4 scope: the Region the call was sent to. */
  readonly region: string;
  /** The caller's principal ARN. */
  readonly caller: string;
  readonly mutating: boolean;
  readonly outcome: 'ok' | string;
  readonly target?: string;
}

/** Every AWS call the emulator answered, in order. */
export class CallLog {
  private entries: CallLogEntry[] = [];
  private seq = 0;

  record(entry: Omit<CallLogEntry, 'seq'>): void {
    this.seq += 1;
    this.entries.push({ seq: this.seq, ...entry });
  }

  list(): readonly CallLogEntry[] {
    return [...this.entries];
  }

  clear(): void {
    this.entries = [];
  }
}
