/**
 * One emulated organization, one workspace (config, file state store, approvers with real SSH
 * keys) and an Engine wired to both — the fixture every engine test starts from.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { startEmulator, type Emulator, type EmulatorOptions, type EmulatorSnapshot } from '../../emulator';
import { loadConfig } from '../../pipeline/config/load';
import type { Config, KeyRingConfig } from '../../pipeline/config/types';
import { FileStateStore } from '../../pipeline/state/file-store';
import { createAwsClients, type AwsClients } from '../../pipeline/aws';
import { unlimitedRateLimiter } from '../../pipeline/aws/rate-limiter';
import { Engine, type EngineDeps } from '../../pipeline/engine/engine';
import type { EngineOptions } from '../../pipeline/engine/types';
import type { Run } from '../../pipeline/state/types';
import { approveToFile } from '../../pipeline/approvals/approve';
import { actAsPipelineRole, createDemoWorkspace, operatorSignsStarts, type DemoWorkspace, type DemoWorkspaceOptions } from '../../scripts/demo/workspace';

export interface Harness {
  readonly emulator: Emulator;
  readonly ws: DemoWorkspace;
  readonly config: Config;
  readonly keyring: KeyRingConfig;
  readonly store: FileStateStore;
  readonly clients: AwsClients;
  /** Clients of the same caller in another Region (a multi-Region key ring's replica Regions). */
  clientsIn(region: string): AwsClients;
  /** A fresh engine (a new "process") sharing the store and clients. */
  engine(overrides?: Partial<EngineDeps> & { options?: EngineOptions }): Engine;
  /** Both demo approvers sign the run as it is now (approval files in the workspace's approvals/, which the engine's gate reads). */
  approveAll(runId: string): Promise<Run>;
  clock: { now: Date };
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly workspace?: DemoWorkspaceOptions;
  readonly emulator?: EmulatorOptions;
  /**
   * false: no request quotas, in the emulator or the clients. Tests that run many scenarios use it
   * (the quotas would space every CreateKey 200 ms apart); the quota tests keep them.
   */
  readonly quotas?: boolean;
}

export async function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'keyrotor-engine-'));
  const quotas = options.quotas ?? true;
  const emulator = await startEmulator({ port: 0, updateDelayMs: 20, ...(quotas ? {} : { quotas: false }), ...options.emulator });
  const ws = await createDemoWorkspace(dir, options.workspace);
  const env = { AWS_ACCESS_KEY_ID: 'AKIATESTOPERATOR', AWS_SECRET_ACCESS_KEY: 'test' };
  actAsPipelineRole(emulator, env.AWS_ACCESS_KEY_ID);
  const clientsIn = regionalClients((region) => createAwsClients({ region, endpoint: emulator.endpoint, env, maxAttempts: 3, ...(quotas ? {} : { rateLimiter: unlimitedRateLimiter }) }));
  return assemble(emulator, ws, clientsIn, async () => {
    clientsIn.destroyAll();
    await emulator.stop();
    await rm(dir, { recursive: true, force: true });
  });
}

/**
 * A new scenario from a prepared one: a copy of `base`'s workspace (config, keys, state) and the
 * emulator restored to `snapshot`, taken when that state was saved. Shares base's emulator and
 * clients, so scenarios run one at a time; closing it removes only its own copy.
 */
export async function cloneHarness(base: Harness, snapshot: EmulatorSnapshot): Promise<Harness> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'keyrotor-scenario-'));
  await cp(base.ws.dir, dir, { recursive: true });
  base.emulator.restore(snapshot);
  const moved = (file: string): string => path.join(dir, path.relative(base.ws.dir, file));
  const ws: DemoWorkspace = {
    ...base.ws,
    dir,
    configPath: moved(base.ws.configPath),
    stateDir: moved(base.ws.stateDir),
    approvalsDir: moved(base.ws.approvalsDir),
    operatorKeyPath: moved(base.ws.operatorKeyPath),
    approvers: base.ws.approvers.map((a) => ({ ...a, privateKeyPath: moved(a.privateKeyPath) })),
  };
  return assemble(base.emulator, ws, Object.assign((region: string) => base.clientsIn(region), { destroyAll: () => undefined }), () => rm(dir, { recursive: true, force: true }));
}

/** One client set per Region, made on first use. */
function regionalClients(make: (region: string) => AwsClients): ((region: string) => AwsClients) & { destroyAll(): void } {
  const made = new Map<string, AwsClients>();
  const get = (region: string): AwsClients => {
    let found = made.get(region);
    if (!found) made.set(region, (found = make(region)));
    return found;
  };
  return Object.assign(get, { destroyAll: () => made.forEach((c) => c.destroy()) });
}

function assemble(emulator: Emulator, ws: DemoWorkspace, clientsIn: (region: string) => AwsClients, close: () => Promise<void>): Harness {
  const config = loadConfig(ws.configPath);
  const clients = clientsIn(config.keyrings[0]!.region);
  const keyring = config.keyrings[0]!;
  const store = new FileStateStore(ws.stateDir);
  const clock = { now: new Date() };
  // Each engine is a separate "process": its own pid, never a running one (above Linux's pid
  // limit), so a simulated crash leaves its execution lock to be taken over, as a killed process's is.
  let nextPid = 4_200_000;
  return {
    emulator,
    ws,
    config,
    keyring,
    store,
    clients,
    clientsIn,
    clock,
    engine: (overrides = {}) =>
      new Engine({
        config,
        store,
        clientsFor: () => clients,
        clientsForRegion: (_keyring, region) => clientsIn(region),
        actor: ws.operator,
        // Runs start signed with the operator's key (listed in allowed_signers), as `rotate start --signing-key` does.
        identifyInitiator: operatorSignsStarts(ws, config),
        now: () => new Date(Math.max(Date.now(), clock.now.getTime())),
        sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 20))),
        identity: { host: os.hostname(), pid: (nextPid += 1) },
        ...overrides,
        options: { poll: { initialMs: 10, maxMs: 50, timeoutMs: 10_000 }, ...overrides.options },
      }),
    approveAll: async (runId) => {
      for (const approver of ws.approvers) {
        await approveToFile({ store, runId, signingKeyPath: approver.privateKeyPath, approvalsDir: ws.approvalsDir, now: new Date() });
      }
      return (await store.getRun(runId))!;
    },
    close: async () => {
      await store.close();
      await close();
    },
  };
}

/** migrate-to-cmk to completion: Identity Center on generation 1, the state every rotation starts from. */
export async function migrateToCmk(h: Harness): Promise<Run> {
  const engine = h.engine();
  const run = await engine.start(h.keyring.name, 'migrate-to-cmk');
  return engine.advance(run.id);
}

export function stageStatuses(run: Run): Record<string, string> {
  return Object.fromEntries(run.stages.map((s) => [s.name, s.status]));
}
