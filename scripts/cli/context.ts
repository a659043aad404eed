/**
 * What every `rotate` subcommand receives. Commands write through `out`/`err` (never console) so
 * tests can run them in-process and read what an operator would see.
 */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** True when stdin and stdout are a terminal (prompts and live progress allowed). */
  readonly interactive: boolean;
  /** Reads one line from stdin (for confirmations); undefined when stdin is closed. */
  readonly readLine: (prompt: string) => Promise<string | undefined>;
}

export interface GlobalOptions {
  /** Path of the key-ring config. Default `keyrings.json` in the working directory, or $KEYROTOR_CONFIG. */
  readonly config: string;
  /** Machine-readable output on stdout. */
  readonly json: boolean;
  /** Explicit AWS endpoint (the emulator); otherwise AWS_ENDPOINT_URL[_<SERVICE>] or real AWS. */
  readonly endpoint?: string;
  /** Override of the state directory of the file store ($KEYROTOR_STATE_DIR). */
  readonly stateDir?: string;
}

export interface CliContext {
  readonly io: CliIo;
  readonly global: GlobalOptions;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

/** A subcommand module exports `run`; it returns the process exit code (see ExitCode). */
export type CommandRun<Options = Record<string, unknown>> = (
  ctx: CliContext,
  options: Options,
  args: readonly string[],
) => Promise<number>;
