import type { IncomingMessage } from 'node:http';
import type { CallLogEntry, FaultSpec } from './controls';
import type { RoleDefinition } from './roles';

/** The parts of the emulator the control endpoint drives (a subset of `Emulator`). */
export interface Controllable {
  failNext(operation: string, count: number, fault: FaultSpec): void;
  setLatency(operation: string, ms: number): void;
  clearFaults(): void;
  callLog(): readonly CallLogEntry[];
  clearCallLog(): void;
  addPrincipal(accessKeyId: string, arn: string): void;
  addRole(role: RoleDefinition): void;
  now(): Date;
  advanceClock(ms: number): Date;
  describeKeyState(keyIdOrArn: string): unknown;
  listKeyArns(account?: string, region?: string): string[];
}

const DAY_MS = 86_400_000;

/** GET calls filters: `?mutating=true&service=kms&operation=CreateKey&account=…&region=…`. */
function callFilter(params: URLSearchParams): (call: CallLogEntry) => boolean {
  const mutatingOnly = params.get('mutating') === 'true';
  const fields = (['service', 'operation', 'account', 'region'] as const).flatMap((f) => {
    const value = params.get(f);
    return value === null ? [] : [[f, value] as const];
  });
  return (call) => (!mutatingOnly || call.mutating) && fields.every(([f, value]) => call[f] === value);
}

export const CONTROL_PREFIX = '/_emulator/';

interface ControlReply {
  readonly status: number;
  readonly body: unknown;
}

class ControlRequestError extends Error {}

function object(body: string): Record<string, unknown> {
  try {
    const value: unknown = body.trim() === '' ? {} : JSON.parse(body);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new ControlRequestError('the body must be a JSON object');
}

function str(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== 'string' || value === '') throw new ControlRequestError(`"${name}" must be a non-empty string`);
  return value;
}

function strings(body: Record<string, unknown>, name: string): string[] {
  const value = body[name];
  if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== 'string' || v === '')) {
    throw new ControlRequestError(`"${name}" must be a non-empty array of non-empty strings`);
  }
  return value as string[];
}

function num(body: Record<string, unknown>, name: string, fallback?: number): number {
  const value = body[name] ?? fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ControlRequestError(`"${name}" must be a number`);
  return value;
}

/**
 * The control endpoint, for child processes (the CLI, crash tests) that cannot hold the in-process
 * handle. Documented in emulator/README.md.
 */
export function answerControlRequest(emulator: Controllable, req: IncomingMessage, body: string): ControlReply {
  const url = new URL(req.url ?? '/', 'http://emulator');
  const path = url.pathname.slice(CONTROL_PREFIX.length);
  const route = `${req.method ?? 'GET'} ${path}`;
  try {
    switch (route) {
      case 'GET health':
        return { status: 200, body: { ok: true } };
      case 'POST faults': {
        const b = object(body);
        emulator.failNext(str(b, 'operation'), num(b, 'count', 1), {
          code: str(b, 'code'),
          message: typeof b.message === 'string' ? b.message : undefined,
          status: b.status === undefined ? undefined : num(b, 'status'),
        });
        return { status: 204, body: undefined };
      }
      case 'POST latency': {
        const b = object(body);
        emulator.setLatency(str(b, 'operation'), num(b, 'ms'));
        return { status: 204, body: undefined };
      }
      case 'POST reset-faults':
        emulator.clearFaults();
        return { status: 204, body: undefined };
      case 'GET calls':
        return { status: 200, body: emulator.callLog().filter(callFilter(url.searchParams)) };
      case 'DELETE calls':
        emulator.clearCallLog();
        return { status: 204, body: undefined };
      case 'POST principals': {
        const b = object(body);
        emulator.addPrincipal(str(b, 'accessKeyId'), str(b, 'arn'));
        return { status: 204, body: undefined };
      }
      case 'POST roles': {
        const b = object(body);
        emulator.addRole({
          arn: str(b, 'arn'),
          trustedPrincipals: strings(b, 'trustedPrincipals'),
          maxSessionDurationSeconds: b.maxSessionDurationSeconds === undefined ? undefined : num(b, 'maxSessionDurationSeconds'),
        });
        return { status: 204, body: undefined };
      }
      case 'GET clock':
        return { status: 200, body: { now: emulator.now().toISOString() } };
      case 'POST clock': {
        const b = object(body);
        if ((b.advanceMs === undefined) === (b.advanceDays === undefined)) throw new ControlRequestError('give exactly one of "advanceMs" or "advanceDays"');
        const ms = b.advanceMs === undefined ? num(b, 'advanceDays') * DAY_MS : num(b, 'advanceMs');
        return { status: 200, body: { now: emulator.advanceClock(ms).toISOString() } };
      }
      case 'GET keys':
        return { status: 200, body: emulator.listKeyArns(url.searchParams.get('account') ?? undefined, url.searchParams.get('region') ?? undefined) };
      default:
        if (req.method === 'GET' && path.startsWith('keys/')) {
          const state = emulator.describeKeyState(decodeURIComponent(path.slice('keys/'.length)));
          return state ? { status: 200, body: state } : { status: 404, body: { error: `no key ${path.slice('keys/'.length)}` } };
        }
        return { status: 404, body: { error: `no control route ${route}; see emulator/README.md` } };
    }
  } catch (error) {
    // Bad control input (and the in-process API's own RangeError/validation errors) are the caller's.
    return { status: 400, body: { error: (error as Error).message } };
  }
}
