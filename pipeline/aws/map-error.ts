import { AwsCallError, type Fault } from '../errors';
import type { AwsService } from './endpoints';
import { retryClassOf } from './retry';

/** What was being attempted when an AWS call failed; everything but `operation` is optional. */
export interface AwsCallContext {
  /** API operation, e.g. `DescribeKey`. */
  readonly operation: string;
  /** The key id/ARN, alias or instance ARN the call was about. */
  readonly target?: string;
  /** What the operator should do next; replaces the generic advice for the error's kind. */
  readonly hint?: string;
  readonly account?: string;
  readonly region?: string;
  /** The caller's principal ARN, when known (named in access-denied messages). */
  readonly principal?: string;
  /** The service called; used to name the IAM action (`kms:CreateKey`) in access-denied messages. */
  readonly service?: AwsService;
}

/** IAM action prefix per service (Service Authorization Reference). */
const IAM_PREFIX: Readonly<Record<AwsService, string>> = {
  kms: 'kms',
  'sso-admin': 'sso',
  identitystore: 'identitystore',
  sts: 'sts',
};

/** Error names that mean the credentials themselves are missing, invalid or expired. */
const CREDENTIAL_ERRORS = new Set([
  'CredentialsProviderError',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidSignatureException',
  'IncompleteSignature',
]);
const ACCESS_DENIED = new Set(['AccessDeniedException', 'AccessDenied', 'UnauthorizedOperation']);
const NOT_FOUND = new Set(['NotFoundException', 'ResourceNotFoundException']);
/** KMS: a disabled key answers DisabledException; other wrong states KMSInvalidStateException (KMS API Reference, Common errors of each operation). */
const WRONG_KEY_STATE = new Set(['KMSInvalidStateException', 'DisabledException']);

interface ErrorFacts {
  readonly code: string | undefined;
  readonly awsMessage: string;
  readonly requestId?: string;
  readonly status: number | undefined;
  /** True when the error came from an AWS response (it carries response metadata). */
  readonly fromService: boolean;
  readonly systemCode: string | undefined;
}

function factsOf(error: unknown): ErrorFacts {
  if (typeof error !== 'object' || error === null) {
    return { code: undefined, awsMessage: String(error), requestId: undefined, status: undefined, fromService: false, systemCode: undefined };
  }
  const e = error as { name?: string; message?: string; code?: unknown; $metadata?: { httpStatusCode?: number; requestId?: string }; $fault?: string };
  const status = e.$metadata?.httpStatusCode;
  return {
    code: e.name && e.name !== 'Error' ? e.name : undefined,
    awsMessage: e.message ?? '',
    requestId: e.$metadata?.requestId,
    status,
    fromService: status !== undefined || e.$fault !== undefined,
    systemCode: typeof e.code === 'string' ? e.code : undefined,
  };
}

function wherePhrase(ctx: AwsCallContext): string {
  if (ctx.account && ctx.region) return ` in account ${ctx.account} Region ${ctx.region}`;
  if (ctx.region) return ` in Region ${ctx.region}`;
  if (ctx.account) return ` in account ${ctx.account}`;
  return '';
}

/** The key state named in a KMS message such as "… is pending deletion." */
function keyStateIn(message: string): 'pending deletion' | 'disabled' | string | undefined {
  const match = /\bis (pending deletion|disabled|pending import|unavailable|creating|updating|pending replica deletion)\b/i.exec(message);
  return match?.[1]?.toLowerCase();
}

/** AWS names the missing action in its message ("… is not authorized to perform: kms:CreateKey …"). */
function deniedAction(message: string, ctx: AwsCallContext): string {
  const match = /perform:\s*([A-Za-z0-9-]+:[A-Za-z0-9*]+)/.exec(message);
  if (match?.[1]) return match[1];
  // Operations are named either bare (`CreateKey`) or as their IAM action already (`kms:CreateKey`).
  return ctx.service && !ctx.operation.includes(':') ? `${IAM_PREFIX[ctx.service]}:${ctx.operation}` : ctx.operation;
}

interface Diagnosis {
  readonly summary: string;
  readonly fault: Fault;
  readonly retryable: boolean;
  readonly nextStep: string;
}

function wrongStateAdvice(state: string | undefined, target: string): string {
  if (state === 'pending deletion') {
    return `the key is scheduled for deletion: \`rotate cancel-deletion\` restores it (it comes back Disabled; then enable it with EnableKey, \`aws kms enable-key --key-id ${target}\`), or point the ledger at another key`;
  }
  if (state === 'disabled') {
    return `enable the key with EnableKey (\`aws kms enable-key --key-id ${target}\`) if it should be in use, or \`rotate rollback\` to the previous key`;
  }
  return `check the key's state with \`aws kms describe-key --key-id ${target}\` and wait until it is Enabled, or use another key`;
}

function diagnose(facts: ErrorFacts, ctx: AwsCallContext, error: unknown): Diagnosis {
  const op = ctx.operation;
  const target = ctx.target ?? 'the requested resource';
  const where = wherePhrase(ctx);
  const code = facts.code ?? 'UnknownError';
  const aws = `${code}: ${facts.awsMessage}`;
  const name = facts.code ?? '';

  // Node's URL parser refused the endpoint before anything was sent. keyrotor checks the endpoints it
  // resolves (--endpoint, AWS_ENDPOINT_URL[_<SERVICE>]); this one came from elsewhere, such as a
  // profile's endpoint_url: still the operator's setting to fix, not a keyrotor bug.
  if (facts.systemCode === 'ERR_INVALID_URL') {
    return {
      summary: `${op} on ${target}${where} was not sent: its endpoint is not a valid URL (${code}: ${facts.awsMessage})`,
      fault: 'operator',
      retryable: false,
      nextStep: 'make the endpoint an http:// or https:// URL: --endpoint, AWS_ENDPOINT_URL[_<SERVICE>], or endpoint_url in the AWS config profile',
    };
  }
  if (CREDENTIAL_ERRORS.has(name)) {
    return {
      summary: `${op} on ${target}${where} failed because the AWS credentials are missing, invalid or expired (${aws})`,
      fault: 'operator',
      retryable: false,
      nextStep: 'refresh the credentials (e.g. `aws sso login`, or new OIDC/assume-role credentials) and run the command again',
    };
  }
  if (ACCESS_DENIED.has(name)) {
    const action = deniedAction(facts.awsMessage, ctx);
    const who = ctx.principal ?? 'the caller';
    return {
      summary: `${op} on ${target}${where} was denied: ${who} lacks ${action} (${aws})`,
      fault: 'operator',
      retryable: false,
      nextStep: `grant ${action} on ${target} to ${ctx.principal ?? 'the caller (`aws sts get-caller-identity` names it)'} in the key policy or its IAM policy, or run as a principal that has it`,
    };
  }
  if (NOT_FOUND.has(name)) {
    return {
      summary: `${op}: ${target} does not exist${where} (${aws})`,
      fault: 'operator',
      retryable: false,
      nextStep:
        ctx.service === 'sso-admin' || ctx.service === 'identitystore'
          ? 'check identityCenter.instanceArn / identityStoreArn in the config against `aws sso-admin list-instances`'
          : 'check the ledger (`rotate status`) and the alias in the config: the key ARN or alias may be wrong or the key deleted',
    };
  }
  if (WRONG_KEY_STATE.has(name)) {
    const state = name === 'DisabledException' ? 'disabled' : keyStateIn(facts.awsMessage);
    return {
      summary: `${op}: ${target}${where} is ${state ?? 'in a state that does not allow this operation'} (${aws})`,
      fault: 'operator',
      retryable: false,
      nextStep: wrongStateAdvice(state, target),
    };
  }
  switch (retryClassOf(error)) {
    case 'throttling':
      return {
        summary: `${op} on ${target}${where} was still throttled by AWS after retries with backoff (${aws})`,
        fault: 'aws',
        retryable: true,
        nextStep: 'wait a minute and run the same command again (every step is idempotent); if it persists, other callers share the request quota: request an increase in Service Quotas',
      };
    case 'conflict':
      return {
        summary: `${op} on ${target}${where} conflicts with a change still in progress, even after retries (${aws})`,
        fault: 'aws',
        retryable: true,
        nextStep: 'wait for the other change to finish (`rotate status`) and run the same command again',
      };
    case 'transient':
      if (!facts.fromService) {
        return {
          summary: `${op} on ${target}${where} could not reach the AWS endpoint (${facts.systemCode ?? code}: ${facts.awsMessage})`,
          fault: 'aws',
          retryable: true,
          nextStep: 'check network access and the endpoint (AWS_ENDPOINT_URL / --endpoint; is the emulator running?), then run the command again',
        };
      }
      return {
        summary: `AWS failed ${op} on ${target}${where} (${aws}, HTTP ${facts.status ?? '?'}), retries exhausted`,
        fault: 'aws',
        retryable: true,
        nextStep: 'a fault on the AWS side: run the same command again later (every step is idempotent)',
      };
    case 'never':
      break;
  }
  if (name === 'LimitExceededException' || name === 'ServiceQuotaExceededException') {
    return {
      summary: `${op} on ${target}${where} exceeds a resource quota (${aws})`,
      fault: 'operator',
      retryable: false,
      nextStep: 'delete unused keys or aliases, or request a quota increase in Service Quotas, then run again',
    };
  }
  if (name === 'AlreadyExistsException') {
    return {
      summary: `${op}: ${target}${where} already exists (${aws})`,
      fault: 'operator',
      retryable: false,
      nextStep: 'an alias or key of that name exists outside the ledger: adopt it (`rotate start --kind adopt`) or choose another name in the config',
    };
  }
  if (facts.fromService && (facts.status === undefined || facts.status < 500)) {
    return {
      summary: `${op} on ${target}${where} was rejected as invalid (${aws})`,
      fault: 'operator',
      retryable: false,
      nextStep: 'fix the input the AWS message names (config, ledger or command-line argument) and run the command again',
    };
  }
  if (facts.fromService) {
    return {
      summary: `AWS failed ${op} on ${target}${where} (${aws}, HTTP ${facts.status})`,
      fault: 'aws',
      retryable: false,
      nextStep: 'a fault on the AWS side that retrying does not fix: check the AWS Health Dashboard, then run the same command again',
    };
  }
  return {
    summary: `${op} on ${target}${where} failed before AWS answered (${aws})`,
    fault: 'internal',
    retryable: false,
    nextStep: 'this is likely a keyrotor bug: report it with the message above',
  };
}

/**
 * Turns whatever an SDK `send` threw into an AwsCallError that names the operation, the target,
 * the account and Region, the AWS code and message, whose fault it is and what to do next.
 * An AwsCallError passes through unchanged.
 */
export function mapAwsError(error: unknown, context: AwsCallContext): AwsCallError {
  if (error instanceof AwsCallError) return error;
  const facts = factsOf(error);
  const diagnosis = diagnose(facts, context, error);
  const nextStep = context.hint ?? diagnosis.nextStep;
  const requestId = facts.requestId ? ` [AWS request id ${facts.requestId}]` : '';
  return new AwsCallError(`${diagnosis.summary}${requestId}`, context.operation, facts.code, {
    fault: diagnosis.fault,
    retryable: diagnosis.retryable,
    nextStep,
    cause: error,
    ...(facts.requestId ? { requestId: facts.requestId } : {}),
  });
}

