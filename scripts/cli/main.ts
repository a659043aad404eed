/**
 * The `rotate` CLI. Each subcommand lives in its own module under ./commands and is loaded only
 * when it runs, so `rotate --help` never pays for the AWS SDK or cdktf.
 */
import { Command, Option } from 'commander';
import * as readline from 'node:readline';
import * as path from 'node:path';
import type { CliContext, CliIo, GlobalOptions } from './context';

interface CommandModule {
  run: (ctx: CliContext, options: Record<string, unknown>, args: readonly string[]) => Promise<number>;
}

type Loader = () => Promise<CommandModule>;

// Lazy loaders: one module per subcommand (changesets' layout). Literal specifiers keep tsc happy.
const commands: Record<string, Loader> = {
  synth: async () => import('./commands/synth'),
  lint: async () => import('./commands/lint'),
  plan: async () => import('./commands/plan'),
  start: async () => import('./commands/start'),
  advance: async () => import('./commands/advance'),
  status: async () => import('./commands/status'),
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
};

export function defaultIo(): CliIo {
  return {
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY),
    readLine: (prompt) =>
      new Promise((resolve) => {
        const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
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
  };
}

export interface MainOptions {
  readonly io?: CliIo;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/** Runs the CLI with `argv` (process.argv shape) and resolves to the exit code. */
export async function main(argv: readonly string[], options: MainOptions = {}): Promise<number> {
  const io = options.io ?? defaultIo();
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  let exitCode = 0;

  const program = new Command('rotate')
    .description('Rotate and migrate KMS keys (and the Identity Center key) through a staged, approved pipeline.')
    .option('-c, --config <path>', 'key-ring config file', env.KEYROTOR_CONFIG ?? 'keyrings.json')
    .option('--json', 'machine-readable output on stdout', false)
    .option('--endpoint <url>', 'AWS endpoint for every service (e.g. the local emulator); default: AWS_ENDPOINT_URL or AWS')
    .option('--state-dir <dir>', 'state directory of the file store (default from the config, or $KEYROTOR_STATE_DIR)')
    .showHelpAfterError('(run `rotate --help` for the list of commands)')
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .exitOverride();

  const action =
    (name: string) =>
    async (...received: unknown[]): Promise<void> => {
      const cmd = received[received.length - 1] as Command;
      const opts = cmd.opts();
      const g = program.opts();
      const global: GlobalOptions = {
        config: path.resolve(cwd, String(g.config)),
        json: Boolean(g.json),
        endpoint: (g.endpoint as string | undefined) ?? undefined,
        stateDir: (g.stateDir as string | undefined) ?? env.KEYROTOR_STATE_DIR,
      };
      const args = received.slice(0, -2).flat().filter((a) => a !== undefined).map(String); // variadic arguments arrive as one array
      const mod = await commands[name]!();
      exitCode = await mod.run({ io, global, env, cwd }, opts, args);
    };

  program.command('synth').description('synthesize the Terraform stacks from the config and the ledgers')
    .option('-o, --out <dir>', 'output directory', 'cdktf.out')
    .action(action('synth'));
  program.command('lint').description('validate the config and lint every key policy; exit 1 on findings')
    .action(action('lint'));
  const kinds = ['rotate', 'migrate-to-cmk', 'migrate-to-aws-owned', 'adopt', 'retire-key', 'rotate-material'];
  program.command('plan <keyring>').description('show the stages a run would take, without changing anything')
    .addOption(new Option('-k, --kind <kind>', 'run kind').choices(kinds).default('rotate'))
    .option('--key <arn>', 'the key to retire (--kind retire-key)')
    .option('-g, --generation <n>', 'the generation to retire (--kind retire-key)')
    .action(action('plan'));
  program.command('start <keyring>').description('open a run on a key ring (takes the key ring\'s lease) and run preflight')
    .addOption(new Option('-k, --kind <kind>', 'run kind').choices(kinds).default('rotate'))
    .option('--key <arn>', 'the key to retire (--kind retire-key): key ARN or id')
    .option('-g, --generation <n>', 'the generation to retire (--kind retire-key)')
    .option('--dry-run', 'make every read-only check the real command makes; change nothing', false)
    .option('--signing-key <path>', 'sign the start with your SSH key from allowed_signers (who started the run, so you can never approve it)')
    .option('--as <identity>', 'your principal in allowed_signers (with --signing-key)')
    .option('--agent', 'the signing key is in ssh-agent; --signing-key names its .pub', false)
    .action(action('start'));
  program.command('advance <run>').description('run stages until one needs time or people')
    .option('--dry-run', 'show the next stage; change nothing', false)
    .option('--stage-limit <n>', 'run at most N stages')
    .option('--approvals-dir <dir>', 'approval files (default $KEYROTOR_APPROVALS_DIR, else approvals/ beside the config)')
    .action(action('advance'));
  program.command('replan <run>').description('re-bind an open run to the current config (quorum, signers, window, soak); earlier approvals become stale')
    .action(action('replan'));
  program.command('status [run]').description('stages with times, what changed and what comes next (without RUN: open runs, generations, each active key\'s rotation history and on-demand budget)')
    .option('--offline', 'without RUN: skip the live ListKeyRotations reads (state only)', false)
    .action(action('status'));
  program.command('rollback <run>').description('undo the completed stages of a run in reverse (before deletion)')
    .option('--dry-run', 'show the undo plan; change nothing', false)
    .action(action('rollback'));
  program.command('cancel <run>').description('end a run that has changed nothing in AWS and free its key ring')
    .action(action('cancel'));
  program.command('delete <run>').description("schedule the old key's deletion once the run waits for it (asks for confirmation on a terminal)")
    .option('-y, --yes', 'do not ask for confirmation (CI)', false)
    .action(action('delete'));
  program.command('cancel-deletion <keyring>').description('cancel a pending deletion (the safe direction; no approval needed)')
    .option('-g, --generation <n>', 'generation number in the ledger')
    .option('--key <arn>', 'key ARN or id (instead of --generation)')
    .option('--enable', 'enable the key after cancelling (it stays Disabled otherwise)', false)
    .option('--dry-run', 'make every read-only check the real command makes; change nothing', false)
    .action(action('cancel-deletion'));
  program.command('approve <run>').description('sign the run\'s deletion approval with your SSH key; writes an approval file, never the run')
    .requiredOption('--signing-key <path>', 'SSH private key, its .pub (key in ssh-agent or beside it), or its -cert.pub')
    .option('--agent', 'sign with the key held in ssh-agent (ssh-keygen -U); --signing-key names its .pub', false)
    .option('--as <identity>', 'your principal in allowed_signers (default: the one your key is listed under)')
    .option('--out <file>', 'write the approval here (default <approvals dir>/<run>/<key fingerprint>.json)')
    .option('--approvals-dir <dir>', 'approvals directory (default $KEYROTOR_APPROVALS_DIR, else approvals/ beside the config)')
    .option('-y, --yes', 'do not ask for confirmation', false)
    .action(action('approve'));
  program.command('approvals <run>').description('list the run\'s approvals, whether each counts and why not, and which were merged as one person')
    .option('--approvals-dir <dir>', 'approvals directory (default $KEYROTOR_APPROVALS_DIR, else approvals/ beside the config)')
    .action(action('approvals'));
  program.command('gate <run>').description('exit 0 only when the approval quorum holds for the current plan')
    .option('--approvals-dir <dir>', 'approvals directory (default $KEYROTOR_APPROVALS_DIR, else approvals/ beside the config)')
    .action(action('gate'));
  program.command('audit').description('the hash-chained audit log')
    .command('verify').description('verify the audit chain; exit 1 if an entry was edited, reordered or removed')
    .action(action('audit-verify'));
  program.command('drift [keyrings...]').description('compare live AWS with the config and the latest ledger; exit 1 on drift')
    .option('--synth-dir <dir>', 'also check that the stacks in DIR were synthesized from the latest ledgers')
    .option('--deploy-gate', 'count only drift a deploy must not run over (pipeline-owned, stale synth)', false)
    .option('--read-only', 'do not move generations past their deletion date to deleted', false)
    .action(action('drift'));
  program.command('plan-guard <stack-dir> [plan-json]').description('refuse a Terraform plan (terraform show -json) that changes what the pipeline owns')
    .action(action('plan-guard'));
  program.command('emulator').description('serve the local AWS emulator (a test double) until stopped')
    .option('-p, --port <n>', 'port on 127.0.0.1 (0 = any free port)', '4566')
    .option('--seed <file>', 'organization seed JSON (accounts, instances, users)')
    .action(action('emulator'));
  program.command('demo').description('migrate an emulated organization to a CMK, then rotate it through every stage')
    .option('--keep <dir>', 'keep the demo\'s state and synth output in this directory')
    .action(action('demo'));

  try {
    await program.parseAsync(argv as string[]);
    return exitCode;
  } catch (error) {
    const { reportError } = await import('./report-error');
    return reportError(io, error, Boolean(program.opts().json));
  }
}
