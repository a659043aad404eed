/**
 * The parts of `--help` every command shares: environment variables and exit codes (from the one
 * ExitCode mapping), and the help text layout. The README's CLI reference is generated from the
 * same program (scripts/cli/reference.ts), so the two cannot drift.
 */
import { ExitCode } from '../../pipeline/errors';

export const ENVIRONMENT: ReadonlyArray<readonly [string, string]> = [
  ['KEYROTOR_CONFIG', 'config file (default keyrings.json); --config wins'],
  ['KEYROTOR_STATE_DIR', 'file store directory; --state-dir wins'],
  ['KEYROTOR_OPERATOR', 'who you are in runs and the audit log (default: the STS caller ARN)'],
  ['KEYROTOR_APPROVALS_DIR', 'approval files the gate counts (default approvals/ beside the config)'],
  ['AWS_ENDPOINT_URL[_<SERVICE>]', 'endpoints, e.g. the emulator (KMS, SSO_ADMIN, IDENTITYSTORE, STS, DYNAMODB); --endpoint wins'],
  ['AWS_PROFILE, AWS_ACCESS_KEY_ID', "credentials, through the AWS SDK's default chain"],
  ['CDKTF_OUTDIR', 'synth output directory (default cdktf.out); --out wins'],
];

/** Every exit code, with what it means: the one list --help and the README print. */
export const EXIT_CODES: ReadonlyArray<readonly [number, string]> = [
  [ExitCode.ok, 'done (a plain `advance` also exits 0 while the run waits)'],
  [ExitCode.notSatisfied, 'the answer is no: gate not satisfied, lint findings, audit chain broken, not confirmed'],
  [ExitCode.operatorError, 'operator error: bad input or config, a precondition to fix (see `next:`)'],
  [ExitCode.awsError, 'AWS-side or transient: run the same command again (every step is idempotent); the message carries AWS\'s request id'],
  [ExitCode.internalError, 'a bug in keyrotor'],
  [ExitCode.waitingTime, 'the run waits for time: a soak (advance --wait / --detailed-exitcode)'],
  [ExitCode.waitingPeople, 'the run waits for people: approvals, or `rotate delete` (same flags)'],
  [ExitCode.stageLimit, 'stopped at --stage-limit with stages left (--detailed-exitcode)'],
  [ExitCode.runEnded, 'the run ended without completing: rolled back or cancelled (same flags)'],
  [ExitCode.fleetPartial, 'fleet commands: some key rings failed, the others went on (each one\'s code is in the summary)'],
  [ExitCode.interrupted, 'interrupted (Ctrl-C); the run stopped at a recorded point'],
];

function table(rows: ReadonlyArray<readonly [string | number, string]>): string {
  const width = Math.max(...rows.map(([k]) => String(k).length));
  return rows.map(([k, v]) => `  ${String(k).padEnd(width)}  ${v}`).join('\n');
}

/** The help text after a command's options: its examples, then the shared sections. */
export function helpAfter(examples: readonly string[]): string {
  const parts = [];
  if (examples.length > 0) parts.push(`Examples:\n${examples.map((e) => `  $ ${e}`).join('\n')}`);
  parts.push(
    'RUN is a run id, a unique prefix of one, `latest` or `latest:KEYRING`.',
    `Environment:\n${table(ENVIRONMENT)}`,
    `Exit codes:\n${table(EXIT_CODES)}`,
    'With --json, stdout carries one JSON document (schemas/cli/v1/<command>.schema.json); progress goes to stderr.',
  );
  return `\n${parts.join('\n\n')}`;
}
