/**
 * The local AWS emulator: a TEST DOUBLE that speaks the real wire protocols of KMS, SSO Admin,
 * Identity Store and STS on one loopback port, so the real AWS SDK v3 clients run unmodified
 * against it. See emulator/README.md for what it models and what it does not.
 */
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { PrincipalRegistry } from './callers';
import { EmulatorClock } from './clock';
import { CONTROL_PREFIX, answerControlRequest } from './control-api';
import { CallLog, FaultInjector, QuotaLimiter, type CallLogEntry, type FaultSpec } from './controls';
import { KeyStore } from './kms/key-store';
import { keyStateView, type KeyStateView } from './kms/key-state-view';
import { kmsOperations } from './kms/operations';
import { RoleRegistry, type RoleDefinition } from './roles';
import { DEFAULT_SEED, parseSeed, type OrganizationSeed } from './seed';
import { answerAwsRequest, readBody, send } from './server';
import { identityStoreOperations } from './sso/identity-store-operations';
import type { RegionStatus } from './sso/instance-regions';
import { InstanceRegistry } from './sso/instances';
import { regionOperations } from './sso/region-operations';
import { ssoAdminOperations } from './sso/sso-admin-operations';
import { stsOperations } from './sts';

export { DEFAULT_SEED, EmulatorSeedError, parseSeed, parseSeedJson, type OrganizationSeed } from './seed';
export { DEFAULT_QUOTAS, type CallLogEntry, type FaultSpec } from './controls';
export { identityCenterPolicyGaps } from './sso/identity-center-policy';
export { ON_DEMAND_ROTATION_LIMIT } from './kms/key-material';
export type { KeyStateView } from './kms/key-state-view';
export type { RoleDefinition } from './roles';
export type { RegionStatus } from './sso/instance-regions';

export interface EmulatorOptions {
  /** Port on 127.0.0.1; default 0 = any free port. */
  readonly port?: number;
  /** The organization to start with; default DEFAULT_SEED. */
  readonly seed?: OrganizationSeed;
  /** How long UpdateInstance stays UPDATING; default 250 ms. */
  readonly updateDelayMs?: number;
  /** How long an Identity Center Region stays ADDING or REMOVING; default 250 ms. */
  readonly regionDelayMs?: number;
  /** How long after RotateKeyOnDemand the rotation completes (and shows in ListKeyRotations); default 100 ms. */
  readonly rotationDelayMs?: number;
  /** How long a new replica stays Creating, and keys stay Updating after UpdatePrimaryRegion; default 100 ms. */
  readonly replicaDelayMs?: number;
  /** Per-operation requests per second per account+Region; true (default) = real KMS quotas, false = none. */
  readonly quotas?: boolean | Partial<Record<string, number>>;
  /**
   * Base clock for dates the emulator reports and acts on (creation, deletion, automatic rotation,
   * credential expiry); default real time. `advanceClock` moves the emulator's clock ahead of it.
   */
  readonly now?: () => Date;
  /** Where emulator notices go (e.g. BypassPolicyLockoutSafetyCheck used); default nowhere. */
  readonly log?: (message: string) => void;
}

/** An opaque copy of an emulator's state (Emulator.snapshot). */
export interface EmulatorSnapshot {
  readonly keys: ReturnType<KeyStore['exportState']>;
  readonly instances: ReturnType<InstanceRegistry['exportState']>;
  readonly clockOffsetMs: number;
}

export interface Emulator {
  /** http://127.0.0.1:<port> */
  readonly endpoint: string;
  readonly port: number;
  /** Closes the server and its open sockets promptly. */
  stop(): Promise<void>;
  /** Fails the next `count` calls of `operation` ('CreateKey' for any service, or 'kms:CreateKey'). */
  failNext(operation: string, count: number, fault: FaultSpec): void;
  /** Adds latency to an operation, or to every call with '*'; 0 removes it. */
  setLatency(operation: string | '*', ms: number): void;
  clearFaults(): void;
  callLog(): readonly CallLogEntry[];
  clearCallLog(): void;
  /** Makes `accessKeyId` act as principal `arn` (its account is the caller's account). */
  addPrincipal(accessKeyId: string, arn: string): void;
  /** Adds (or replaces) an IAM role that STS AssumeRole hands out sessions for, with its trust. */
  addRole(role: RoleDefinition): void;
  /** The emulator clock now. */
  now(): Date;
  /** Moves the emulator clock forward (a deletion waiting period, a rotation period, a session's expiry); returns the new time. */
  advanceClock(ms: number): Date;
  /** Read-only views for assertions. A bare multi-Region key id names the primary; use an ARN for a replica. */
  describeKeyState(keyIdOrArn: string): KeyStateView | undefined;
  listKeyArns(account?: string, region?: string): string[];
  /**
   * A copy of the emulator's keys, aliases, instances and clock (not its faults, quotas or call
   * log), taken while no Identity Center switch is in flight. Tests restore it before each of many
   * scenarios instead of rebuilding the same organization each time.
   */
  snapshot(): EmulatorSnapshot;
  /** Puts the state of `snapshot` back (it can be restored any number of times) and clears the call log. */
  restore(snapshot: EmulatorSnapshot): void;
  /** The Regions of an Identity Center instance, the primary first; undefined for an unknown instance. */
  instanceRegions(instanceArn: string): { region: string; status: RegionStatus; primary: boolean }[] | undefined;
}

/** Starts the emulator on 127.0.0.1 and resolves once it is listening. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const seed = parseSeed(options.seed ?? DEFAULT_SEED, 'EmulatorOptions.seed');
  const clock = new EmulatorClock(options.now);
  const now = () => clock.now();
  const keys = new KeyStore(now);
  const instances = new InstanceRegistry(seed, keys, now, options.updateDelayMs ?? 250, options.regionDelayMs ?? 250);
  const principals = new PrincipalRegistry(seed.managementAccount, seed.principals, now);
  const roles = new RoleRegistry(seed.roles);
  const faults = new FaultInjector();
  const calls = new CallLog();
  const deps = {
    services: {
      kms: kmsOperations(keys, {
        replicaDelayMs: options.replicaDelayMs ?? 100,
        rotationDelayMs: options.rotationDelayMs ?? 100,
        log: options.log ?? (() => undefined),
      }),
      'sso-admin': { ...ssoAdminOperations(instances), ...regionOperations(instances) },
      identitystore: identityStoreOperations(instances),
      sts: stsOperations(roles, principals),
    },
    principals,
    faults,
    quotas: new QuotaLimiter(options.quotas ?? true),
    calls,
    now,
    defaultRegion: seed.instances[0]?.region ?? 'us-east-1',
  };

  const sockets = new Set<Socket>();
  let emulator: Emulator;
  const server: Server = createServer((req, res) => {
    readBody(req)
      .then(async (body) => {
        if ((req.url ?? '').startsWith(CONTROL_PREFIX)) {
          const reply = answerControlRequest(emulator, req, body);
          send(res, { status: reply.status, headers: { 'content-type': 'application/json' }, body: reply.body === undefined ? '' : JSON.stringify(reply.body) });
          return;
        }
        send(res, await answerAwsRequest(deps, req, body));
      })
      .catch((error: unknown) => {
        if (!res.headersSent) send(res, { status: 500, headers: { 'content-type': 'text/plain' }, body: `emulator error: ${String(error)}` });
      });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  emulator = {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        instances.dispose();
        server.close(() => resolve());
        // Keep-alive sockets of SDK clients would otherwise hold close() open.
        for (const socket of sockets) socket.destroy();
      }),
    failNext: (operation, count, fault) => faults.failNext(operation, count, fault),
    setLatency: (operation, ms) => faults.setLatency(operation, ms),
    clearFaults: () => faults.clear(),
    callLog: () => calls.list(),
    clearCallLog: () => calls.clear(),
    addPrincipal: (accessKeyId, arn) => principals.add(accessKeyId, arn),
    addRole: (role) => roles.add(role),
    now,
    advanceClock: (ms) => clock.advance(ms),
    describeKeyState: (keyIdOrArn) => {
      const key = keys.peek(keyIdOrArn);
      return key ? keyStateView(key) : undefined;
    },
    listKeyArns: (account, region) => keys.list({ account, region }).map((k) => k.arn),
    snapshot: () => ({ keys: keys.exportState(), instances: instances.exportState(), clockOffsetMs: clock.offset }),
    restore: (snapshot) => {
      keys.importState(snapshot.keys);
      instances.importState(snapshot.instances);
      clock.restoreOffset(snapshot.clockOffsetMs);
      calls.clear();
    },
    instanceRegions: (instanceArn) => {
      const instance = instances.get(instanceArn);
      return instance && [
        { region: instance.region, status: 'ACTIVE' as const, primary: true },
        ...instance.regions.list().map((r) => ({ region: r.name, status: r.status, primary: false })),
      ];
    },
  };
  return emulator;
}
