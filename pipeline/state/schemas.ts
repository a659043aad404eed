/**
 * Schemas of every record the state stores persist: ledgers, runs, leases, execution locks and
 * audit entries. State read from disk or DynamoDB is data someone may have edited by hand, so
 * every read goes through `parseStored`, which names the file or item, the field and the fix
 * instead of letting an unknown value flow on (a generation whose state is misspelled would
 * otherwise vanish from the synthesized stacks, and Terraform would plan to destroy its key).
 *
 * The TypeScript interfaces in types.ts and ledger/types.ts stay the documented contract; the
 * `satisfies`-style checks at the bottom make the build fail if a schema and its interface drift.
 */
import { z } from 'zod';
import { StateError } from '../errors';
import type { Generation, Ledger } from '../ledger/types';
import type { AuditEntry, Lease, MutationRecord, Run, RunLock, RunPlan, StageRecord } from './types';

const isoDate = z.iso.datetime({ offset: true });
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 hex digest');
const keyArn = z.string().regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/, 'a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)');
const jsonRecord = z.record(z.string(), z.unknown());

// ---- ledger ----------------------------------------------------------------------------------

export const GENERATION_STATES = ['candidate', 'active', 'retiring', 'disabled', 'pending-deletion', 'deleted', 'abandoned'] as const;

const replicaSchema = z
  .strictObject({
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'an AWS Region code'),
    keyArn,
    state: z.enum(['live', 'pending-deletion', 'deleted']),
    deletionDate: isoDate.optional(),
  })
  .superRefine((r, ctx) => {
    if (r.keyArn.split(':')[3] !== r.region) ctx.addIssue({ code: 'custom', path: ['keyArn'], message: `replica ${r.keyArn} is not in its Region ${r.region}` });
    if (r.state === 'pending-deletion' && r.deletionDate === undefined) ctx.addIssue({ code: 'custom', path: ['deletionDate'], message: 'a replica pending deletion needs its deletionDate (from ScheduleKeyDeletion)' });
  });

const generationSchema = z
  .strictObject({
    generation: z.number().int().min(1),
    keyId: z.string().min(1),
    keyArn,
    state: z.enum(GENERATION_STATES),
    origin: z.enum(['terraform', 'pipeline', 'adopted']),
    runId: z.string().min(1).optional(),
    createdAt: isoDate,
    stateChangedAt: isoDate,
    deletionDate: isoDate.optional(),
    replicas: z.array(replicaSchema).optional(),
  })
  .superRefine((g, ctx) => {
    if (g.state === 'pending-deletion' && g.deletionDate === undefined) {
      ctx.addIssue({ code: 'custom', path: ['deletionDate'], message: 'a pending-deletion generation needs its deletionDate (from ScheduleKeyDeletion)' });
    }
    if (!g.keyArn.endsWith(`/${g.keyId}`)) {
      ctx.addIssue({ code: 'custom', path: ['keyId'], message: `keyId ${g.keyId} is not the id in keyArn ${g.keyArn}` });
    }
    (g.replicas ?? []).forEach((r, i) => {
      if (!g.keyId.startsWith('mrk-')) ctx.addIssue({ code: 'custom', path: ['replicas'], message: `generation ${g.generation} (${g.keyId}) is not a multi-Region key, so it has no replicas` });
      else if (!r.keyArn.endsWith(`/${g.keyId}`)) ctx.addIssue({ code: 'custom', path: ['replicas', i, 'keyArn'], message: `replica ${r.keyArn} is not a replica of ${g.keyId}` });
    });
  });

const identityCenterTargetSchema = z.discriminatedUnion('keyType', [
  z.strictObject({ keyType: z.literal('AWS_OWNED_KMS_KEY') }),
  z.strictObject({ keyType: z.literal('CUSTOMER_MANAGED_KEY'), kmsKeyArn: keyArn }),
]);

export const ledgerSchema = z
  .strictObject({
    keyring: z.string().min(1),
    version: z.number().int().min(0),
    generations: z.array(generationSchema),
    identityCenter: identityCenterTargetSchema.optional(),
    updatedAt: isoDate,
  })
  .superRefine((ledger, ctx) => {
    const active = ledger.generations.filter((g) => g.state === 'active');
    if (active.length > 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['generations'],
        message: `generations ${active.map((g) => g.generation).join(' and ')} are both active; exactly one generation may be active`,
      });
    }
    const seenNumbers = new Set<number>();
    const seenArns = new Set<string>();
    ledger.generations.forEach((g, i) => {
      if (seenNumbers.has(g.generation)) ctx.addIssue({ code: 'custom', path: ['generations', i, 'generation'], message: `generation number ${g.generation} appears twice` });
      if (seenArns.has(g.keyArn)) ctx.addIssue({ code: 'custom', path: ['generations', i, 'keyArn'], message: `key ${g.keyArn} appears in two generations` });
      seenNumbers.add(g.generation);
      seenArns.add(g.keyArn);
    });
    const target = ledger.identityCenter;
    if (target?.keyType === 'CUSTOMER_MANAGED_KEY' && !ledger.generations.some((g) => g.keyArn === target.kmsKeyArn)) {
      ctx.addIssue({ code: 'custom', path: ['identityCenter', 'kmsKeyArn'], message: `Identity Center's key ${target.kmsKeyArn} is not a generation of this ledger` });
    }
  });

// ---- runs ------------------------------------------------------------------------------------

export const RUN_KINDS = ['rotate', 'migrate-to-cmk', 'migrate-to-aws-owned', 'rollback', 'cancel-deletion', 'adopt', 'retire-key', 'rotate-material'] as const;
export const RUN_STATUSES = ['open', 'waiting', 'failed', 'completed', 'rolled-back', 'cancelled'] as const;
export const STAGE_STATUSES = ['pending', 'running', 'waiting', 'done', 'failed', 'undone', 'skipped'] as const;

const mutationSchema = z.strictObject({
  operation: z.string().min(1),
  target: z.string().min(1),
  /** When the intent was recorded (before the call). */
  at: isoDate,
  /** Absent while the call's outcome is unknown (written ahead of the call). */
  outcome: z.enum(['ok', 'failed', 'reconciled-done', 'reconciled-not-done']).optional(),
  outcomeAt: isoDate.optional(),
  detail: z.record(z.string(), z.string()).optional(),
  /** What the outcome was (AWS error, or what a reconciliation read found). */
  note: z.string().optional(),
});

const stageRecordSchema = z.strictObject({
  name: z.string().min(1),
  status: z.enum(STAGE_STATUSES),
  startedAt: isoDate.optional(),
  endedAt: isoDate.optional(),
  attempts: z.number().int().min(0),
  mutations: z.array(mutationSchema),
  summary: z.string().optional(),
  waitingFor: z.enum(['time', 'people']).optional(),
  error: z.strictObject({ message: z.string(), nextStep: z.string().optional() }).optional(),
  outputs: jsonRecord.optional(),
});

const approvalBarSchema = z.strictObject({
  quorum: z.number().int().min(1).max(10),
  lifetimeHours: z.number().int().min(1).max(720),
  allowedSignersFile: z.string().min(1),
  allowedSignersSha256: sha256Hex,
  allowedSigners: z.string(),
  people: z.array(z.strictObject({ name: z.string().min(1), signers: z.array(z.string().min(1)) })),
});

const fingerprint = z.string().regex(/^SHA256:[A-Za-z0-9+/]+$/, 'an SSH key fingerprint (SHA256:…)');

const initiatorIdentitySchema = z.strictObject({
  label: z.string(),
  awsCaller: z.string().optional(),
  github: z.strictObject({ actor: z.string().optional(), triggeringActor: z.string().optional(), runId: z.string().optional(), verifiedActor: z.string().optional() }).optional(),
  signedStart: z.strictObject({ fingerprint, principal: z.string().optional(), payload: z.string(), signature: z.string() }).optional(),
  people: z.array(z.string()),
  principals: z.array(z.string()),
  fingerprints: z.array(fingerprint),
  tied: z.boolean(),
  basis: z.array(z.string()),
});

const planBase = {
  keyring: z.string().min(1),
  account: z.string().regex(/^\d{12}$/),
  region: z.string().min(1),
  alias: z.string().startsWith('alias/'),
  identityCenterInstanceArn: z.string().min(1).optional(),
  deletionWindowDays: z.number().int().min(7).max(30),
  minimumSoakHours: z.number().min(0),
  stages: z.array(z.string().min(1)).min(1),
  newKeyArn: keyArn.optional(),
  disableOldKeyDuringSoak: z.boolean().optional(),
  /** Kinds that delete through the approval gate record the bar their approvers sign for. */
  approvals: approvalBarSchema.optional(),
  /** Multi-Region key rings, kinds that create a key: the Regions the new key is replicated to. */
  replicaRegions: z.array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'an AWS Region code')).optional(),
};

/** Kinds that retire a key name it; kinds that only create or record one must not. */
export const runPlanSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('rotate'), ...planBase, oldKeyArn: keyArn }),
  z.strictObject({ kind: z.literal('migrate-to-cmk'), ...planBase }),
  z.strictObject({ kind: z.literal('migrate-to-aws-owned'), ...planBase, oldKeyArn: keyArn }),
  z.strictObject({ kind: z.literal('adopt'), ...planBase }),
  z.strictObject({ kind: z.literal('cancel-deletion'), ...planBase, oldKeyArn: keyArn, enableAfterCancel: z.boolean() }),
  z.strictObject({ kind: z.literal('retire-key'), ...planBase, oldKeyArn: keyArn }),
  // In-place rotation: the key stays (newKeyArn is the active key, which gets new material).
  z.strictObject({ kind: z.literal('rotate-material'), ...planBase, newKeyArn: keyArn, onDemandRotationReserve: z.number().int().min(0).max(24) }),
]);

const storedApprovalSchema = z.strictObject({
  signer: z.string().min(1),
  payload: z.string().min(1),
  signature: z.string().min(1),
  recordedAt: isoDate,
});

export const runSchema = z
  .strictObject({
    id: z.string().min(1),
    kind: z.enum(RUN_KINDS),
    keyring: z.string().min(1),
    initiator: z.string().min(1),
    initiatorIdentity: initiatorIdentitySchema.optional(),
    createdAt: isoDate,
    updatedAt: isoDate,
    status: z.enum(RUN_STATUSES),
    plan: runPlanSchema,
    planDigest: sha256Hex,
    stages: z.array(stageRecordSchema).min(1),
    evidence: jsonRecord.optional(),
    evidenceDigest: sha256Hex.optional(),
    approvals: z.array(storedApprovalSchema),
    /** Why the run ended without completing (cancelled, refused at preflight, interrupted). */
    endReason: z.string().optional(),
    version: z.number().int().min(0),
  })
  .superRefine((run, ctx) => {
    if (run.plan.kind !== run.kind) ctx.addIssue({ code: 'custom', path: ['plan', 'kind'], message: `the plan is for ${run.plan.kind} but the run is ${run.kind}` });
    if (run.plan.keyring !== run.keyring) ctx.addIssue({ code: 'custom', path: ['plan', 'keyring'], message: `the plan is for key ring ${run.plan.keyring} but the run is on ${run.keyring}` });
    const names = run.stages.map((s) => s.name).join(',');
    if (names !== run.plan.stages.join(',')) {
      ctx.addIssue({ code: 'custom', path: ['stages'], message: `the stage records (${names}) do not follow the plan's stages (${run.plan.stages.join(',')})` });
    }
    if (run.evidence !== undefined && run.evidenceDigest === undefined) {
      ctx.addIssue({ code: 'custom', path: ['evidenceDigest'], message: 'evidence without its digest' });
    }
  });

// ---- leases, execution locks, audit ----------------------------------------------------------

export const leaseSchema = z.strictObject({
  keyring: z.string().min(1),
  runId: z.string().min(1),
  holder: z.string().min(1),
  expiresAt: isoDate,
});

export const lockHolderSchema = z.strictObject({
  host: z.string().min(1),
  pid: z.number().int().min(0),
  pidNamespace: z.string().regex(/^\d+$/).optional(),
  actor: z.string().min(1),
  command: z.string().optional(),
});

export const runLockSchema = z.strictObject({
  runId: z.string().min(1),
  keyring: z.string().min(1),
  token: z.string().regex(/^[0-9a-f]{32}$/),
  holder: lockHolderSchema,
  acquiredAt: isoDate,
  expiresAt: isoDate,
});

export const auditEntrySchema = z.strictObject({
  seq: z.number().int().min(1),
  at: isoDate,
  actor: z.string().min(1),
  action: z.string().min(1),
  keyring: z.string().optional(),
  runId: z.string().optional(),
  detail: jsonRecord.optional(),
  prevHash: sha256Hex,
  hash: sha256Hex,
});

export const auditHeadSchema = z.strictObject({
  seq: z.number().int().min(0),
  hash: sha256Hex,
  /** seq of the first entry of the active segment (file store); absent in the DynamoDB store. */
  segmentStart: z.number().int().min(1).optional(),
});

// ---- parsing ---------------------------------------------------------------------------------

/** Where a record came from, for messages: `state/ledgers/x.json` or `item LEDGER / x of table T`. */
export interface RecordSource {
  readonly what: string;
  readonly where: string;
  /** How to repair it, specific to the store. */
  readonly fix: string;
}

function describePath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(the whole record)';
  return path.reduce<string>((text, part) => (typeof part === 'number' ? `${text}[${part}]` : text === '' ? String(part) : `${text}.${String(part)}`), '');
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

/**
 * Validates a record read from a store. On failure: a StateError (operator fault, exit 2) that
 * names the record, each bad field with its value, and the fix; nothing is written or dropped.
 */
export function parseStored<T>(schema: z.ZodType<T>, value: unknown, source: RecordSource): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.slice(0, 8).map((issue) => {
    const shown = valueAt(value, issue.path);
    const valueText = shown === undefined ? '' : ` (value ${JSON.stringify(shown)?.slice(0, 80)})`;
    return `${describePath(issue.path)}: ${issue.message}${valueText}`;
  });
  const more = result.error.issues.length > problems.length ? `; and ${result.error.issues.length - problems.length} more` : '';
  return fail(source, `${problems.join('; ')}${more}`);
}

function fail(source: RecordSource, why: string): never {
  throw new StateError(`${source.what} in ${source.where} is not valid: ${why}. Nothing was changed`, {
    fault: 'operator',
    nextStep: source.fix,
  });
}

/**
 * A record must name the key it is stored under (its file name, its item key): a ledger copied to
 * ledgers/identity-center.json that says `"keyring": "Identity-Center"` would be found under one
 * name and listed under another, so commands would disagree about whether it exists. The mismatch
 * is reported like any other invalid field.
 */
export function assertStoredUnder<T extends object>(record: T, field: keyof T & string, key: string, storedAs: string, source: RecordSource): T {
  const value = record[field];
  if (value !== key) fail(source, `${field}: ${JSON.stringify(value)} does not match ${storedAs} (it must be ${JSON.stringify(key)})`);
  return record;
}

/** Parses JSON text first, with the same kind of message when the text itself is broken. */
export function parseStoredJson<T>(schema: z.ZodType<T>, text: string, source: RecordSource): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return fail(source, `it is not JSON (${(error as Error).message})`);
  }
  return parseStored(schema, value, source);
}

// Compile-time guards: each schema's output must be assignable to the documented interface.
type Assignable<T, U extends T> = U;
export type SchemaMatchesInterface =
  | Assignable<Ledger, z.infer<typeof ledgerSchema>>
  | Assignable<Generation, z.infer<typeof generationSchema>>
  | Assignable<Run, z.infer<typeof runSchema>>
  | Assignable<RunPlan, z.infer<typeof runPlanSchema>>
  | Assignable<StageRecord, z.infer<typeof stageRecordSchema>>
  | Assignable<MutationRecord, z.infer<typeof mutationSchema>>
  | Assignable<Lease, z.infer<typeof leaseSchema>>
  | Assignable<RunLock, z.infer<typeof runLockSchema>>
  | Assignable<AuditEntry, z.infer<typeof auditEntrySchema>>;
