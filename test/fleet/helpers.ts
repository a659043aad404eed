/**
 * A small emulated organization for fleet tests: a fleet workspace (key rings in some accounts ×
 * Regions, roles declared in `access`), the emulator with the CI identity and each account's role,
 * and the real `rotate` CLI run in-process as the CI identity.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../emulator';
import { main } from '../../scripts/cli/main';
import type { CliIo } from '../../scripts/cli/context';
import { QuotaRateLimiter } from '../../pipeline/aws/rate-limiter';
import { ciEnv, createFirstGenerations, createFleetWorkspace, seedFleetIdentities, type FleetWorkspace, type FleetWorkspaceOptions } from '../../scripts/demo/fleet-workspace';
import type { DemoWorkspace } from '../../scripts/demo/workspace';

export interface CliResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export interface Org {
  readonly emulator: Emulator;
  readonly ws: FleetWorkspace;
  readonly dir: string;
  rotate(args: readonly string[], env?: Record<string, string>): Promise<CliResult>;
  /** `--json` output of a command, parsed. */
  json<T = any>(args: readonly string[], env?: Record<string, string>): Promise<{ code: number; body: T; err: string }>;
  close(): Promise<void>;
}

export async function createOrg(options: FleetWorkspaceOptions & { emulator?: EmulatorOptions; keysFrom?: DemoWorkspace }): Promise<Org> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'keyrotor-fleet-'));
  const emulator = await startEmulator({ port: 0, updateDelayMs: 10, ...options.emulator });
  const ws = await createFleetWorkspace(dir, options);
  seedFleetIdentities(emulator, ws);
  const rotate = async (args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> => {
    let out = '';
    let err = '';
    const io: CliIo = { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`), interactive: false, readLine: async () => undefined };
    const code = await main(['node', 'rotate', '--config', ws.configPath, '--endpoint', emulator.endpoint, ...args], { io, env: { ...ciEnv(ws), KEYROTOR_APPROVALS_DIR: ws.approvalsDir, ...env }, cwd: dir });
    return { code, out, err };
  };
  return {
    emulator,
    ws,
    dir,
    rotate,
    json: async (args, env) => {
      const result = await rotate(['--json', ...args], env);
      let body: any;
      try {
        body = JSON.parse(result.out);
      } catch {
        throw new Error(`not JSON (exit ${result.code}):\n${result.out}\n${result.err}`);
      }
      return { code: result.code, body, err: result.err };
    },
    close: async () => {
      await emulator.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Every key ring's generation 1 created (as the stacks' first apply would) and adopted: where rotations start from. */
export async function adoptAll(org: Org): Promise<void> {
  await createFirstGenerations(org.ws, org.emulator.endpoint, new QuotaRateLimiter());
  const started = await org.json(['fleet', 'start', '--all', '--kind', 'adopt']);
  if (started.code !== 0) throw new Error(`fleet start adopt: exit ${started.code}: ${JSON.stringify(started.body)}`);
  const advanced = await org.json(['fleet', 'advance', '--all']);
  if (advanced.code !== 0 || advanced.body.outcomes.some((o: { outcome: string }) => o.outcome !== 'completed')) {
    throw new Error(`fleet advance adopt: ${JSON.stringify(advanced.body.outcomes)}`);
  }
}
