/**
 * The organization-scale commands — `rotate bootstrap` and `rotate fleet …` — declared here and
 * added to the program by program.ts with one call; their modules load only when they run.
 */
import type { Command } from 'commander';
import type { CommandRun } from './context';
import { helpAfter } from './help';
import type { ActionFor } from './program';

export type TeamCommandName = 'bootstrap' | 'fleet-plan' | 'fleet-start' | 'fleet-advance' | 'fleet-status' | 'fleet-approve' | 'fleet-delete' | 'fleet-run';

interface CommandModule {
  run: CommandRun<any>;
}

const fleet = (sub: 'plan' | 'start' | 'advance' | 'status' | 'approve' | 'delete' | 'run') => async (): Promise<CommandModule> => ({ run: (await import('./commands/fleet')).runners[sub] });

export const TEAM_COMMAND_LOADERS: Record<TeamCommandName, () => Promise<CommandModule>> = {
  bootstrap: async () => import('./commands/bootstrap'),
  'fleet-plan': fleet('plan'),
  'fleet-start': fleet('start'),
  'fleet-advance': fleet('advance'),
  'fleet-status': fleet('status'),
  'fleet-approve': fleet('approve'),
  'fleet-delete': fleet('delete'),
  'fleet-run': fleet('run'),
};

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** The selection options every fleet subcommand takes. */
function withSelection(command: Command): Command {
  return command
    .option('--all', 'every key ring of the config', false)
    .option('--account <id>', 'key rings in this account (repeatable)', collect)
    .option('--region <region>', 'key rings in this Region (repeatable)', collect)
    .option('--name <glob>', 'key rings by name, `*` matches anything (repeatable)', collect)
    .option('--tag <key=value>', 'key rings with this tag (or just the key; repeatable)', collect);
}

const KINDS = ['rotate', 'migrate-to-cmk', 'migrate-to-aws-owned', 'adopt'];

export function registerTeamCommands(
  program: Command,
  action: ActionFor,
  command: (spec: string, description: string, examples: readonly string[]) => Command,
): void {
  program.commandsGroup('Organization (team mode, fleets):');
  command('bootstrap', 'team mode from nothing: write the pipeline stack (state table, CI identity, roles) for an administrator to apply, and the ledger export', [
    'rotate bootstrap',
    'rotate bootstrap --check',
  ])
    .option('-o, --out <dir>', 'output directory', 'cdktf.out')
    .option('--check', "after the apply: assume every account's role and read the state table from this identity; exit 1 if anything is missing", false)
    .action(action('bootstrap'));

  const group = program.command('fleet').description('run commands over many key rings at once (select with --all, --account, --region, --name, --tag)');
  const sub = (spec: string, description: string, examples: readonly string[]): Command =>
    withSelection(group.command(spec).description(description).addHelpText('after', () => helpAfter(examples)));

  sub('plan', 'what a run would do on each selected key ring, and the floor its quota-bound calls set; changes nothing', ['rotate fleet plan --all', 'rotate fleet plan --account 222222222222 --kind adopt'])
    .option('-k, --kind <kind>', `run kind (${KINDS.join(', ')})`, 'rotate')
    .action(action('fleet-plan'));
  sub('run', 'each selected key ring as far as it goes on its own: start, advance, wait for approvals (--wait-for-people), delete when ready (--delete)', [
    'rotate fleet run --all --signing-key ~/.ssh/id_ed25519',
    'rotate fleet run --region eu-west-1 --wait-for-people 30m --delete --yes',
  ])
    .option('-k, --kind <kind>', `run kind for key rings without an open run (${KINDS.join(', ')})`, 'rotate')
    .option('--concurrency <n>', 'key rings in flight at once (default: all)')
    .option('--signing-key <path>', 'sign each start with your SSH key from allowed_signers')
    .option('--as <identity>', 'your principal in allowed_signers (with --signing-key)')
    .option('--agent', 'the signing key is in ssh-agent; --signing-key names its .pub', false)
    .option('--wait-for-people <duration>', 'watch waiting gates for approval files this long (e.g. 30m); default: do not wait')
    .option('--delete', "schedule each old key's deletion as soon as its run is ready (one confirmation for all)", false)
    .option('--approvals-dir <dir>', 'approval files the gates read (default $KEYROTOR_APPROVALS_DIR, else approvals/ beside the config)')
    .option('-y, --yes', 'do not ask for confirmation of --delete (CI)', false)
    .action(action('fleet-run'));
  sub('start', 'open a run on each selected key ring and run its preflight', ['rotate fleet start --all --signing-key ~/.ssh/id_ed25519', 'rotate fleet start --tag team=payments --kind adopt'])
    .option('-k, --kind <kind>', `run kind (${KINDS.join(', ')})`, 'rotate')
    .option('--concurrency <n>', 'key rings in flight at once (default: all; the rate limiter keeps AWS within its quotas)')
    .option('--signing-key <path>', 'sign each start with your SSH key from allowed_signers')
    .option('--as <identity>', 'your principal in allowed_signers (with --signing-key)')
    .option('--agent', 'the signing key is in ssh-agent; --signing-key names its .pub', false)
    .action(action('fleet-start'));
  sub('advance', "advance each selected key ring's open run until it waits, fails or completes", ['rotate fleet advance --all', 'rotate fleet advance --name "payments-*"'])
    .option('--concurrency <n>', 'key rings in flight at once (default: all)')
    .option('--approvals-dir <dir>', 'approval files the gates read (default $KEYROTOR_APPROVALS_DIR, else approvals/ beside the config)')
    .action(action('fleet-advance'));
  sub('status', 'per key ring: its open run, the stage, what it waits for, or why it failed', ['rotate fleet status --all', 'rotate --json fleet status --region eu-west-1'])
    .action(action('fleet-status'));
  sub('approve', 'sign the deletion of every selected run waiting at its gate: shown together, one signature per run', [
    'rotate fleet approve --all --signing-key ~/.ssh/id_ed25519',
    'rotate fleet approve --account 222222222222 --signing-key ~/.ssh/id_ed25519 --yes',
  ])
    .requiredOption('--signing-key <path>', 'SSH private key, its .pub (key in ssh-agent or beside it), or its -cert.pub')
    .option('--agent', 'sign with the key held in ssh-agent', false)
    .option('--as <identity>', 'your principal in allowed_signers')
    .option('--approvals-dir <dir>', 'approvals directory (default $KEYROTOR_APPROVALS_DIR, else approvals/ beside the config)')
    .option('-y, --yes', 'do not ask for confirmation', false)
    .action(action('fleet-approve'));
  sub('delete', "schedule the old key's deletion on every selected run ready for it (one confirmation for all)", ['rotate fleet delete --all', 'rotate fleet delete --region eu-west-1 --yes'])
    .option('--concurrency <n>', 'key rings in flight at once (default: all)')
    .option('--approvals-dir <dir>', 'approval files the gates read')
    .option('-y, --yes', 'do not ask for confirmation (CI)', false)
    .action(action('fleet-delete'));
}
