import { createHash, randomBytes } from 'node:crypto';
import type { Caller } from './operation';
import { AwsServiceError } from './service-error';

const PRINCIPAL_ARN = /^arn:aws:(iam|sts)::(\d{12}):(.+)$/;
const ASSUMED_ROLE_ARN = /^arn:aws:sts::(\d{12}):assumed-role\/([^/]+)\/([^/]+)$/;

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

/** Temporary credentials STS issued (AssumeRole), as the SDK receives them. */
export interface IssuedCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}

/** Why a request's credentials were not accepted: the session has expired, or its token is wrong or missing. */
export type CredentialProblem = 'expired' | 'invalid-token';

interface Principal {
  readonly arn: string;
  readonly session?: { readonly sessionToken: string; readonly expiration: Date };
}

/**
 * Access key id → principal, as STS GetCallerIdentity would report it: long-term keys registered
 * with `add` (IAM users, or assumed-role ARNs standing in for them), and the temporary credentials
 * AssumeRole issues, which carry a session token and expire on the emulator clock. Keys nobody
 * registered belong to the management account's `operator` user, so any static credentials work.
 * Signatures are not verified.
 */
export class PrincipalRegistry {
  private readonly principals = new Map<string, Principal>();

  constructor(
    private readonly managementAccount: string,
    seed: readonly { accessKeyId: string; arn: string }[] = [],
    private readonly now: () => Date = () => new Date(),
  ) {
    for (const p of seed) this.add(p.accessKeyId, p.arn);
  }

  add(accessKeyId: string, arn: string): void {
    if (!accessKeyId) throw new AwsServiceError('ValidationException', 'accessKeyId must not be empty.');
    if (!PRINCIPAL_ARN.test(arn)) throw new AwsServiceError('ValidationException', `principal ARN ${arn} must look like arn:aws:iam::<account>:user/<name> or arn:aws:sts::<account>:assumed-role/<role>/<session>.`);
    this.principals.set(accessKeyId, { arn });
  }

  /** Issues temporary credentials (ASIA… key, secret, session token) that act as `arn` until `expiration`. */
  issueSession(arn: string, expiration: Date): IssuedCredentials {
    const accessKeyId = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`;
    const credentials = {
      accessKeyId,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(96).toString('base64'),
      expiration,
    };
    this.principals.set(accessKeyId, { arn, session: { sessionToken: credentials.sessionToken, expiration } });
    return credentials;
  }

  /**
   * The caller of a request, and what is wrong with its credentials if anything: temporary
   * credentials need their own session token (X-Amz-Security-Token) and must not have expired.
   * The caller is returned either way, so the call log can attribute a refused call.
   */
  authenticate(scope: CredentialScope | undefined, securityToken: string | undefined, fallbackRegion: string): { caller: Caller; problem?: CredentialProblem } {
    const accessKeyId = scope?.accessKeyId ?? 'ANONYMOUS';
    const principal = this.principals.get(accessKeyId);
    const arn = principal?.arn ?? `arn:aws:iam::${this.managementAccount}:user/operator`;
    const caller: Caller = { accessKeyId, arn, account: PRINCIPAL_ARN.exec(arn)![2]!, region: scope?.region ?? fallbackRegion };
    const session = principal?.session;
    if (session && securityToken !== session.sessionToken) return { caller, problem: 'invalid-token' };
    if (session && session.expiration <= this.now()) return { caller, problem: 'expired' };
    return { caller };
  }
}

/** The error AWS answers for a credential problem: STS (query protocol) and the JSON services name them differently. */
export function credentialError(problem: CredentialProblem, sts: boolean): AwsServiceError {
  if (problem === 'expired') {
    return new AwsServiceError(sts ? 'ExpiredToken' : 'ExpiredTokenException', 'The security token included in the request is expired');
  }
  return new AwsServiceError(sts ? 'InvalidClientTokenId' : 'UnrecognizedClientException', 'The security token included in the request is invalid.', sts ? 403 : 400);
}

const stableSuffix = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 17).toUpperCase();

/** A role's unique id (AROA…), stable for the role whatever its sessions. */
export function roleIdOf(account: string, roleName: string): string {
  return `AROA${stableSuffix(`role:${account}:${roleName}`)}`;
}

/**
 * GetCallerIdentity's UserId: AIDA… for IAM users, AROA…:<session> for assumed roles (STS API
 * reference). Derived from the ARN so it is stable across calls, and equal to AssumeRole's
 * AssumedRoleUser.AssumedRoleId for the same session.
 */
export function userIdOf(arn: string): string {
  const assumed = ASSUMED_ROLE_ARN.exec(arn);
  return assumed ? `${roleIdOf(assumed[1]!, assumed[2]!)}:${assumed[3]}` : `AIDA${stableSuffix(arn)}`;
}
