/**
 * The versioned JSON contract of `rotate --json`, as zod schemas: the source of the JSON Schema
 * files in schemas/cli/v1/ (written by `npm run schemas`, checked to be current by
 * test/cli/json-schemas.test.ts, which also validates every command's real output against them).
 *
 * Why zod and not hand-written JSON Schema plus a validator: zod is already the project's one
 * schema library (config, state), its `z.toJSONSchema` emits draft 2020-12 directly, so the
 * published files and the test's validator come from one definition and cannot drift, and no
 * new dependency is needed. Objects are strict (additionalProperties: false): a field the schema
 * does not document fails the test, so nothing reaches stdout undocumented. New optional fields
 * keep `version` 1; removing or changing a field makes version 2.
 *
 * Loaded only by the test and the generator: commands build their output without zod.
 */
import { z } from 'zod';
import { teamCommandSchemas } from './team-schemas';

const iso = z.string().describe('ISO 8601 UTC timestamp');
const sha256 = z.string().regex(/^[0-9a-f]{64}$/).describe('sha256, hex');
const anyRecord = z.record(z.string(), z.unknown());

export const VERSION = 1;

const stageStatus = z.enum(['pending', 'running', 'waiting', 'done', 'failed', 'undone', 'skipped']);
const runStatus = z.enum(['open', 'waiting', 'failed', 'completed', 'rolled-back', 'cancelled']);
const runKind = z.enum(['rotate', 'migrate-to-cmk', 'migrate-to-aws-owned', 'rollback', 'cancel-deletion', 'adopt', 'retire-key']);
const waitingFor = z.enum(['time', 'people']);
const stopReason = z.enum(['completed', 'waiting-time', 'waiting-people', 'ready-to-delete', 'not-with-switch', 'stage-limit', 'rolled-back', 'cancelled']);

const endpoint = z.strictObject({ url: z.string().nullable().describe('null: the AWS endpoint of the Region'), source: z.enum(['option', 'service-env', 'global-env', 'aws-default']) });
export const awsContextSchema = z
  .strictObject({
    endpoints: z.strictObject({ kms: endpoint, 'sso-admin': endpoint, identitystore: endpoint, sts: endpoint }),
    emulator: z.boolean().describe('true when an endpoint is loopback: the local emulator, never AWS'),
    account: z.string(),
    region: z.string(),
    callerArn: z.string().describe('STS GetCallerIdentity ARN of the credentials in use'),
  })
  .describe('Which AWS the command talked to (present when it did)');
const awsContexts = z
  .array(awsContextSchema)
  .min(2)
  .optional()
  .describe('Every AWS context the command talked to, in order, when there were several (drift across accounts or Regions); `context` is the first');

const mutation = z.strictObject({
  operation: z.string(),
  target: z.string(),
  at: iso,
  outcome: z.enum(['ok', 'failed', 'reconciled-done', 'reconciled-not-done']).nullable().describe('null: sent, outcome not yet recorded'),
  outcomeAt: iso.optional(),
  detail: z.record(z.string(), z.string()).optional(),
  note: z.string().optional(),
});

const stage = z.strictObject({
  name: z.string(),
  status: stageStatus,
  waitingFor: waitingFor.optional(),
  attempts: z.number().int().min(0),
  startedAt: iso.optional(),
  endedAt: iso.optional(),
  summary: z.string().optional(),
  mutations: z.array(mutation),
  error: z.strictObject({ message: z.string(), nextStep: z.string().optional() }).optional(),
  outputs: anyRecord.optional(),
});

export const runSchema = z
  .strictObject({
    id: z.string(),
    kind: runKind,
    keyring: z.string(),
    status: runStatus,
    endReason: z.string().optional(),
    createdAt: iso,
    updatedAt: iso,
    initiator: z.strictObject({
      label: z.string(),
      tied: z.boolean().optional(),
      basis: z.array(z.string()).optional(),
      awsCaller: z.string().optional(),
      people: z.array(z.string()).optional(),
      principals: z.array(z.string()).optional(),
      fingerprints: z.array(z.string()).optional(),
      signedStart: z.strictObject({ fingerprint: z.string(), principal: z.string().optional() }).optional(),
    }),
    plan: z.strictObject({
      account: z.string(),
      region: z.string(),
      alias: z.string(),
      oldKeyArn: z.string().optional(),
      newKeyArn: z.string().optional(),
      identityCenterInstanceArn: z.string().optional(),
      deletionWindowDays: z.number().int(),
      minimumSoakHours: z.number(),
      disableOldKeyDuringSoak: z.boolean().optional(),
      enableAfterCancel: z.boolean().optional(),
      approvals: z
        .strictObject({
          quorum: z.number().int(),
          lifetimeHours: z.number(),
          allowedSignersFile: z.string(),
          allowedSignersSha256: sha256,
          signers: z.array(z.string()).describe('principals of the recorded allowed_signers'),
          people: z.array(z.strictObject({ name: z.string(), signers: z.array(z.string()) })),
        })
        .optional(),
      stages: z.array(z.string()),
    }),
    planDigest: sha256,
    evidenceDigest: sha256.optional(),
    evidence: anyRecord.optional(),
    stages: z.array(stage),
    approvals: z.array(
      z.strictObject({
        signer: z.string(),
        recordedAt: iso,
        payload: anyRecord.nullable().describe('the signed approval payload, as a JSON object'),
        payloadUnreadable: z.string().optional(),
      }),
    ),
    next: z.string().describe('the next step, as `rotate status` prints it'),
  })
  .describe('A run (its storage internals left out: signatures and the allowed_signers text stay in the state store)');

const runSummary = z.strictObject({
  id: z.string(),
  kind: runKind,
  keyring: z.string(),
  status: runStatus,
  createdAt: iso,
  updatedAt: iso,
  initiator: z.string(),
  stage: z.strictObject({ name: z.string(), status: stageStatus, waitingFor: waitingFor.optional() }).nullable(),
  next: z.string(),
});

const stop = z.strictObject({ reason: stopReason, message: z.string(), nextStep: z.string().optional() }).describe("the engine's `stopped` event: why the command returned");

const plannedCall = z.strictObject({
  sign: z.enum(['+', '~', '-', '<=']).describe('+ create, ~ change, - disable/delete, <= read'),
  operation: z.string(),
  target: z.string(),
  values: z.record(z.string(), z.string()),
});

const verdict = z.strictObject({
  number: z.number().int(),
  source: z.string(),
  signer: z.string(),
  fingerprint: z.string().optional(),
  keyType: z.string().optional(),
  issuedAt: iso.optional(),
  expiresAt: iso.optional(),
  counts: z.boolean(),
  rejection: z.string().optional(),
  reason: z.string().optional(),
  mergedInto: z.number().int().optional(),
});

const gateResult = z.strictObject({
  runId: z.string(),
  keyring: z.string(),
  quorum: z.number().int(),
  planDigest: sha256,
  evidenceDigest: sha256.optional(),
  allowedSignersSha256: sha256.optional(),
  initiator: z.strictObject({ label: z.string(), tied: z.boolean(), basis: z.array(z.string()) }),
  approvals: z.array(verdict),
  signers: z.array(z.string()),
  merges: z.array(z.strictObject({ kept: z.number().int(), merged: z.number().int(), why: z.string() })),
  blockers: z.array(z.string()),
  satisfied: z.boolean(),
  missing: z.number().int(),
});

const driftFinding = z.strictObject({
  kind: z.string(),
  owner: z.enum(['pipeline', 'terraform']),
  blocksDeploy: z.boolean(),
  keyring: z.string().optional(),
  generation: z.number().int().optional(),
  subject: z.string(),
  expected: z.string(),
  actual: z.string(),
  message: z.string(),
  nextStep: z.string(),
});

/** The fields every document has; `command` is fixed per schema. */
function envelope<C extends string, S extends z.ZodRawShape>(command: C, shape: S, description: string) {
  return z.strictObject({ version: z.literal(VERSION), command: z.literal(command), context: awsContextSchema.optional(), contexts: awsContexts, ...shape }).describe(description);
}

const runResult = { run: runSchema, stopped: stop.optional(), exitCode: z.number().int().optional() };
const dryRunStart = (command: string) =>
  envelope(command, { dryRun: z.literal(true), kind: runKind, keyring: z.string(), planDigest: sha256, stages: z.array(z.string()), actsOn: z.string().optional(), preflight: z.string(), next: z.string() }, `rotate ${command} --dry-run`);

export const errorSchema = z
  .strictObject({
    version: z.literal(VERSION),
    command: z.string(),
    context: awsContextSchema.optional(),
    contexts: awsContexts,
    error: z.strictObject({
      name: z.string(),
      message: z.string(),
      fault: z.enum(['operator', 'aws', 'internal']),
      retryable: z.boolean(),
      nextStep: z.string().nullable(),
      exitCode: z.number().int(),
    }),
    run: runSchema.optional().describe('the run as it stood when a run command failed'),
  })
  .describe('Any command that fails, with --json');

/** One schema per command (file name → schema). */
export const COMMAND_SCHEMAS = {
  plan: envelope(
    'plan',
    {
      keyring: z.string(),
      kind: runKind,
      planDigest: sha256,
      plan: z.strictObject({ account: z.string(), region: z.string(), alias: z.string(), oldKeyArn: z.string().optional(), identityCenterInstanceArn: z.string().optional(), deletionWindowDays: z.number().int(), minimumSoakHours: z.number(), replicaRegions: z.array(z.string()).optional() }),
      guidance: z.record(z.string(), z.string()).describe('when to choose this kind, and its alternative (rotate vs rotate-material)'),
      live: z.union([
        z.strictObject({ source: z.literal('live'), aliasTarget: z.string().nullable(), identityCenter: z.strictObject({ status: z.string().optional(), encryptionStatus: z.string().optional(), keyType: z.string().optional(), kmsKeyArn: z.string().optional() }).optional() }),
        z.strictObject({ source: z.literal('unknown'), reason: z.string() }),
      ]),
      soakEndsNoEarlierThan: iso.optional(),
      unrecoverableNoEarlierThan: iso.optional(),
      approvals: z.strictObject({ quorum: z.number().int(), lifetimeHours: z.number(), allowedSignersFile: z.string(), allowedSignersSha256: sha256 }).optional(),
      stages: z.array(z.strictObject({ name: z.string(), description: z.string(), undoable: z.boolean(), confirmation: z.string().optional(), calls: z.array(plannedCall), notes: z.array(z.string()) })),
      mutations: z.array(z.string()).describe('the AWS mutations, in order'),
      next: z.string(),
    },
    'rotate plan: per stage, the AWS calls and values a run would use',
  ),
  start: z.union([envelope('start', runResult, 'rotate start: the opened run after preflight'), dryRunStart('start')]),
  advance: z.union([
    envelope('advance', runResult, 'rotate advance: the run and why it stopped (exitCode with --wait / --detailed-exitcode)'),
    envelope('advance', { dryRun: z.literal(true), run: runSchema, nextStage: z.string().nullable(), stagesInReach: z.array(z.string()) }, 'rotate advance --dry-run'),
  ]),
  status: z.union([
    envelope('status', { run: runSchema }, 'rotate status RUN'),
    envelope(
      'status',
      {
        openRuns: z.array(runSummary),
        keyrings: z.array(z.strictObject({ name: z.string(), alias: z.string(), account: z.string(), region: z.string(), generations: z.array(z.strictObject({ generation: z.number().int(), state: z.string(), keyArn: z.string(), deletionDate: z.string().optional() })) })),
        rotations: z
          .array(
            z.union([
              z.strictObject({
                keyring: z.string(),
                keyArn: z.string(),
                budget: z.strictObject({
                  limit: z.number().int(),
                  onDemandUsed: z.number().int(),
                  remaining: z.number().int(),
                  automatic: z.number().int(),
                  history: z.array(z.strictObject({ date: z.string().optional(), type: z.string().optional(), keyMaterialId: z.string().optional(), current: z.boolean() })),
                }),
              }),
              z.strictObject({ keyring: z.string(), keyArn: z.string(), unavailable: z.string() }),
            ]),
          )
          .optional()
          .describe("with --rotations: each active key's rotation history and on-demand budget, read live"),
      },
      'rotate status (no RUN): open runs and each key ring',
    ),
  ]),
  runs: envelope('runs', { filter: z.strictObject({ all: z.boolean(), keyring: z.string().optional(), status: runStatus.optional() }), runs: z.array(runSummary) }, 'rotate runs'),
  logs: envelope(
    'logs',
    {
      runId: z.string(),
      entries: z.array(z.strictObject({ seq: z.number().int(), at: iso, actor: z.string(), action: z.string(), keyring: z.string().optional(), runId: z.string().optional(), detail: anyRecord.optional(), prevHash: sha256, hash: sha256 })),
    },
    "rotate logs RUN: the run's audit entries",
  ),
  rollback: z.union([
    envelope('rollback', runResult, 'rotate rollback: the rolled-back run'),
    envelope('rollback', { dryRun: z.literal(true), runId: z.string(), steps: z.array(z.strictObject({ stage: z.string(), undoes: z.boolean(), calls: z.array(plannedCall), notes: z.array(z.string()) })), next: z.string() }, 'rotate rollback --dry-run: the calls each undo would make'),
  ]),
  cancel: envelope('cancel', runResult, 'rotate cancel'),
  delete: envelope('delete', runResult, 'rotate delete'),
  'cancel-deletion': z.union([envelope('cancel-deletion', runResult, 'rotate cancel-deletion'), dryRunStart('cancel-deletion')]),
  replan: envelope('replan', { runId: z.string(), changes: z.array(z.strictObject({ field: z.string(), signed: z.string(), current: z.string() })), reopened: z.array(z.string()), planDigest: sha256, next: z.string() }, 'rotate replan'),
  approve: envelope('approve', { file: z.string(), approval: z.strictObject({ signer: z.string(), recordedAt: iso, payload: anyRecord }), gate: gateResult, next: z.string() }, 'rotate approve'),
  approvals: envelope('approvals', { gate: gateResult, approvalsDirs: z.array(z.string()), next: z.string() }, 'rotate approvals'),
  gate: envelope('gate', { gate: gateResult, next: z.string() }, 'rotate gate (exit 0 satisfied, 1 not)'),
  lint: envelope(
    'lint',
    {
      ok: z.boolean(),
      config: z.string(),
      configErrors: z.array(z.string()),
      findings: z.array(z.strictObject({ sid: z.string(), rule: z.string(), message: z.string(), keyring: z.string().optional() })),
      approverFindings: z.array(z.strictObject({ file: z.string(), keyrings: z.array(z.string()), rule: z.string(), line: z.number().int().optional(), message: z.string() })),
      regionFindings: z
        .array(z.strictObject({ field: z.string(), region: z.string(), keyring: z.string().optional(), message: z.string() }))
        .optional()
        .describe('Region names the installed AWS SDK does not list (a typo, or a Region newer than the SDK)'),
    },
    'rotate lint',
  ),
  synth: envelope('synth', { outdir: z.string(), stacks: z.array(z.string()), awaitingPipeline: z.array(z.string()).describe('key rings attached to Identity Center with no generation yet: their first key comes from the pipeline'), next: z.string() }, 'rotate synth'),
  'audit-verify': envelope(
    'audit verify',
    { ok: z.boolean(), entries: z.number().int(), problem: z.strictObject({ seq: z.number().int(), reason: z.string() }).optional(), approvals: z.strictObject({ checked: z.number().int(), problems: z.array(z.strictObject({ runId: z.string(), reason: z.string() })) }), store: z.string() },
    'rotate audit verify',
  ),
  drift: envelope(
    'drift',
    {
      checkedAt: iso,
      drift: z.boolean(),
      exitCode: z.number().int().describe('0 no drift, 1 drift, 2 operator error, 3 AWS error'),
      keyrings: z.array(
        z.strictObject({
          name: z.string(),
          account: z.string(),
          region: z.string(),
          ledgerVersion: z.number().int().nullable(),
          checked: z.array(z.string()),
          findings: z.array(driftFinding),
          updates: z.array(z.strictObject({ keyring: z.string(), generation: z.number().int(), keyArn: z.string(), from: z.literal('pending-deletion'), to: z.literal('deleted'), reason: z.string(), written: z.boolean() })),
          error: z.strictObject({ message: z.string(), nextStep: z.string().optional(), fault: z.enum(['operator', 'aws', 'internal']) }).optional(),
          notes: z.array(z.string()),
        }),
      ),
      orphans: z.array(driftFinding),
      synth: z.array(driftFinding),
    },
    'rotate drift: live AWS against the config and the latest ledger',
  ),
  'plan-guard': envelope(
    'plan-guard',
    {
      stack: z.string(),
      ok: z.boolean(),
      findings: z.array(z.strictObject({ rule: z.string(), address: z.string(), keyring: z.string().optional(), message: z.string(), nextStep: z.string() })),
      touched: z.array(z.string()),
    },
    'rotate plan-guard: a Terraform plan held against what the pipeline owns',
  ),
  emulator: envelope('emulator', { endpoint: z.string(), port: z.number().int(), region: z.string(), exports: z.array(z.string()) }, 'rotate emulator (printed once it listens)'),
  demo: envelope('demo', { ok: z.boolean(), seconds: z.number(), migration: z.strictObject({ id: z.string(), status: runStatus }), rotation: z.strictObject({ id: z.string(), status: runStatus }) }, 'rotate demo'),
  ...teamCommandSchemas({ envelope, runKind, waitingFor }),
  error: errorSchema,
} as const;

export type SchemaName = keyof typeof COMMAND_SCHEMAS;

/** The schema file of a command's output (`audit verify` → audit-verify). */
export function schemaNameOf(command: string): SchemaName {
  const name = command.replace(/ /g, '-');
  if (!(name in COMMAND_SCHEMAS)) throw new Error(`no JSON schema for command "${command}"`);
  return name as SchemaName;
}

/** The JSON Schema document of one command, as stored in schemas/cli/v1/<name>.schema.json. */
export function jsonSchemaOf(name: SchemaName): Record<string, unknown> {
  const generated = z.toJSONSchema(COMMAND_SCHEMAS[name], { target: 'draft-2020-12', io: 'output' }) as Record<string, unknown>;
  const command = name === 'audit-verify' ? 'audit verify' : name.startsWith('fleet-') ? name.replace('-', ' ') : name;
  return { $id: `urn:keyrotor:cli:v${VERSION}:${name}`, title: `rotate ${command} --json (v${VERSION})`, ...generated };
}
