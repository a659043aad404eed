/**
 * The `rotate` command line: every command, its arguments, options, examples and help, in one
 * declarative place. main.ts runs it; `rotate completion` and the README reference
 * (scripts/cli/reference.ts) read it, so help, completion and docs never disagree.
 */
import { Command, Option } from 'commander';
import { START_KINDS } from './kinds';
import { helpAfter } from './help';
import { registerTeamCommands, type TeamCommandName } from './team-commands';

/** The module that runs a command (scripts/cli/commands/<module>.ts). */
export type CommandModuleName =
  | 'synth' | 'lint' | 'plan' | 'start' | 'advance' | 'status' | 'runs' | 'logs' | 'rollback' | 'cancel' | 'delete'
  | 'cancel-deletion' | 'approve' | 'approvals' | 'replan' | 'gate' | 'audit-verify' | 'drift' | 'plan-guard' | 'emulator' | 'demo' | 'completion' | 'complete'
  | TeamCommandName;

export type ActionFor = (module: CommandModuleName) => (...received: unknown[]) => Promise<void>;

export interface ProgramEnv {
  readonly env: NodeJS.ProcessEnv;
  readonly version: string;
  readonly write: { out: (s: string) => void; err: (s: string) => void };
}

const approvalsDirOption = (): Option => new Option('--approvals-dir <dir>', 'approval files (default $KEYROTOR_APPROVALS_DIR, else approvals/ beside the config)');

export function buildProgram(action: ActionFor, { env, version, write }: ProgramEnv): Command {
  const program = new Command('rotate')
    .description('Rotate and migrate KMS keys (and the Identity Center key) through a staged, approved pipeline.')
    .version(version, '-V, --version', 'print the version')
    .option('-c, --config <path>', 'key-ring config file ($KEYROTOR_CONFIG)', env.KEYROTOR_CONFIG ?? 'keyrings.json')
    .option('--json', 'one versioned JSON document on stdout (schemas/cli/v1); progress on stderr')
    .option('--endpoint <url>', 'one AWS endpoint for every service, e.g. the emulator (else AWS_ENDPOINT_URL[_<SERVICE>], else AWS)')
    .option('--state-dir <dir>', 'file store directory ($KEYROTOR_STATE_DIR; default from the config)')
    .option('--wide', 'whole ARNs and unwrapped lines (default: fit 100 columns)')
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .showHelpAfterError('(run `rotate --help` for the commands, `rotate COMMAND --help` for one)')
    .showSuggestionAfterError(true)
    .configureOutput({ writeOut: write.out, writeErr: write.err })
    .exitOverride();
  program.addHelpText('after', () => helpAfter(['rotate plan identity-center', 'rotate start identity-center --signing-key ~/.ssh/id_ed25519', 'rotate advance latest --wait', 'rotate status latest']));

  const command = (spec: string, description: string, examples: readonly string[]): Command =>
    program.command(spec).description(description).addHelpText('after', () => helpAfter(examples));
  const kindOption = (): Option => new Option('-k, --kind <kind>', 'run kind').choices([...START_KINDS]).default('rotate');

  program.commandsGroup('Runs:');
  command('plan <keyring>', 'what a run would do, per stage: the AWS calls and values (+ create, ~ change, - delete, <= read); changes nothing', [
    'rotate plan identity-center',
    'rotate plan identity-center --kind migrate-to-cmk --offline',
    'rotate plan identity-center --kind retire-key --generation 1 --json',
  ])
    .addOption(kindOption())
    .option('--key <arn>', 'the key to retire (--kind retire-key): key ARN or id')
    .option('-g, --generation <n>', 'the generation to retire (--kind retire-key)')
    .option('--offline', 'do not read the alias and Identity Center live (they show as unknown)')
    .action(action('plan'));
  command('start <keyring>', "open a run on a key ring (takes the key ring's lease) and run preflight", [
    'rotate start identity-center --signing-key ~/.ssh/id_ed25519',
    'rotate start identity-center --kind migrate-to-cmk',
    'rotate start identity-center --kind adopt',
    'rotate start identity-center --kind retire-key --generation 1 --signing-key ~/.ssh/id_ed25519',
  ])
    .addOption(kindOption())
    .option('--key <arn>', 'the key to retire (--kind retire-key): key ARN or id')
    .option('-g, --generation <n>', 'the generation to retire (--kind retire-key)')
    .option('--dry-run', 'make every read-only check the real command makes; change nothing')
    .option('--signing-key <path>', 'sign the start with your SSH key from allowed_signers (who started the run, so you can never approve it)')
    .option('--as <identity>', 'your principal in allowed_signers (with --signing-key)')
    .option('--agent', 'the signing key is in ssh-agent; --signing-key names its .pub')
    .action(action('start'));
  command('advance <run>', 'run stages until one needs time or people, fails, or the run completes (never the deletion)', [
    'rotate advance latest:identity-center',
    'rotate advance identity-center-2026 --yes            # no question before the Identity Center switch',
    'rotate advance latest --wait --timeout 26h           # through the soak; exit 11 at the approval gate',
    'rotate advance latest --detailed-exitcode || echo "waits: $?"',
  ])
    .option('--dry-run', 'show the next stage; change nothing')
    .option('--stage-limit <n>', 'run at most N stages')
    .option('-y, --yes', 'do not ask before switching Identity Center (without a terminal it goes ahead, saying what it changes)')
    .option('--wait', 'keep advancing as waits end (soak: until its end; approvals: backoff 30 s → 10 min)')
    .option('--timeout <duration>', 'longest --wait waits: 90s, 30m, 2h, 1d, 1h30m')
    .option('--detailed-exitcode', 'exit 0 done, 10 waits for time, 11 for people, 12 stage limit, 13 ended')
    .addOption(approvalsDirOption())
    .action(action('advance'));
  command('status [run]', 'one run: its stages with times, what changed and what comes next; without RUN: open runs and each key ring', [
    'rotate status',
    'rotate status latest',
    'rotate status identity-center-2026 --wide',
    'rotate status --rotations',
    'rotate --json status latest | jq .run.next',
  ])
    .option('--rotations', "without RUN: also each active key's rotation history and remaining on-demand budget (live ListKeyRotations)")
    .action(action('status'));
  command('runs', 'the run history (open runs; --all for every run)', ['rotate runs', 'rotate runs --all --keyring identity-center', 'rotate runs --status failed --json'])
    .option('-a, --all', 'also runs that ended (completed, rolled back, cancelled)')
    .option('--keyring <name>', 'only runs of this key ring')
    .option('--status <status>', 'only runs with this status: open, waiting, failed, completed, rolled-back, cancelled')
    .action(action('runs'));
  command('logs <run>', "the run's entries of the audit log, as readable lines (reads the whole log: no index by run)", ['rotate logs latest', 'rotate --json logs identity-center-2026'])
    .action(action('logs'));
  command('rollback <run>', 'undo the completed stages of a run in reverse (before deletion); asks first on a terminal', [
    'rotate rollback latest --dry-run',
    'rotate rollback identity-center-2026 --yes',
  ])
    .option('--dry-run', 'list the AWS calls each undo would make; change nothing')
    .option('-y, --yes', 'do not ask for confirmation (without a terminal it goes ahead, saying what it undoes)')
    .action(action('rollback'));
  command('cancel <run>', 'end a run that has changed nothing in AWS and free its key ring', ['rotate cancel latest:identity-center'])
    .action(action('cancel'));
  command('delete <run>', "schedule the old key's deletion once the run waits for it (asks for confirmation on a terminal)", ['rotate delete latest', 'rotate delete identity-center-2026 --yes'])
    .option('-y, --yes', 'do not ask for confirmation; required where no one can answer (CI)')
    .action(action('delete'));
  command('cancel-deletion <keyring>', 'cancel a pending deletion (the safe direction; no approval needed)', [
    'rotate cancel-deletion identity-center --generation 1',
    'rotate cancel-deletion identity-center --key arn:aws:kms:us-east-1:111111111111:key/1234abcd-… --enable',
  ])
    .option('-g, --generation <n>', 'generation number in the ledger')
    .option('--key <arn>', 'key ARN or id (instead of --generation)')
    .option('--enable', 'enable the key after cancelling (it stays Disabled otherwise)')
    .option('--dry-run', 'make every read-only check the real command makes; change nothing')
    .action(action('cancel-deletion'));
  command('replan <run>', 're-bind an open run to the current config (quorum, signers, window, soak); earlier approvals become stale', ['rotate replan latest'])
    .action(action('replan'));

  program.commandsGroup('Approvals:');
  command('approve <run>', "sign the run's deletion approval with your SSH key; writes an approval file, never the run", [
    'rotate approve latest:identity-center --signing-key ~/.ssh/id_ed25519',
    'rotate approve identity-center-2026 --signing-key ~/.ssh/id_ed25519.pub --agent --out approvals/me.json',
  ])
    .requiredOption('--signing-key <path>', 'SSH private key, its .pub (key in ssh-agent or beside it), or its -cert.pub')
    .option('--agent', 'sign with the key held in ssh-agent (ssh-keygen -U); --signing-key names its .pub')
    .option('--as <identity>', 'your principal in allowed_signers (default: the one your key is listed under)')
    .option('--out <file>', 'write the approval here (default <approvals dir>/<run>/<key fingerprint>.json)')
    .addOption(approvalsDirOption())
    .option('-y, --yes', 'do not ask for confirmation')
    .action(action('approve'));
  command('approvals <run>', "the run's approvals, whether each counts and why not, and which were merged as one person", ['rotate approvals latest'])
    .addOption(approvalsDirOption())
    .action(action('approvals'));
  command('gate <run>', 'exit 0 only when the approval quorum holds for the current plan (exit 1 when it does not)', ['rotate gate latest --approvals-dir approvals'])
    .addOption(approvalsDirOption())
    .action(action('gate'));

  program.commandsGroup('Config, stacks and audit:');
  command('lint', 'validate the config and lint every key policy and the approver set; exit 1 on findings', ['rotate lint', 'rotate --json lint'])
    .action(action('lint'));
  command('synth', 'synthesize the Terraform stacks from the config and the ledgers', ['rotate synth', 'rotate synth -o /tmp/out'])
    .option('-o, --out <dir>', 'output directory ($CDKTF_OUTDIR, default cdktf.out)')
    .action(action('synth'));
  const audit = program.command('audit').description('the hash-chained audit log: `rotate audit verify` checks it');
  audit
    .command('verify')
    .description('verify the audit chain and the approval anchors; exit 1 if an entry was edited, reordered or removed')
    .addHelpText('after', () => helpAfter(['rotate audit verify', 'rotate --state-dir ./copy-of-state audit verify']))
    .action(action('audit-verify'));
  command('drift [keyrings...]', 'compare live AWS with the config and the latest ledger; exit 1 on drift', [
    'rotate drift',
    'rotate drift identity-center --synth-dir cdktf.out --deploy-gate --read-only',
  ])
    .option('--synth-dir <dir>', 'also check that the stacks in DIR were synthesized from the latest ledgers')
    .option('--deploy-gate', 'count only drift a deploy must not run over (pipeline-owned, stale synth)')
    .option('--read-only', 'do not move generations past their deletion date to deleted')
    .action(action('drift'));
  command('plan-guard <stack-dir> [plan-json]', 'refuse a Terraform plan (terraform show -json) that changes what the pipeline owns', [
    'rotate plan-guard cdktf.out/stacks/keys-111111111111-us-east-1 plan.json',
    'terraform show -json plan.out | rotate plan-guard cdktf.out/stacks/keys-111111111111-us-east-1 -',
  ]).action(action('plan-guard'));

  // Organization scale (team-commands.ts): `rotate bootstrap`, `rotate fleet …`.
  registerTeamCommands(program, action, command);

  program.commandsGroup('Local and shell:');
  command('emulator', 'serve the local AWS emulator (a test double) until stopped', ['rotate emulator', 'rotate emulator --port 0 --seed org.json'])
    .option('-p, --port <n>', 'port on 127.0.0.1 (0 = any free port)', '4566')
    .option('--seed <file>', 'organization seed JSON (accounts, instances, users)')
    .action(action('emulator'));
  command('demo', 'migrate an emulated organization to a CMK, then rotate it through every stage', ['rotate demo', 'rotate demo --keep /tmp/demo'])
    .option('--keep <dir>', "keep the demo's state and synth output in this directory")
    .action(action('demo'));
  command('completion <shell>', 'print the shell completion script (bash or zsh)', [
    'rotate completion bash > ~/.local/share/bash-completion/completions/rotate',
    'rotate completion zsh > "${fpath[1]}/_rotate"   # or: source <(rotate completion zsh) in ~/.zshrc',
  ]).action(action('completion'));
  // For the completion scripts: key ring names and run ids, one per line.
  program.command('__complete <what>', { hidden: true }).action(action('complete'));
  return program;
}
