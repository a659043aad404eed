/**
 * The parts of Terraform's machine-readable plan (`terraform show -json plan.out`, format 1.x as
 * written by Terraform 1.13's internal/command/jsonplan; OpenTofu writes the same format) that the
 * plan guard reads. Everything else is let through: new fields in a 1.x format are additions.
 *
 *   resource_changes[]: { address, mode, type, name, change: { actions, before, after,
 *                         after_unknown, importing?, replace_paths? }, action_reason? }
 *   actions: ["no-op"] | ["create"] | ["read"] | ["update"] | ["delete"] | ["forget"]
 *            | ["delete","create"] | ["create","delete"] (replace) | ["create","forget"]
 *   deferred_changes[]: { reason, resource_change }   errored: bool
 */
import { z } from 'zod';
import { KeyrotorError } from '../errors';
import { parseJsonDocument } from './json-document';

const attributes = z.record(z.string(), z.unknown());

const change = z.looseObject({
  actions: z.array(z.string()).min(1),
  before: attributes.nullable().optional(),
  after: attributes.nullable().optional(),
  after_unknown: z.union([attributes, z.boolean()]).nullable().optional(),
  importing: z.looseObject({ id: z.string().optional() }).nullable().optional(),
  replace_paths: z.array(z.array(z.union([z.string(), z.number()]))).optional(),
});

const resourceChange = z.looseObject({
  address: z.string().min(1),
  mode: z.string(),
  type: z.string(),
  name: z.string(),
  change,
  action_reason: z.string().optional(),
});

export const planJsonSchema = z.looseObject({
  format_version: z.string().regex(/^1\.\d+$/, 'a 1.x plan format (terraform show -json of Terraform/OpenTofu 1.x)'),
  terraform_version: z.string().optional(),
  resource_changes: z.array(resourceChange).optional(),
  deferred_changes: z.array(z.looseObject({ reason: z.string().optional(), resource_change: resourceChange.partial() })).optional(),
  errored: z.boolean().optional(),
});

export type PlanJson = z.infer<typeof planJsonSchema>;
export type PlanResourceChange = z.infer<typeof resourceChange>;

export class PlanJsonError extends KeyrotorError {
  constructor(source: string, problem: string) {
    super(`${source}: ${problem}`, {
      fault: 'operator',
      nextStep: 'pass the output of `terraform show -json plan.out` (a saved plan, not `terraform plan -json` log lines)',
    });
  }
}

/** Parses plan JSON text; `source` names where it came from in messages. */
export function parsePlanJson(text: string, source: string): PlanJson {
  return parseJsonDocument(text, planJsonSchema, 'a Terraform JSON plan', (problem) => new PlanJsonError(source, problem));
}

/** The five shapes a change can take, from its action list. */
export type ChangeKind = 'no-op' | 'create' | 'update' | 'delete' | 'replace' | 'forget' | 'read';

export function changeKind(actions: readonly string[]): ChangeKind {
  const has = (a: string) => actions.includes(a);
  if (has('delete') && has('create')) return 'replace';
  if (has('delete')) return 'delete';
  if (has('create') && has('forget')) return 'replace';
  if (has('forget')) return 'forget';
  if (has('create')) return 'create';
  if (has('update')) return 'update';
  if (has('read')) return 'read';
  return 'no-op';
}

/** Whether `attribute` differs between before and after, or is unknown until apply. */
export function attributeChanges(rc: PlanResourceChange, attribute: string): { changed: boolean; before: unknown; after: unknown; unknown: boolean } {
  const before = rc.change.before?.[attribute];
  const after = rc.change.after?.[attribute];
  const unknownMap = rc.change.after_unknown;
  const unknown = typeof unknownMap === 'object' && unknownMap !== null && unknownMap[attribute] === true;
  return { changed: unknown || JSON.stringify(before ?? null) !== JSON.stringify(after ?? null), before, after, unknown };
}
