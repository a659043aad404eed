/**
 * What every `rotate` subcommand receives. Commands write through `out`/`err` (never console) so
 * tests can run them in-process and read what an operator would see.
 */
import type { AwsContext } from './aws-context';
import type { Run } from '../../pipeline/state/types';

/** Raw access to the terminal stderr is, for the live view's redraws. */
export interface CliTerminal {
  write(text: string): void;
  columns(): number;
}

export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** True when stdin and stderr are a terminal: prompts can be answered. */
  readonly interactive: boolean;
  /** Reads one line from stdin (for confirmations); undefined when stdin is closed. */
  readonly readLine: (prompt: string) => Promise<string | undefined>;
  /** Present when stderr is a terminal: the live view draws there. */
  readonly terminal?: CliTerminal;
}

/** Time as the CLI sees it; injected so `advance --wait` never sleeps for real in tests. */
export interface CliClock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}

export interface GlobalOptions {
  /** Path of the key-ring config. Default `keyrings.json` in the working directory, or $KEYROTOR_CONFIG. */
  readonly config: string;
  /** Machine-readable output on stdout (versioned, schemas/cli/v1); everything else goes to stderr. */
  readonly json: boolean;
  /** Explicit AWS endpoint (the emulator); otherwise AWS_ENDPOINT_URL[_<SERVICE>] or real AWS. */
  readonly endpoint?: string;
  /** Override of the state directory of the file store ($KEYROTOR_STATE_DIR). */
  readonly stateDir?: string;
  /** Whole ARNs and unwrapped lines instead of fitting 100 columns. */
  readonly wide: boolean;
}

/** What one invocation learned that its final output (or its error) reports. */
export interface CliTrace {
  /** The AWS context the command talked to (endpoint, account, Region, caller), once known. */
  aws?: AwsContext;
  /** Every AWS context announced, in order (a command spanning accounts or Regions has several). */
  awsContexts?: AwsContext[];
  /** The AWS contexts already announced (endpoints, account, Region, caller), each said once. */
  announced?: Set<string>;
  /** The run as it stood when the command failed: the error's JSON carries it. */
  failedRun?: Run;
}

export interface CliContext {
  readonly io: CliIo;
  readonly global: GlobalOptions;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly clock: CliClock;
  /** The command's name as typed (`status`, `audit verify`): the `command` field of its JSON. */
  readonly command: string;
  readonly trace: CliTrace;
}

/** A subcommand module exports `run`; it returns the process exit code (see ExitCode). */
export type CommandRun<Options = Record<string, unknown>> = (
  ctx: CliContext,
  options: Options,
  args: readonly string[],
) => Promise<number>;
