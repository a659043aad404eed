/**
 * What the run commands share: the validated config, the state store, AWS clients per key ring
 * (account+Region), and who the operator is. Loaded lazily by the commands that need it.
 *
 * Credentials come from one chain per process (pipeline/aws/role-credentials.ts): in each account
 * the role `access` declares for it (assumed once from the starting credentials, shared by every
 * Region and client), and for the DynamoDB state store the team account's state role.
 */
import { loadConfig } from '../../pipeline/config/load';
import type { Config, KeyRingConfig } from '../../pipeline/config/types';
import { openStateStore } from '../../pipeline/state/open';
import type { Run, StateStore } from '../../pipeline/state/types';
import { createAwsClients, describeCaller, resolveEndpoints, type AwsClients, type CallerIdentity } from '../../pipeline/aws';
import { credentialChainFor, type CredentialChain, type CredentialRoute } from '../../pipeline/aws/role-credentials';
import { resolveRun } from '../../pipeline/runs/resolve-run';
import { exportLedgers, ledgerExportDir } from '../../pipeline/team/ledger-export';
import type { CliContext } from './context';
import { announceAwsContext, awsContextOf, type AwsContext } from './aws-context';

export interface Session {
  readonly config: Config;
  readonly store: StateStore;
  readonly credentials: CredentialChain;
  clientsFor(keyring: KeyRingConfig): AwsClients;
  /** Clients for the key ring's account in another Region (a multi-Region key ring's replicas). */
  clientsForRegion(keyring: KeyRingConfig, region: string): AwsClients;
  /** $KEYROTOR_OPERATOR, else the caller ARN of the key ring's credentials (STS). */
  actorFor(keyring: KeyRingConfig): Promise<string>;
  /** The STS caller ARN of the key ring's credentials (verified by AWS, unlike $KEYROTOR_OPERATOR). */
  callerArn(keyring: KeyRingConfig): Promise<string>;
  /** How the key ring's account is reached (the starting credentials or an assumed role), and why. */
  routeFor(keyring: KeyRingConfig): Promise<CredentialRoute>;
  /**
   * Says, once, which AWS the command is about to talk to (endpoint, EMULATOR mark, account,
   * Region, caller); every command that calls AWS does this before its first call that matters.
   */
  announce(keyring: KeyRingConfig): Promise<AwsContext>;
  /** RUN as typed: an id, a unique prefix, `latest` or `latest:KEYRING`. */
  resolveRun(ref: string): Promise<Run>;
  /** Milliseconds spent creating SDK clients (the fleet's timing breakdown). */
  readonly clientSetupMs: () => number;
  close(): Promise<void>;
}

export interface SessionOptions {
  /** Called with every AssumeRole's duration. */
  readonly onAssume?: (roleArn: string, ms: number) => void;
  /** Wraps the opened store (the fleet times its calls). */
  readonly wrapStore?: (store: StateStore) => StateStore;
}

export async function openSession(ctx: CliContext, options: SessionOptions = {}): Promise<Session> {
  // Every service's endpoint is checked before anything is read or sent: a typo in an
  // AWS_ENDPOINT_URL[_<SERVICE>] variable is the operator's to fix, not a failure at the first call.
  resolveEndpoints(ctx.global.endpoint, ctx.env);
  const config = loadConfig(ctx.global.config);
  const credentials = credentialChainFor(config, {
    env: ctx.env,
    ...(ctx.global.endpoint ? { endpoint: ctx.global.endpoint } : {}),
    ...(options.onAssume ? { onAssume: options.onAssume } : {}),
  });
  const teamStore = config.state.type === 'dynamodb' && ctx.global.stateDir === undefined;
  const stateCredentials = teamStore && config.state.type === 'dynamodb' ? credentials.stateCredentials(config.state.region) : undefined;
  const opened = await openStateStore(config.state, {
    stateDirOverride: ctx.global.stateDir,
    env: ctx.env,
    ...(stateCredentials === undefined ? {} : { credentials: stateCredentials }),
  });
  const store = options.wrapStore ? options.wrapStore(opened) : opened;
  const clients = new Map<string, AwsClients>();
  const callers = new Map<AwsClients, Promise<CallerIdentity>>();
  let setupMs = 0;
  const clientsForRegion = (keyring: KeyRingConfig, region: string): AwsClients => {
    const key = `${keyring.account}/${region}`;
    let found = clients.get(key);
    if (!found) {
      const started = performance.now();
      const chosen = credentials.credentialsFor(keyring.account, region);
      found = createAwsClients({
        region,
        account: keyring.account,
        env: ctx.env,
        ...(chosen === undefined ? {} : { credentials: chosen }),
        ...(ctx.global.endpoint ? { endpoint: ctx.global.endpoint } : {}),
      });
      setupMs += performance.now() - started;
      clients.set(key, found);
    }
    return found;
  };
  const clientsFor = (keyring: KeyRingConfig): AwsClients => clientsForRegion(keyring, keyring.region);
  // One GetCallerIdentity per client set, shared by the banner, the actor and the initiator.
  const caller = (keyring: KeyRingConfig): Promise<CallerIdentity> => {
    const set = clientsFor(keyring);
    let known = callers.get(set);
    if (!known) {
      known = describeCaller(set);
      known.catch(() => callers.delete(set));
      callers.set(set, known);
    }
    return known;
  };
  return {
    config,
    store,
    credentials,
    clientsFor,
    clientsForRegion,
    actorFor: async (keyring) => ctx.env.KEYROTOR_OPERATOR || (await caller(keyring)).arn,
    callerArn: async (keyring) => (await caller(keyring)).arn,
    routeFor: (keyring) => credentials.routeFor(keyring.account, keyring.region),
    announce: async (keyring) => {
      const context = await awsContextOf(clientsFor(keyring), await caller(keyring));
      announceAwsContext(ctx, context);
      return context;
    },
    resolveRun: (ref) => resolveRun(store, ref),
    clientSetupMs: () => setupMs,
    close: async () => {
      // Team mode: what this command read or changed goes to the ledger export synth reads. A
      // failure here is reported, never allowed to hide the command's own outcome.
      const exportDir = teamStore ? ledgerExportDir(config) : undefined;
      if (exportDir !== undefined) {
        await exportLedgers(opened, config, exportDir).catch((error: unknown) =>
          ctx.io.err(`warning: the ledger export ${exportDir} was not refreshed (${error instanceof Error ? error.message : String(error)}); \`rotate status\` refreshes it`),
        );
      }
      for (const set of clients.values()) set.destroy();
      await opened.close();
    },
  };
}
