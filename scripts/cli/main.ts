/**
 * The `rotate` CLI. The command line is declared in program.ts; each subcommand lives in its own
 * module under ./commands and is loaded only when it runs, so `rotate --help` never pays for the
 * AWS SDK or cdktf.
 */
import type { Command } from 'commander';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import type { CliClock, CliContext, CliIo, CliTrace, GlobalOptions } from './context';
import type { CommandModuleName } from './program';
import { TEAM_COMMAND_LOADERS } from './team-commands';

interface CommandModule {
  run: (ctx: CliContext, options: Record<string, unknown>, args: readonly string[]) => Promise<number>;
}

// Lazy loaders: one module per subcommand (changesets' layout). Literal specifiers keep tsc happy.
const commands: Record<CommandModuleName, () => Promise<CommandModule>> = {
  synth: async () => import('./commands/synth'),
  lint: async () => import('./commands/lint'),
  plan: async () => import('./commands/plan'),
  start: async () => import('./commands/start'),
  advance: async () => import('./commands/advance'),
  status: async () => import('./commands/status'),
  runs: async () => import('./commands/runs'),
  logs: async () => import('./commands/logs'),
  rollback: async () => import('./commands/rollback'),
  cancel: async () => import('./commands/cancel'),
  delete: async () => import('./commands/delete'),
  'cancel-deletion': async () => import('./commands/cancel-deletion'),
  approve: async () => import('./commands/approve'),
  approvals: async () => import('./commands/approvals'),
  replan: async () => import('./commands/replan'),
  gate: async () => import('./commands/gate'),
  'audit-verify': async () => import('./commands/audit-verify'),
  drift: async () => import('./commands/drift'),
  'plan-guard': async () => import('./commands/plan-guard'),
  emulator: async () => import('./commands/emulator'),
  demo: async () => import('./commands/demo'),
  completion: async () => import('./commands/completion'),
  complete: async () => import('./commands/complete'),
  ...TEAM_COMMAND_LOADERS,
};

export function defaultIo(): CliIo {
  const stderr = process.stderr;
  return {
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    interactive: Boolean(process.stdin.isTTY && stderr.isTTY),
    readLine: (prompt) =>
      new Promise((resolve) => {
        const rl = readline.createInterface({ input: process.stdin, output: stderr });
        let answered = false;
        rl.question(prompt, (answer) => {
          answered = true;
          rl.close();
          resolve(answer);
        });
        rl.on('close', () => {
          if (!answered) resolve(undefined);
        });
      }),
    ...(stderr.isTTY ? { terminal: { write: (text: string) => void stderr.write(text), columns: () => stderr.columns || 80 } } : {}),
  };
}

export const systemCliClock: CliClock = {
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** The package's version, from the package.json above this module (src and dist sit at different depths). */
export function packageVersion(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'keyrotor' && pkg.version) return pkg.version;
    } catch {
      // not here; look further up
    }
    if (path.dirname(dir) === dir) return 'unknown';
  }
}

export interface MainOptions {
  readonly io?: CliIo;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly clock?: CliClock;
}

/**
 * --endpoint as given, refused (an operator error naming it) unless it is an http(s) URL. Checked
 * for every command before it runs: an empty or mistyped value would otherwise be dropped
 * (falling back to AWS) or fail inside the first AWS request.
 */
async function checkedEndpointOption(endpoint: string | undefined): Promise<string | undefined> {
  if (endpoint === undefined) return undefined;
  const { checkEndpointUrl } = await import('../../pipeline/aws/endpoints');
  return checkEndpointUrl(endpoint, '--endpoint');
}

/**
 * The file store directory the operator chose (--state-dir, else $KEYROTOR_STATE_DIR), refused up
 * front, naming where it came from, when it is a file: the store would otherwise fail at its first
 * read with a bare ENOTDIR.
 */
async function checkedStateDir(cwd: string, option: string | undefined, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const dir = option ?? env.KEYROTOR_STATE_DIR;
  if (dir === undefined) return undefined;
  const { assertStateDirectory } = await import('../../pipeline/state/file-store');
  assertStateDirectory(path.resolve(cwd, dir), option !== undefined ? '--state-dir' : 'KEYROTOR_STATE_DIR');
  return dir;
}

/** Runs the CLI with `argv` (process.argv shape) and resolves to the exit code. */
export async function main(argv: readonly string[], options: MainOptions = {}): Promise<number> {
  const io = options.io ?? defaultIo();
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const clock = options.clock ?? systemCliClock;
  const trace: CliTrace = {};
  let exitCode = 0;
  let commandName = '';
  const { buildProgram } = await import('./program');

  const program: Command = buildProgram(
    (name) =>
      async (...received: unknown[]): Promise<void> => {
        const cmd = received[received.length - 1] as Command;
        commandName = cmd.parent && cmd.parent !== program ? `${cmd.parent.name()} ${cmd.name()}` : cmd.name();
        const g = program.opts();
        const global: GlobalOptions = {
          config: path.resolve(cwd, String(g.config)),
          json: Boolean(g.json),
          endpoint: await checkedEndpointOption(g.endpoint as string | undefined),
          stateDir: await checkedStateDir(cwd, g.stateDir as string | undefined, env),
          wide: Boolean(g.wide),
        };
        // Variadic arguments arrive as one array.
        const args = received.slice(0, -2).flat().filter((a) => a !== undefined).map(String);
        const mod = await commands[name]();
        exitCode = await mod.run({ io, global, env, cwd, clock, command: commandName, trace }, cmd.opts(), args);
      },
    { env, version: packageVersion(), write: { out: (s) => io.out(s), err: (s) => io.err(s) } },
  );

  try {
    await program.parseAsync(argv as string[]);
    return exitCode;
  } catch (error) {
    const { reportError } = await import('./report-error');
    return reportError({ io, global: { json: Boolean(program.opts().json), wide: Boolean(program.opts().wide) }, command: commandName || commandWordsIn(program, argv), trace }, error);
  }
}

/**
 * The command an invocation names, for the error of a parse that failed before the command ran:
 * the first word that is neither a global option nor an option's value (`rotate --json status …`
 * is `status`), with its subcommand when it has them (`audit verify`, as a running command names
 * itself); an unknown command is that word as typed. Never an option: the JSON's `command` must
 * say which command failed.
 */
function commandWordsIn(program: Command, argv: readonly string[]): string {
  const words = operandsAfterGlobalOptions(program, argv.slice(2));
  const [first, second] = words;
  if (first === undefined) return '';
  const command = program.commands.find((c) => c.name() === first || c.aliases().includes(first));
  const sub = second === undefined ? undefined : command?.commands.find((c) => c.name() === second || c.aliases().includes(second));
  return sub ? `${command!.name()} ${sub.name()}` : (command?.name() ?? first);
}

/** The arguments left once the leading global options (and the values they take) are skipped. */
function operandsAfterGlobalOptions(program: Command, args: readonly string[]): string[] {
  let i = 0;
  while (i < args.length) {
    const arg = args[i]!;
    if (arg === '--') return args.slice(i + 1);
    if (!arg.startsWith('-') || arg === '-') break;
    i += takesSeparateValue(program, arg) ? 2 : 1;
  }
  return args.slice(i);
}

/** True for `--config` or `-c` (the value is the next argument), false for `--config=x`, `-cx` and flags. */
function takesSeparateValue(program: Command, arg: string): boolean {
  if (arg.includes('=')) return false;
  const option = program.options.find((o) => o.long === arg || o.short === arg);
  return option !== undefined && (option.required || option.optional);
}
