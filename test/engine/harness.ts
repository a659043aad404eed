/**
 * One emulated organization, one workspace (config, file state store, approvers with real SSH
 * keys) and an Engine wired to both — the fixture every engine test starts from.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../emulator';
import { loadConfig } from '../../pipeline/config/load';
import type { Config, KeyRingConfig } from '../../pipeline/config/types';
import { FileStateStore } from '../../pipeline/state/file-store';
import { createAwsClients, type AwsClients } from '../../pipeline/aws';
import { Engine, type EngineDeps } from '../../pipeline/engine/engine';
import type { EngineOptions } from '../../pipeline/engine/types';
import type { Run } from '../../pipeline/state/types';
import { approveToFile } from '../../pipeline/approvals/approve';
import { createDemoWorkspace, operatorSignsStarts, type DemoWorkspace, type DemoWorkspaceOptions } from '../../scripts/demo/workspace';

export interface Harness {
  readonly emulator: Emulator;
  readonly ws: DemoWorkspace;
  readonly config: Config;
  readonly keyring: KeyRingConfig;
  readonly store: FileStateStore;
  readonly clients: AwsClients;
  /** A fresh engine (a new "process") sharing the store and clients. */
  engine(overrides?: Partial<EngineDeps> & { options?: EngineOptions }): Engine;
  /** Both demo approvers sign the run as it is now (approval files in the workspace's approvals/, which the engine's gate reads). */
  approveAll(runId: string): Promise<Run>;
  clock: { now: Date };
  close(): Promise<void>;
}

export async function createHarness(options: { workspace?: DemoWorkspaceOptions; emulator?: EmulatorOptions } = {}): Promise<Harness> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'keyrotor-engine-'));
  const emulator = await startEmulator({ port: 0, updateDelayMs: 20, ...options.emulator });
  const ws = await createDemoWorkspace(dir, options.workspace);
  const config = loadConfig(ws.configPath);
  const keyring = config.keyrings[0]!;
  const store = new FileStateStore(ws.stateDir);
  const env = { AWS_ACCESS_KEY_ID: 'AKIATESTOPERATOR', AWS_SECRET_ACCESS_KEY: 'test' };
  const clients = createAwsClients({ region: keyring.region, endpoint: emulator.endpoint, env, maxAttempts: 3 });
  const clock = { now: new Date() };
  // Each engine is a separate "process": its own pid, never a running one (above Linux's pid
  // limit), so a simulated crash leaves its execution lock to be taken over, as a killed process's is.
  let nextPid = 4_200_000;
  const harness: Harness = {
    emulator,
    ws,
    config,
    keyring,
    store,
    clients,
    clock,
    engine: (overrides = {}) =>
      new Engine({
        config,
        store,
        clientsFor: () => clients,
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
      await emulator.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return harness;
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
