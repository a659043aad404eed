import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { credentialError, parseCredentialScope, type PrincipalRegistry } from './callers';
import type { CallLog, FaultInjector, QuotaLimiter } from './controls';
import type { OperationTable, ServiceName } from './operation';
import { queryErrorXml, queryResponseXml } from './query-protocol';
import { AwsServiceError } from './service-error';

/** X-Amz-Target prefixes of the AWS JSON 1.1 services (each SDK client's serviceTarget). */
const JSON_TARGETS: Readonly<Record<string, ServiceName>> = {
  TrentService: 'kms',
  SWBExternalService: 'sso-admin',
  AWSIdentityStore: 'identitystore',
};

export interface AwsRouterDeps {
  readonly services: Readonly<Record<ServiceName, OperationTable>>;
  readonly principals: PrincipalRegistry;
  readonly faults: FaultInjector;
  readonly quotas: QuotaLimiter;
  readonly calls: CallLog;
  readonly now: () => Date;
  readonly defaultRegion: string;
}

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function send(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, { ...reply.headers, 'content-length': String(Buffer.byteLength(reply.body)) });
  res.end(reply.body);
}

/** Which service and operation a request is for, and its input members. */
function route(req: IncomingMessage, body: string, scopeService: string | undefined): { service: ServiceName; operation: string; input: Record<string, unknown> } {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') {
    const [prefix, operation] = target.split('.', 2);
    const service = JSON_TARGETS[prefix ?? ''];
    if (!service || !operation) throw new AwsServiceError('UnknownOperationException', `X-Amz-Target ${target} names no emulated service.`);
    let input: unknown;
    try {
      input = body.trim() === '' ? {} : JSON.parse(body);
    } catch {
      throw new AwsServiceError('SerializationException', `The request body of ${target} is not valid JSON.`);
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new AwsServiceError('SerializationException', `The request body of ${target} must be a JSON object.`);
    return { service, operation, input: input as Record<string, unknown> };
  }
  // STS uses the query protocol: a form-encoded POST with Action and Version.
  const contentType = String(req.headers['content-type'] ?? '');
  if (contentType.startsWith('application/x-www-form-urlencoded') || scopeService === 'sts') {
    const form = new URLSearchParams(body);
    const operation = form.get('Action');
    if (!operation) throw new AwsServiceError('MissingAction', 'The query request has no Action parameter.');
    const input: Record<string, unknown> = {};
    for (const [k, v] of form) if (k !== 'Action' && k !== 'Version') input[k] = v;
    return { service: 'sts', operation, input };
  }
  throw new AwsServiceError('UnknownOperationException', 'The request has neither an X-Amz-Target header nor a query-protocol Action.');
}

function jsonReply(requestId: string, result: unknown): Reply {
  return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId }, body: JSON.stringify(result ?? {}) };
}

/** AWS JSON 1.1 error: `{"__type": code, "message": …}` plus X-Amzn-ErrorType. */
function jsonError(requestId: string, error: AwsServiceError): Reply {
  return {
    status: error.status,
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId, 'x-amzn-errortype': error.code },
    body: JSON.stringify({ __type: error.code, message: error.message, Message: error.message, ...error.members }),
  };
}

function stsReply(requestId: string, operation: string, result: unknown): Reply {
  return { status: 200, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body: queryResponseXml(operation, result as Record<string, unknown>, requestId) };
}

function stsError(requestId: string, error: AwsServiceError): Reply {
  return {
    status: error.status,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId, 'x-amzn-query-error': `${error.code};${error.status >= 500 ? 'Receiver' : 'Sender'}` },
    body: queryErrorXml(error, requestId),
  };
}

/**
 * Answers one AWS request: caller from the SigV4 scope, then injected latency, an injected fault,
 * the caller's credentials (temporary ones must be current), the quota, and the modelled
 * operation — and logs the call whatever its outcome, with the caller's account and Region.
 */
export async function answerAwsRequest(deps: AwsRouterDeps, req: IncomingMessage, body: string): Promise<Reply> {
  const requestId = randomUUID();
  const scope = parseCredentialScope(req.headers.authorization);
  const token = req.headers['x-amz-security-token'];
  const { caller, problem } = deps.principals.authenticate(scope, typeof token === 'string' ? token : undefined, deps.defaultRegion);
  let routed: ReturnType<typeof route>;
  try {
    routed = route(req, body, scope?.service);
  } catch (error) {
    const failure = error instanceof AwsServiceError ? error : new AwsServiceError('InternalFailure', String(error), 500);
    return scope?.service === 'sts' ? stsError(requestId, failure) : jsonError(requestId, failure);
  }
  const { service, operation, input } = routed;
  const definition = deps.services[service][operation];
  const ok = (result: unknown) => (service === 'sts' ? stsReply(requestId, operation, result) : jsonReply(requestId, result));
  const fail = (error: AwsServiceError) => (service === 'sts' ? stsError(requestId, error) : jsonError(requestId, error));

  let outcome = 'ok';
  let output: unknown;
  try {
    const latency = deps.faults.latencyFor(service, operation);
    if (latency > 0) await sleep(latency);
    const injected = deps.faults.take(service, operation);
    if (injected) throw injected;
    if (!definition) throw new AwsServiceError(service === 'sts' ? 'InvalidAction' : 'UnknownOperationException', `The emulator does not model ${service}:${operation}.`);
    if (problem) throw credentialError(problem, service === 'sts');
    for (const bucket of definition.quotaScopes?.(input, caller) ?? [{ operation, region: caller.region }]) {
      deps.quotas.take(service, bucket.operation, caller.account, bucket.region);
    }
    output = definition.handle(input, { caller, now: deps.now, requestId });
    return ok(output);
  } catch (error) {
    const failure = error instanceof AwsServiceError ? error : new AwsServiceError('InternalFailure', `emulator bug in ${operation}: ${String(error)}`, 500);
    outcome = failure.code;
    return fail(failure);
  } finally {
    deps.calls.record({
      at: deps.now().toISOString(),
      service,
      operation,
      account: caller.account,
      region: caller.region,
      caller: caller.arn,
      mutating: definition?.mutating ?? false,
      outcome,
      target: definition?.target?.(input, output),
    });
  }
}
