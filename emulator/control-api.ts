import type { IncomingMessage } from 'node:http';
import type { CallLogEntry, FaultSpec } from './controls';

/** The parts of the emulator the control endpoint drives (a subset of `Emulator`). */
export interface Controllable {
  failNext(operation: string, count: number, fault: FaultSpec): void;
  setLatency(operation: string, ms: number): void;
  clearFaults(): void;
  callLog(): readonly CallLogEntry[];
  clearCallLog(): void;
  addPrincipal(accessKeyId: string, arn: string): void;
  describeKeyState(keyIdOrArn: string): unknown;
  listKeyArns(account?: string, region?: string): string[];
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
      case 'GET calls': {
        const mutatingOnly = url.searchParams.get('mutating') === 'true';
        return { status: 200, body: emulator.callLog().filter((c) => !mutatingOnly || c.mutating) };
      }
      case 'DELETE calls':
        emulator.clearCallLog();
        return { status: 204, body: undefined };
      case 'POST principals': {
        const b = object(body);
        emulator.addPrincipal(str(b, 'accessKeyId'), str(b, 'arn'));
        return { status: 204, body: undefined };
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
