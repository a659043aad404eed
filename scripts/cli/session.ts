/**
 * What the run commands share: the validated config, the state store, AWS clients per key ring
 * (account+Region), and who the operator is. Loaded lazily by the commands that need it.
 */
import { loadConfig } from '../../pipeline/config/load';
import type { Config, KeyRingConfig } from '../../pipeline/config/types';
import { openStateStore } from '../../pipeline/state/open';
import type { StateStore } from '../../pipeline/state/types';
import { createAwsClients, describeCaller, type AwsClients } from '../../pipeline/aws';
import type { CliContext } from './context';

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
  close(): Promise<void>;
}

export async function openSession(ctx: CliContext): Promise<Session> {
  const config = loadConfig(ctx.global.config);
  const store = await openStateStore(config.state, { stateDirOverride: ctx.global.stateDir, env: ctx.env });
  const clients = new Map<string, AwsClients>();
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
  return {
    config,
    store,
    clientsFor,
    clientsForRegion,
    actorFor: async (keyring) => ctx.env.KEYROTOR_OPERATOR || (await describeCaller(clientsFor(keyring))).arn,
    callerArn: async (keyring) => (await describeCaller(clientsFor(keyring))).arn,
    close: () => store.close(),
  };
}
