/**
 * The CLI as an operator meets it, in-process: `rotate …` through the real parser against the
 * emulator, with a workspace (config, file store, approvers' SSH keys), a fake clock that moves
 * only when the CLI sleeps (so `--wait` never waits for real), and a terminal that answers prompts.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../scripts/cli/main';
import type { CliClock, CliIo } from '../../scripts/cli/context';
import { startEmulator, type Emulator } from '../../emulator';
import { actAsPipelineRole, createDemoWorkspace, type DemoWorkspace, type DemoWorkspaceOptions } from '../../scripts/demo/workspace';

export interface CliResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export interface RunOptions {
  /** Answers typed at prompts, in order; present → stdin and stderr are a terminal. */
  readonly answers?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Leave --endpoint out (the environment decides). */
  readonly noEndpoint?: boolean;
}

/** A clock that only moves when the code under test sleeps (or the test moves it). */
export class FakeClock implements CliClock {
  offsetMs = 0;
  readonly sleeps: number[] = [];
  onSleep: ((ms: number) => Promise<void> | void) | undefined;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.offsetMs += ms;
    await this.onSleep?.(ms);
  }
}

export class CliWorld {
  readonly clock = new FakeClock();
  prompts: string[] = [];

  private constructor(
    readonly emulator: Emulator,
    readonly ws: DemoWorkspace,
    readonly dir: string,
  ) {}

  static async create(keysFrom?: DemoWorkspace, options: DemoWorkspaceOptions = {}): Promise<CliWorld> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'keyrotor-cli-'));
    const emulator = await startEmulator({ port: 0, updateDelayMs: 10 });
    const ws = await createDemoWorkspace(dir, { ...options, ...(keysFrom ? { keysFrom } : {}) });
    // The operator acts as the key ring's pipeline role (the key policy's lockout rules).
    actAsPipelineRole(emulator, 'AKIATESTOPERATOR');
    return new CliWorld(emulator, ws, dir);
  }

  private synthDir: string | undefined;

  /**
   * A synth output directory inside the project (git-ignored cdktf.out/): synth refuses output
   * elsewhere, since the Identity Center helper is reached by a path relative to the stack.
   */
  synthOut(): string {
    if (!this.synthDir) {
      const base = path.resolve(__dirname, '../../cdktf.out');
      mkdirSync(base, { recursive: true });
      this.synthDir = mkdtempSync(path.join(base, 'test-cli-'));
    }
    return this.synthDir;
  }

  get env(): NodeJS.ProcessEnv {
    return { KEYROTOR_OPERATOR: this.ws.operator, AWS_ACCESS_KEY_ID: 'AKIATESTOPERATOR', AWS_SECRET_ACCESS_KEY: 'test', HOME: this.dir };
  }

  async rotate(...args: string[]): Promise<CliResult> {
    return this.rotateWith({}, ...args);
  }

  async rotateWith(options: RunOptions, ...args: string[]): Promise<CliResult> {
    let out = '';
    let err = '';
    const answers = [...(options.answers ?? [])];
    const io: CliIo = {
      out: (t) => (out += `${t}\n`),
      err: (t) => (err += `${t}\n`),
      interactive: options.answers !== undefined,
      readLine: async (prompt) => {
        this.prompts.push(prompt);
        err += prompt;
        return answers.shift();
      },
    };
    const endpoint = options.noEndpoint ? [] : ['--endpoint', this.emulator.endpoint];
    const code = await main(['node', 'rotate', '--config', this.ws.configPath, ...endpoint, ...args], { io, env: { ...this.env, ...options.env }, cwd: this.dir, clock: this.clock });
    return { code, out, err };
  }

  /** The id of the newest run. */
  async latestId(): Promise<string> {
    const result = await this.rotate('--json', 'runs', '--all');
    const runs = (JSON.parse(result.out) as { runs: Array<{ id: string }> }).runs;
    return runs[runs.length - 1]!.id;
  }

  mutatingCalls(): string[] {
    return this.emulator.callLog().filter((c) => c.mutating).map((c) => `${c.service === 'sso-admin' ? 'sso' : c.service}:${c.operation}`);
  }

  async close(): Promise<void> {
    await this.emulator.stop();
    await rm(this.dir, { recursive: true, force: true });
    if (this.synthDir) await rm(this.synthDir, { recursive: true, force: true });
  }
}

/** Approver keys made once per suite (ssh-keygen is the slow part of a workspace). */
export async function sharedKeys(): Promise<{ ws: DemoWorkspace; dispose(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'keyrotor-cli-keys-'));
  const ws = await createDemoWorkspace(dir);
  return { ws, dispose: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Registers the hooks of a suite whose tests each get a fresh world (emulator, workspace) made with
 * the suite's shared keys; returns the current world.
 */
export function worldPerTest(options: DemoWorkspaceOptions = {}, setUp: (w: CliWorld) => Promise<void> = async () => undefined): () => CliWorld {
  let keys: Awaited<ReturnType<typeof sharedKeys>>;
  let world: CliWorld;
  beforeAll(async () => {
    keys = await sharedKeys();
  });
  afterAll(async () => keys.dispose());
  beforeEach(async () => {
    world = await CliWorld.create(keys.ws, options);
    await setUp(world);
  });
  afterEach(async () => world.close());
  return () => world;
}

/** Registers the hooks of a suite whose tests share one world, in order (each builds on the last). */
export function sharedWorld(options: DemoWorkspaceOptions = {}, setUp: (w: CliWorld) => Promise<void> = async () => undefined): () => CliWorld {
  let keys: Awaited<ReturnType<typeof sharedKeys>>;
  let world: CliWorld;
  beforeAll(async () => {
    keys = await sharedKeys();
    world = await CliWorld.create(keys.ws, options);
    await setUp(world);
  });
  afterAll(async () => {
    await world.close();
    await keys.dispose();
  });
  return () => world;
}
