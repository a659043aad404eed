/**
 * What the run commands share: the validated config, the state store, AWS clients per key ring
 * (account+Region), and who the operator is. Loaded lazily by the commands that need it.
 */
import { loadConfig } from '../../pipeline/config/load';
import type { Config, KeyRingConfig } from '../../pipeline/config/types';
import { openStateStore } from '../../pipeline/state/open';
import type { Run, StateStore } from '../../pipeline/state/types';
import { createAwsClients, describeCaller, type AwsClients, type CallerIdentity } from '../../pipeline/aws';
import { resolveRun } from '../../pipeline/runs/resolve-run';
import type { CliContext } from './context';
import { announceAwsContext, awsContextOf, type AwsContext } from './aws-context';

export interface Session {
  readonly config: Config;
  readonly store: StateStore;
  clientsFor(keyring: KeyRingConfig): AwsClients;
  /** Clients for the key ring's account in another Region (a multi-Region key ring's replicas). */
  clientsForRegion(keyring: KeyRingConfig, region: string): AwsClients;
  /** $KEYROTOR_OPERATOR, else the caller ARN of the key ring's credentials (STS). */
  actorFor(keyring: KeyRingConfig): Promise<string>;
  /** The STS caller ARN of the key ring's credentials (verified by AWS, unlike $KEYROTOR_OPERATOR). */
  callerArn(keyring: KeyRingConfig): Promise<string>;
  /**
   * Says, once, which AWS the command is about to talk to (endpoint, EMULATOR mark, account,
   * Region, caller); every command that calls AWS does this before its first call that matters.
   */
  announce(keyring: KeyRingConfig): Promise<AwsContext>;
  /** RUN as typed: an id, a unique prefix, `latest` or `latest:KEYRING`. */
  resolveRun(ref: string): Promise<Run>;
  close(): Promise<void>;
}

export async function openSession(ctx: CliContext): Promise<Session> {
  const config = loadConfig(ctx.global.config);
  const store = await openStateStore(config.state, { stateDirOverride: ctx.global.stateDir, env: ctx.env });
  const clients = new Map<string, AwsClients>();
  const callers = new Map<AwsClients, Promise<CallerIdentity>>();
  const clientsForRegion = (keyring: KeyRingConfig, region: string): AwsClients => {
    const key = `${keyring.account}/${region}`;
    let found = clients.get(key);
    if (!found) {
      found = createAwsClients({ region, account: keyring.account, env: ctx.env, ...(ctx.global.endpoint ? { endpoint: ctx.global.endpoint } : {}) });
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
    clientsFor,
    clientsForRegion,
    actorFor: async (keyring) => ctx.env.KEYROTOR_OPERATOR || (await caller(keyring)).arn,
    callerArn: async (keyring) => (await caller(keyring)).arn,
    announce: async (keyring) => {
      const context = await awsContextOf(clientsFor(keyring), await caller(keyring));
      announceAwsContext(ctx, context);
      return context;
    },
    resolveRun: (ref) => resolveRun(store, ref),
    close: async () => {
      for (const set of clients.values()) set.destroy();
      await store.close();
    },
  };
}
