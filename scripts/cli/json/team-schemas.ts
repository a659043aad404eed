/**
 * The versioned JSON of `rotate bootstrap` and `rotate fleet …` (schemas.ts adds them to
 * COMMAND_SCHEMAS with the helpers it owns, so one generator and one test cover every command).
 */
import { z } from 'zod';

export interface SchemaHelpers {
  readonly envelope: <C extends string, S extends z.ZodRawShape>(command: C, shape: S, description: string) => z.ZodObject<any>;
  readonly runKind: z.ZodType;
  readonly waitingFor: z.ZodType;
}

export function teamCommandSchemas({ envelope, runKind, waitingFor }: SchemaHelpers) {
  const outcome = z.strictObject({
    keyring: z.string(),
    account: z.string(),
    region: z.string(),
    outcome: z.enum(['completed', 'waiting', 'open', 'failed', 'ended', 'busy', 'skipped']),
    runId: z.string().optional(),
    stage: z.string().optional().describe('the stage the run is at, or ended on'),
    waitingFor: waitingFor.optional(),
    summary: z.string().describe('what it did, what it waits for, or why it failed'),
    nextStep: z.string().optional(),
    exitCode: z.number().int().describe('what `rotate advance --detailed-exitcode` on this key ring alone would exit with'),
  });
  const limiterBucket = z.strictObject({ calls: z.number().int(), waited: z.number().int(), waitMs: z.number() });
  const drive = (command: string, description: string) =>
    envelope(
      command,
      {
        exitCode: z.number().int().describe('0 none failed; fleetPartial (14) some failed; else the most severe failure'),
        outcomes: z.array(outcome),
        timing: z
          .strictObject({
            commandStartMs: z.number().describe('process start → the command (node, modules, parsing)'),
            sessionOpenMs: z.number(),
            clientSetupMs: z.number(),
            assumeRoleMs: z.number(),
            driveWallMs: z.number(),
            rateLimiterWaitingWallMs: z.number().describe('wall time during which some call waited for a quota token'),
            pollingWallMs: z.number().describe('wall time during which some key ring slept between polls (Identity Center)'),
            waitingForPeopleWallMs: z.number().describe('wall time during which some key ring watched for approval files (fleet run)'),
            stateStoreWallMs: z.number().describe('wall time during which some state store call was in flight'),
            stateStoreCalls: z.number().int(),
            fsyncs: z.number().int().describe('file store fsyncs of the process'),
            processCpuMs: z
              .strictObject({ user: z.number(), system: z.number() })
              .describe('CPU time of this process since it started, all its threads (not its child processes, e.g. ssh-keygen)'),
          })
          .describe('where the time went; categories overlap (busy wall time, not sums)'),
        rateLimiter: z.strictObject({ buckets: z.record(z.string(), limiterBucket).describe('<account>|<region>|<service>|<bucket>'), waitingWallMs: z.number() }),
      },
      description,
    );
  const refused = z.strictObject({ keyring: z.string(), runId: z.string().optional(), reason: z.string(), nextStep: z.string().optional() });
  const floor = z.strictObject({ group: z.string(), bucket: z.string(), calls: z.number().int(), perSecond: z.number() }).nullable();
  return {
    bootstrap: z.union([
      envelope(
        'bootstrap',
        { stack: z.string(), stackDir: z.string(), ledgerExport: z.string().nullable(), steps: z.array(z.string()).describe('the boot order') },
        'rotate bootstrap: the pipeline stack for the first apply, and the boot order',
      ),
      envelope('bootstrap', { ok: z.boolean(), checks: z.array(z.strictObject({ what: z.string(), ok: z.boolean(), detail: z.string(), nextStep: z.string().optional() })) }, 'rotate bootstrap --check'),
    ]),
    'fleet-plan': envelope(
      'fleet plan',
      {
        kind: runKind,
        keyrings: z.array(
          z.union([
            z.strictObject({ keyring: z.string(), account: z.string(), region: z.string(), retires: z.string().nullable(), stages: z.array(z.string()) }),
            z.strictObject({ keyring: z.string(), account: z.string(), region: z.string(), blocked: z.string() }),
          ]),
        ),
        quotaFloor: z.strictObject({ phases: z.array(z.string()), ms: z.array(z.number()), boundBy: z.array(floor) }).nullable().describe('rotate only: the floor of `fleet advance` and of `fleet delete`'),
      },
      'rotate fleet plan',
    ),
    'fleet-start': drive('fleet start', 'rotate fleet start: each key ring after its preflight'),
    'fleet-advance': drive('fleet advance', 'rotate fleet advance'),
    'fleet-status': drive('fleet status', 'rotate fleet status'),
    'fleet-delete': drive('fleet delete', 'rotate fleet delete'),
    'fleet-run': drive('fleet run', 'rotate fleet run: each key ring as far as it went on its own'),
    'fleet-approve': envelope(
      'fleet approve',
      { signed: z.array(z.strictObject({ keyring: z.string(), runId: z.string(), file: z.string(), signer: z.string() })), refused: z.array(refused) },
      'rotate fleet approve: one signature per run',
    ),
  };
}
