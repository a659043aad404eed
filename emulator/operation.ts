/** The four services the emulator speaks, named as the call log names them. */
export type ServiceName = 'kms' | 'sso-admin' | 'identitystore' | 'sts';

/** Who is calling, derived from the SigV4 credential scope and the principal registry. */
export interface Caller {
  readonly accessKeyId: string;
  /** Principal ARN (IAM user or STS assumed role). */
  readonly arn: string;
  /** The caller's account: the principal ARN's account. */
  readonly account: string;
  /** The Region of the SigV4 credential scope. */
  readonly region: string;
}

export interface OperationContext {
  readonly caller: Caller;
  /** The emulator's clock (dates it reports, deletion dates). */
  readonly now: () => Date;
  readonly requestId: string;
}

/** One modelled operation of one service. */
export interface OperationDefinition {
  /** True when the call changes state (the call log marks it; the pipeline's budget counts it). */
  readonly mutating: boolean;
  readonly handle: (input: Record<string, unknown>, ctx: OperationContext) => unknown;
  /** What the call acts on, for the call log (key ARN, alias, instance ARN); `output` is absent on failure. */
  readonly target?: (input: Record<string, unknown>, output?: unknown) => string | undefined;
  /**
   * The request-quota buckets the call draws from, when not its own operation in the caller's
   * Region (ReplicateKey counts as a CreateKey in the replica Region).
   */
  readonly quotaScopes?: (input: Record<string, unknown>, caller: Caller) => readonly { operation: string; region: string }[];
}

export type OperationTable = Readonly<Record<string, OperationDefinition>>;

/** Reads a string member for a call-log target without validating it. */
export const member =
  (name: string) =>
  (input: Record<string, unknown>): string | undefined =>
    typeof input[name] === 'string' ? (input[name] as string) : undefined;
