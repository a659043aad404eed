/**
 * The credential chain of one process: the credentials it starts with (CI's one identity, an
 * operator's session, the emulator's dummy keys) and, per account, the role it acts as there —
 * assumed with STS AssumeRole through the SDK's own credential provider (`fromTemporaryCredentials`:
 * no hand-written signing), once per account for the whole process (every Region and every client
 * of the account share one memoized session, refreshed before it expires).
 *
 * Which credentials act in an account (`routeFor`):
 *  - no role declared for it (no `access`, no team mode): the starting credentials, as before;
 *  - the starting credentials already are that account's pipeline or Terraform role, or one of its
 *    key administrators (a person with MFA): used as they are — assuming a role from itself would
 *    need the role to trust itself, and a person's own session is what the audit log should name;
 *  - anything else: AssumeRole of the account's pipelineRole.
 * The state store has its own route to the team account's `stateRole`, by the same rule.
 *
 * Session names: a chained session keeps the starting session's name (CI's `gh-<login>-<run id>`,
 * which the gate reads as who dispatched the run), an IAM user's becomes `keyrotor-<user>`.
 */
import { memoizeIdentityProvider, isIdentityExpired, doesIdentityRequireRefresh } from '@smithy/core';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { HttpHandlerUserInput } from '@smithy/core/protocols';
import type { AccessConfig, Config, KeyRingConfig } from '../config/types';
import { accessOf, sameRole } from '../config/access';
import { KeyrotorError } from '../errors';
import { describeCaller, type CallerIdentity } from './caller';
import { chooseCredentials, type CredentialsOption } from './credentials';
import { isLoopbackEndpoint, resolveEndpoint } from './endpoints';

/** How a process gets credentials for an account, and why. */
export type CredentialRoute =
  | { readonly kind: 'source'; readonly why: string }
  | { readonly kind: 'assume-role'; readonly roleArn: string; readonly sessionName: string; readonly why: string };

export interface CredentialChainOptions {
  readonly access: AccessConfig | undefined;
  /** Key rings of the config: their key administrators may act as themselves. */
  readonly keyrings: readonly Pick<KeyRingConfig, 'account' | 'keyAdministrators'>[];
  readonly env: NodeJS.ProcessEnv;
  /** Explicit endpoint (the emulator) for STS, as for the other clients. */
  readonly endpoint?: string;
  /** Region of the STS client that assumes roles. Default: the Region of the first client that asks. */
  readonly stsRegion?: string;
  /** Starting credentials; default: keys in `env`, the emulator's dummy keys on loopback, else the SDK's default chain. */
  readonly source?: CredentialsOption;
  readonly requestHandler?: HttpHandlerUserInput;
  /** Called with every AssumeRole's duration (the fleet's timing breakdown). */
  readonly onAssume?: (roleArn: string, ms: number) => void;
}

const SESSION_NAME_CHARS = /[^\w+=,.@-]/g;

/** A role session name (2–64 of [\w+=,.@-]) from the starting caller. */
export function sessionNameFor(source: CallerIdentity | undefined): string {
  const arn = source?.arn ?? '';
  const assumed = /^arn:aws[a-z-]*:sts::\d{12}:assumed-role\/[^/]+\/(.+)$/.exec(arn);
  const user = /^arn:aws[a-z-]*:iam::\d{12}:user\/(?:.*\/)?([^/]+)$/.exec(arn);
  const raw = assumed ? assumed[1]! : user ? `keyrotor-${user[1]}` : 'keyrotor';
  const cleaned = raw.replace(SESSION_NAME_CHARS, '-').slice(0, 64);
  return cleaned.length >= 2 ? cleaned : 'keyrotor';
}

/** The role ARN form of a caller (`assumed-role/<name>/<session>` → its role), or the caller ARN itself. */
export function principalOf(callerArn: string): string {
  const assumed = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(callerArn);
  return assumed ? `arn:${assumed[1]}:iam::${assumed[2]}:role/${assumed[3]}` : callerArn;
}

export class CredentialChain {
  private readonly sourceCredentials: CredentialsOption | undefined;
  private readonly stsEndpoint: string | undefined;
  private sourceCallerPromise: Promise<CallerIdentity> | undefined;
  private readonly routes = new Map<string, Promise<CredentialRoute>>();
  private readonly providers = new Map<string, AwsCredentialIdentityProvider>();
  private stsRegion: string | undefined;

  constructor(private readonly options: CredentialChainOptions) {
    this.stsEndpoint = resolveEndpoint('sts', options.endpoint, options.env).url;
    this.sourceCredentials = chooseCredentials(options.source, options.env, isLoopbackEndpoint(this.stsEndpoint));
    this.stsRegion = options.stsRegion;
  }

  /** The starting credentials (undefined = the SDK's default provider chain). */
  source(): CredentialsOption | undefined {
    return this.sourceCredentials;
  }

  /** Who the starting credentials are (STS GetCallerIdentity, once per process; a failure is not kept). */
  async sourceCaller(region: string): Promise<CallerIdentity> {
    this.sourceCallerPromise ??= this.withSts(region, (sts) => describeCaller({ sts })).catch((error: unknown) => {
      this.sourceCallerPromise = undefined;
      throw error;
    });
    return this.sourceCallerPromise;
  }

  /** How credentials for `account` are obtained (decided once per account). */
  routeFor(account: string, region: string): Promise<CredentialRoute> {
    const role = this.options.access?.accounts[account];
    if (!role) return Promise.resolve({ kind: 'source', why: `no role is declared for account ${account}: the credentials the command was given act there` });
    const admins = this.options.keyrings.filter((k) => k.account === account).flatMap((k) => k.keyAdministrators);
    return this.route(`account:${account}`, region, role.pipelineRole, [role.pipelineRole, role.terraformRole, ...admins], `account ${account}`);
  }

  /** How the state store's credentials are obtained: the `stateRole` of the team account, or the starting credentials. */
  stateRoute(region: string): Promise<CredentialRoute> {
    const stateRole = this.options.access?.stateRole;
    if (!stateRole) return Promise.resolve({ kind: 'source', why: 'no stateRole is declared: the credentials the command was given reach the state table' });
    return this.route('state', region, stateRole, [stateRole], 'the state table');
  }

  /**
   * Credentials for acting in `account` (every Region): the starting ones or an assumed role, as
   * routeFor decides. A provider, so nothing is called until a client first signs a request.
   */
  credentialsFor(account: string, region: string): CredentialsOption | undefined {
    if (!this.options.access?.accounts[account]) return this.sourceCredentials;
    return this.provider(`account:${account}`, () => this.routeFor(account, region), region);
  }

  /** Credentials for the DynamoDB state store (team account). */
  stateCredentials(region: string): CredentialsOption | undefined {
    if (!this.options.access?.stateRole) return this.sourceCredentials;
    return this.provider('state', () => this.stateRoute(region), region);
  }

  /**
   * Credentials for the commands that read the state without acting on AWS (status, runs, logs,
   * plan, approvals, gate, approve, audit verify, fleet plan/approve): the state role when the
   * starting identity may assume it (CI's one identity), else the starting credentials. Approvers
   * and auditors read the table under their own identity: they must not need to assume the state
   * role, which in team mode is the pipeline role that manages keys. The fallback is said once.
   */
  stateReadCredentials(region: string, onNote: (note: string) => void): CredentialsOption | undefined {
    const state = this.stateCredentials(region);
    if (!this.options.access?.stateRole || typeof state !== 'function') return state;
    let ownCredentials = false;
    return async () => {
      if (ownCredentials) return this.resolveSource();
      try {
        return await state();
      } catch (error) {
        const denied = error instanceof KeyrotorError && (error.cause as { name?: string } | undefined)?.name === 'AccessDenied';
        if (!denied) throw error;
        ownCredentials = true;
        onNote(`note: ${(error as Error).message}; reading the state table with the starting credentials instead (their own access to it decides)`);
        return this.resolveSource();
      }
    };
  }

  private route(key: string, region: string, target: string, actsAlready: readonly string[], what: string): Promise<CredentialRoute> {
    let found = this.routes.get(key);
    if (!found) {
      found = this.sourceCaller(region).then((caller): CredentialRoute => {
        const principal = principalOf(caller.arn);
        const as = actsAlready.find((arn) => principal.includes(':role/') && sameRole(arn, principal));
        if (as) return { kind: 'source', why: `the starting credentials (${caller.arn}) already act as ${as} for ${what}` };
        return { kind: 'assume-role', roleArn: target, sessionName: sessionNameFor(caller), why: `${caller.arn} assumes ${target} for ${what}` };
      });
      found.catch(() => this.routes.delete(key));
      this.routes.set(key, found);
    }
    return found;
  }

  private provider(key: string, decide: () => Promise<CredentialRoute>, region: string): AwsCredentialIdentityProvider {
    let found = this.providers.get(key);
    if (!found) {
      this.stsRegion ??= region;
      const resolve: AwsCredentialIdentityProvider = async () => {
        const route = await decide();
        if (route.kind === 'source') return this.resolveSource();
        return this.assume(route);
      };
      // One session per account for the process, shared by every client and Region, renewed
      // before it expires (the SDK's own memoization rules).
      found = memoizeIdentityProvider(resolve, isIdentityExpired, doesIdentityRequireRefresh) as AwsCredentialIdentityProvider;
      this.providers.set(key, found);
    }
    return found;
  }

  private async resolveSource(): Promise<AwsCredentialIdentity> {
    const source = this.sourceCredentials;
    if (source === undefined) {
      const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
      return fromNodeProviderChain()();
    }
    return typeof source === 'function' ? source() : source;
  }

  private async assume(route: Extract<CredentialRoute, { kind: 'assume-role' }>): Promise<AwsCredentialIdentity> {
    const { fromTemporaryCredentials } = await import('@aws-sdk/credential-providers');
    const started = performance.now();
    const source = this.sourceCredentials;
    const provider = fromTemporaryCredentials({
      params: { RoleArn: route.roleArn, RoleSessionName: route.sessionName },
      ...(source === undefined ? {} : { masterCredentials: source }),
      clientConfig: {
        region: this.stsRegion!,
        ...(this.stsEndpoint === undefined ? {} : { endpoint: this.stsEndpoint }),
        ...(this.options.requestHandler === undefined ? {} : { requestHandler: this.options.requestHandler }),
      },
    });
    try {
      return await provider();
    } catch (error) {
      const e = error as { name?: string; message?: string };
      const caller = await this.sourceCallerPromise?.catch(() => undefined);
      throw new KeyrotorError(
        `cannot act as ${route.roleArn}: STS AssumeRole from ${caller?.arn ?? 'the starting credentials'} failed (${e.name ?? 'Error'}: ${e.message ?? String(error)})`,
        {
          fault: e.name === 'AccessDenied' || e.name === 'ValidationError' ? 'operator' : 'aws',
          retryable: e.name !== 'AccessDenied' && e.name !== 'ValidationError',
          nextStep:
            e.name === 'AccessDenied'
              ? `the trust policy of ${route.roleArn} must name ${caller ? principalOf(caller.arn) : 'the starting identity'} (team mode: apply the pipeline stack, \`rotate bootstrap\`), and that identity needs sts:AssumeRole on it; or start from credentials that already act as the role`
              : 'check the starting credentials and the STS endpoint, then run the command again',
          cause: error,
        },
      );
    } finally {
      this.options.onAssume?.(route.roleArn, performance.now() - started);
    }
  }

  private async withSts<T>(region: string, body: (sts: import('@aws-sdk/client-sts').STSClient) => Promise<T>): Promise<T> {
    const { STSClient } = await import('@aws-sdk/client-sts');
    const source = this.sourceCredentials;
    const sts = new STSClient({
      region: this.stsRegion ?? region,
      ...(this.stsEndpoint === undefined ? {} : { endpoint: this.stsEndpoint }),
      ...(source === undefined ? {} : { credentials: source }),
      ...(this.options.requestHandler === undefined ? {} : { requestHandler: this.options.requestHandler }),
    });
    try {
      return await body(sts);
    } finally {
      sts.destroy();
    }
  }
}

/** The chain for a config: its roles (team-mode defaults included), STS in the team Region when there is one. */
export function credentialChainFor(
  config: Pick<Config, 'access' | 'keyrings' | 'pipeline' | 'state'>,
  options: Pick<CredentialChainOptions, 'env' | 'endpoint' | 'onAssume' | 'source'>,
): CredentialChain {
  return new CredentialChain({
    access: accessOf(config),
    keyrings: config.keyrings,
    ...(config.pipeline ? { stsRegion: config.pipeline.region } : {}),
    ...options,
  });
}
