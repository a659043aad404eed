/**
 * The versioned JSON of every command (`--json`): one document on stdout, nothing else, with
 * `version` (this contract's major version), `command`, the AWS `context` when the command talked
 * to AWS, and the command's own fields. The schemas live in schemas/cli/v1/ (generated from
 * json/schemas.ts; test/cli/json-schemas.test.ts validates every command's output against them).
 */
import type { CliContext } from '../context';

/** Bumped only for an incompatible change; new optional fields keep the version. */
export const JSON_OUTPUT_VERSION = 1;

export function jsonEnvelope(ctx: Pick<CliContext, 'command' | 'trace'>, payload: object): Record<string, unknown> {
  return { version: JSON_OUTPUT_VERSION, command: ctx.command, ...(ctx.trace.aws ? { context: ctx.trace.aws } : {}), ...((ctx.trace.awsContexts?.length ?? 0) > 1 ? { contexts: ctx.trace.awsContexts } : {}), ...payload };
}

/** Writes the command's one JSON document to stdout. */
export function emitJson(ctx: CliContext, payload: object): void {
  ctx.io.out(JSON.stringify(jsonEnvelope(ctx, payload), null, 2));
}
