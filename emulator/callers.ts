import { createHash } from 'node:crypto';
import type { Caller } from './operation';
import { AwsServiceError } from './service-error';

const PRINCIPAL_ARN = /^arn:aws:(iam|sts)::(\d{12}):(.+)$/;

/** The SigV4 credential scope of a request: `Credential=<AKID>/<date>/<region>/<service>/aws4_request`. */
export interface CredentialScope {
  readonly accessKeyId: string;
  readonly region: string;
  readonly service: string;
}

export function parseCredentialScope(authorization: string | undefined): CredentialScope | undefined {
  const match = /Credential=([^/,\s]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(authorization ?? '');
  return match ? { accessKeyId: match[1]!, region: match[2]!, service: match[3]! } : undefined;
}

/**
 * Access key id → principal ARN, as STS GetCallerIdentity would report it. Keys nobody registered
 * belong to the management account's `operator` user, so any static credentials work.
 */
export class PrincipalRegistry {
  private readonly principals = new Map<string, string>();

  constructor(private readonly managementAccount: string, seed: readonly { accessKeyId: string; arn: string }[] = []) {
    for (const p of seed) this.add(p.accessKeyId, p.arn);
  }

  add(accessKeyId: string, arn: string): void {
    if (!accessKeyId) throw new AwsServiceError('ValidationException', 'accessKeyId must not be empty.');
    if (!PRINCIPAL_ARN.test(arn)) throw new AwsServiceError('ValidationException', `principal ARN ${arn} must look like arn:aws:iam::<account>:user/<name> or arn:aws:sts::<account>:assumed-role/<role>/<session>.`);
    this.principals.set(accessKeyId, arn);
  }

  callerFor(scope: CredentialScope | undefined, fallbackRegion: string): Caller {
    const accessKeyId = scope?.accessKeyId ?? 'ANONYMOUS';
    const arn = this.principals.get(accessKeyId) ?? `arn:aws:iam::${this.managementAccount}:user/operator`;
    return { accessKeyId, arn, account: PRINCIPAL_ARN.exec(arn)![2]!, region: scope?.region ?? fallbackRegion };
  }
}

/**
 * GetCallerIdentity's UserId: AIDA… for IAM users, AROA…:<session> for assumed roles (STS API
 * reference). Derived from the ARN so it is stable across calls.
 */
export function userIdOf(arn: string): string {
  const suffix = createHash('sha256').update(arn).digest('hex').slice(0, 17).toUpperCase();
  const assumed = /:assumed-role\/[^/]+\/(.+)$/.exec(arn);
  return assumed ? `AROA${suffix}:${assumed[1]}` : `AIDA${suffix}`;
}
