/**
 * `rotate fleet plan|start|advance|status|approve|delete <selection>`: the run commands over many
 * key rings at once. Selection: --all, or any of --account ID, --region R, --name GLOB, --tag K=V
 * (each may repeat; see pipeline/fleet/selection.ts). Every key ring keeps its own run, lease and
 * audit entries; the fleet runs them concurrently under one rate limiter per account+Region, shows
 * one progress view, and ends with a summary (each key ring's outcome and exit code; the command's
 * own exit code from pipeline/errors.ts fleetExitCode).
 */
import * as path from 'node:path';
import type { CliContext, CommandRun } from '../context';
import type { Session } from '../session';
import { ExitCode, KeyrotorError } from '../../../pipeline/errors';
import { emitJson } from '../json/output';
import type { FleetSelector } from '../../../pipeline/fleet/selection';
import type { KeyRingConfig } from '../../../pipeline/config/types';

export type FleetSubcommand = 'plan' | 'start' | 'advance' | 'status' | 'approve' | 'delete' | 'run';

export interface FleetOptions {
  readonly all?: boolean;
  readonly account?: readonly string[];
  readonly region?: readonly string[];
  readonly name?: readonly string[];
  readonly tag?: readonly string[];
  readonly concurrency?: string;
  readonly kind?: string;
  readonly signingKey?: string;
  readonly as?: string;
  readonly agent?: boolean;
  readonly approvalsDir?: string;
  readonly yes?: boolean;
  /** `run`: how long to watch waiting gates for approvals (`90s`, `10m`, `1h`). */
  readonly waitForPeople?: string;
  /** `run`: schedule each deletion as soon as its run is ready. */
  readonly delete?: boolean;
}

/** `90s`, `10m`, `1h`, `250ms` or plain milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new KeyrotorError(`${flag} ${JSON.stringify(text)} is not a duration`, { fault: 'operator', nextStep: `write it like 90s, 10m or 1h (e.g. ${flag} 10m)` });
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 'ms') as 'ms' | 's' | 'm' | 'h'];
  return Number(match[1]) * factor;
}

function selectorOf(options: FleetOptions): FleetSelector {
  return {
    ...(options.all ? { all: true } : {}),
    ...(options.account?.length ? { accounts: options.account } : {}),
    ...(options.region?.length ? { regions: options.region } : {}),
    ...(options.name?.length ? { names: options.name } : {}),
    ...(options.tag?.length ? { tags: options.tag } : {}),
  };
}

function concurrencyOf(options: FleetOptions): number | undefined {
  if (options.concurrency === undefined) return undefined;
  const n = Number(options.concurrency);
  if (!Number.isInteger(n) || n < 1) {
    throw new KeyrotorError(`--concurrency must be a whole number of at least 1, got "${options.concurrency}"`, { fault: 'operator', nextStep: 'e.g. --concurrency 16 (default: every selected key ring at once; the rate limiter keeps AWS within its quotas)' });
  }
  return n;
}

export async function runFleetCommand(sub: FleetSubcommand, ctx: CliContext, options: FleetOptions): Promise<number> {
  const commandStartedMs = performance.now(); // ≈ process start → this command (node, modules, parsing)
  const selector = selectorOf(options);
  if (sub === 'plan') return planFleet(ctx, options, selector);
  if (sub === 'approve') return approveFleet(ctx, options, selector);
  return driveFleet(sub, ctx, options, selector, commandStartedMs);
}

async function driveFleet(sub: 'start' | 'advance' | 'status' | 'delete' | 'run', ctx: CliContext, options: FleetOptions, selector: FleetSelector, commandStartedMs: number): Promise<number> {
  const { openSession } = await import('../session');
  const { selectKeyRings } = await import('../../../pipeline/fleet/selection');
  const { runFleet, fleetExitCode, openRunsByKeyring } = await import('../../../pipeline/fleet/fleet-run');
  const { BusyTime, timedStore } = await import('../../../pipeline/fleet/timing');
  const { fsyncCount } = await import('../../../pipeline/state/json-files');
  const { sharedRateLimiter, statsSince } = await import('../../../pipeline/aws/rate-limiter');
  const { engineFor, interruptOnSigint } = await import('./run-support');
  const { fleetView, renderSummary } = await import('../fleet-view');
  const { parseKind } = await import('../kinds');
  const concurrency = concurrencyOf(options);
  const { approvalsDirFor } = await import('../../../pipeline/approvals/files');
  const kind = sub === 'start' || sub === 'run' ? parseKind(options.kind) : undefined;

  const state = new BusyTime();
  const polling = new BusyTime();
  const people = new BusyTime();
  let assumeMs = 0;
  const sessionStarted = performance.now();
  const session = await openSession(ctx, { onAssume: (_role, ms) => (assumeMs += ms), wrapStore: (store) => timedStore(store, state) });
  const sessionMs = performance.now() - sessionStarted;
  const interrupt = interruptOnSigint();
  try {
    const keyrings = selectKeyRings(session.config, selector);
    if (sub === 'delete') await confirmDeletions(ctx, options, keyrings, await openRunsByKeyring(session.store));
    if (sub === 'run' && options.delete) await confirmDeletionsWhenReady(ctx, options, keyrings, session);
    let startSigner: import('../../../pipeline/approvals/initiator').StartSigner | undefined;
    if ((sub === 'start' || sub === 'run') && options.signingKey) {
      const { resolveSigningKey } = await import('../../../pipeline/approvals/signing-key');
      const key = await resolveSigningKey(path.resolve(ctx.cwd, options.signingKey), { agent: Boolean(options.agent) });
      startSigner = { signingKeyPath: key.signWith, ...(options.as ? { principal: options.as } : {}), ...(key.agent ? { agent: true } : {}) };
    }
    const sleep = (ms: number): Promise<void> => polling.time(() => new Promise((resolve) => setTimeout(resolve, ms)));
    if (sub !== 'status') {
      // Which AWS the fleet acts on, said once per account and Region before anything changes.
      // A group whose credentials fail (its role refuses AssumeRole) is said here and its key rings
      // fail one by one with the same error, exit 14: the other groups go on.
      const groups = new Map(keyrings.map((k) => [`${k.account}/${k.region}`, k]));
      const { KeyrotorError } = await import('../../../pipeline/errors');
      for (const [group, k] of groups) {
        await session.announce(k).catch((error: unknown) => {
          if (!(error instanceof KeyrotorError)) throw error;
          ctx.io.err(`warning: ${group}: ${error.message}; its key rings are reported failed, the others go on`);
        });
      }
    }
    const view = fleetView(ctx, keyrings.map((k) => k.name));
    const driveStarted = performance.now();
    const limiterBefore = sharedRateLimiter().stats();
    const outcomes = await view.run(() =>
      runFleet(
        {
          store: session.store,
          engineFor: (keyring, onEvent) =>
            engineFor(ctx, session, keyring, onEvent, {
              signal: interrupt.signal,
              sleep,
              ...(options.approvalsDir ? { approvalsDir: options.approvalsDir } : {}),
              ...(startSigner ? { startSigner } : {}),
            }),
          onEvent: view.onEvent,
          ...(concurrency ? { concurrency } : {}),
        },
        {
          action: sub,
          keyrings,
          ...(kind ? { kind } : {}),
          ...(sub === 'run'
            ? {
                follow: {
                  waitForPeopleMs: options.waitForPeople === undefined ? 0 : parseDuration(options.waitForPeople, '--wait-for-people'),
                  deleteWhenReady: Boolean(options.delete),
                  approvalsDir: approvalsDirFor(session.config.baseDir, { flag: options.approvalsDir, env: ctx.env, cwd: ctx.cwd }),
                  sleep: (ms: number) => people.time(() => new Promise((resolve) => setTimeout(resolve, ms))),
                },
              }
            : {}),
        },
      ),
    );
    const code = fleetExitCode(outcomes);
    const limiter = statsSince(limiterBefore, sharedRateLimiter().stats());
    const timing = {
      commandStartMs: round(commandStartedMs),
      sessionOpenMs: round(sessionMs),
      clientSetupMs: round(session.clientSetupMs()),
      assumeRoleMs: round(assumeMs),
      driveWallMs: round(performance.now() - driveStarted),
      rateLimiterWaitingWallMs: round(limiter.waitingWallMs),
      pollingWallMs: round(polling.ms()),
      waitingForPeopleWallMs: round(people.ms()),
      stateStoreWallMs: round(state.ms()),
      stateStoreCalls: state.count(),
      // fsyncs of the file store (each durable write and sync point): what state writes cost on disk.
      fsyncs: fsyncCount(),
      processCpuMs: cpuMs(process.cpuUsage()),
    };
    if (ctx.global.json) {
      emitJson(ctx, { exitCode: code, outcomes: outcomes.map(({ run: _run, ...o }) => o), timing, rateLimiter: limiter });
    } else {
      ctx.io.out(renderSummary(outcomes, code, ctx.global.wide));
    }
    return code;
  } finally {
    interrupt.dispose();
    await session.close();
  }
}

const round = (ms: number): number => Math.round(ms * 10) / 10;
/** process.cpuUsage() (µs) in milliseconds. */
const cpuMs = (usage: NodeJS.CpuUsage): { user: number; system: number } => ({ user: round(usage.user / 1000), system: round(usage.system / 1000) });

/** One confirmation for every deletion the fleet would schedule (or --yes where no one can answer). */
async function confirmDeletions(ctx: CliContext, options: FleetOptions, keyrings: readonly KeyRingConfig[], open: ReadonlyMap<string, import('../../../pipeline/state/types').Run>): Promise<void> {
  const ready = keyrings
    .map((k) => open.get(k.name))
    .filter((run): run is NonNullable<typeof run> => run !== undefined && run.stages.find((s) => s.status !== 'done' && s.status !== 'skipped')?.name === 'schedule-deletion');
  if (ready.length === 0 || options.yes) return;
  const lines = ready.map((run) => {
    const earliest = new Date(Date.now() + run.plan.deletionWindowDays * 86_400_000).toISOString().slice(0, 10);
    return `  ${run.keyring}: ${run.plan.oldKeyArn ?? 'the old key'} — ${run.plan.deletionWindowDays}-day window, unrecoverable on ${earliest} unless cancelled before (run ${run.id})`;
  });
  const what = `schedule the deletion of ${ready.length} key(s):\n${lines.join('\n')}`;
  if (!ctx.io.interactive) {
    throw new KeyrotorError(`rotate fleet delete needs confirmation: this would ${what}`, { fault: 'operator', nextStep: 'add --yes where no one can answer a prompt (CI): `rotate fleet delete <selection> --yes`' });
  }
  const answer = await ctx.io.readLine(`This will ${what}\nType yes to continue: `);
  if (answer?.trim() !== 'yes') throw new KeyrotorError('not confirmed; nothing was changed', { fault: 'operator', nextStep: 'run the command again and type yes, or narrow the selection' });
}

/** `fleet run --delete`: one confirmation, up front, for every old key the runs will retire once approved. */
async function confirmDeletionsWhenReady(ctx: CliContext, options: FleetOptions, keyrings: readonly KeyRingConfig[], session: Session): Promise<void> {
  if (options.yes) return;
  const open = await (await import('../../../pipeline/fleet/fleet-run')).openRunsByKeyring(session.store);
  const lines = await Promise.all(
    keyrings.map(async (k) => {
      const run = open.get(k.name);
      const old = run ? run.plan.oldKeyArn : (await session.store.getLedger(k.name))?.generations.find((g) => g.state === 'active')?.keyArn;
      return `  ${k.name}: ${old ?? 'no key to retire'} (${run?.plan.deletionWindowDays ?? k.rotation.deletionWindowDays}-day window), once its quorum has approved`;
    }),
  );
  const what = `schedule the deletion of the old key of ${keyrings.length} key ring(s):\n${lines.join('\n')}`;
  if (!ctx.io.interactive) {
    throw new KeyrotorError(`rotate fleet run --delete needs confirmation: it would ${what}`, { fault: 'operator', nextStep: 'add --yes where no one can answer a prompt (CI), or leave out --delete and use `rotate fleet delete` later' });
  }
  const answer = await ctx.io.readLine(`This will ${what}\nType yes to continue: `);
  if (answer?.trim() !== 'yes') throw new KeyrotorError('not confirmed; nothing was changed', { fault: 'operator', nextStep: 'run the command again and type yes, or leave out --delete' });
}

/** `fleet plan`: what a run of KIND would do on each selected key ring, and the quota floor; no AWS call, no write. */
async function planFleet(ctx: CliContext, options: FleetOptions, selector: FleetSelector): Promise<number> {
  const { loadConfig } = await import('../../../pipeline/config/load');
  const { openStoreFor } = await import('../store-session');
  const { selectKeyRings } = await import('../../../pipeline/fleet/selection');
  const { openRunsByKeyring } = await import('../../../pipeline/fleet/fleet-run');
  const { addCalls, phaseFloor, rotationCallsPerKeyRing } = await import('../../../pipeline/fleet/quota-floor');
  const { buildPlan, kindNeedsApprovals } = await import('../../../pipeline/engine/run-factory');
  const { barInputs } = await import('../../../pipeline/approvals/bar');
  const { resolveTarget } = await import('../../../pipeline/engine/targets');
  const { parseKind } = await import('../kinds');
  const config = loadConfig(ctx.global.config);
  const kind = parseKind(options.kind);
  const keyrings = selectKeyRings(config, selector);
  const store = await openStoreFor(ctx, config);
  try {
    const open = await openRunsByKeyring(store);
    const phases: Array<Map<string, Record<string, number>>> = [];
    const rows = await Promise.all(
      keyrings.map(async (keyring) => {
        const busy = open.get(keyring.name);
        if (busy) return { keyring: keyring.name, account: keyring.account, region: keyring.region, blocked: `open run ${busy.id} (${busy.status})` };
        try {
          const ledger = await store.getLedger(keyring.name);
          const plan = buildPlan(kind, keyring, ledger, resolveTarget(kind, keyring, ledger, {}), kindNeedsApprovals(kind) ? await barInputs(config, keyring) : undefined);
          if (kind === 'rotate') addCalls(phases, keyring, rotationCallsPerKeyRing(keyring));
          return { keyring: keyring.name, account: keyring.account, region: keyring.region, retires: plan.oldKeyArn ?? null, stages: plan.stages };
        } catch (error) {
          return { keyring: keyring.name, account: keyring.account, region: keyring.region, blocked: error instanceof Error ? error.message : String(error) };
        }
      }),
    );
    const floors = phases.map((phase) => phaseFloor(phase));
    if (ctx.global.json) {
      emitJson(ctx, { kind, keyrings: rows, quotaFloor: kind === 'rotate' ? { phases: ['advance', 'delete'], ms: floors.map((f) => Math.round(f.ms)), boundBy: floors.map((f) => f.boundBy ?? null) } : null });
      return ExitCode.ok;
    }
    ctx.io.out(`fleet plan: ${kind} of ${keyrings.length} key ring(s)`);
    for (const row of rows) {
      ctx.io.out(`  ${row.keyring} (${row.account}/${row.region}): ${'blocked' in row ? `not startable — ${row.blocked}` : `${row.stages!.length} stages${row.retires ? `, retires ${row.retires}` : ''}`}`);
    }
    if (kind === 'rotate' && floors.length > 0) {
      const [advance, deletion] = floors;
      const bound = (f: (typeof floors)[number] | undefined) => (f?.boundBy ? ` (${f.boundBy.calls} × ${f.boundBy.bucket} at ${f.boundBy.perSecond}/s in ${f.boundBy.group.replace('|', '/')})` : '');
      ctx.io.out(`quota floor: ${((advance?.ms ?? 0) / 1000).toFixed(1)} s for \`fleet advance\`${bound(advance)}, ${((deletion?.ms ?? 0) / 1000).toFixed(1)} s for \`fleet delete\`${bound(deletion)}; accounts and Regions proceed in parallel`);
    }
    ctx.io.out('nothing was changed; open the runs with `rotate fleet start <the same selection>`');
    return ExitCode.ok;
  } finally {
    await store.close();
  }
}

/** `fleet approve`: every waiting run's deletion shown together, one confirmation, one signature per run. */
async function approveFleet(ctx: CliContext, options: FleetOptions, selector: FleetSelector): Promise<number> {
  const { loadConfig } = await import('../../../pipeline/config/load');
  const { openStoreFor } = await import('../store-session');
  const { selectKeyRings } = await import('../../../pipeline/fleet/selection');
  const { openRunsByKeyring } = await import('../../../pipeline/fleet/fleet-run');
  const { prepareMany, runsAwaitingApproval, signMany } = await import('../../../pipeline/fleet/approve-many');
  const { resolveSigningKey } = await import('../../../pipeline/approvals/signing-key');
  const { approvalsDirFor } = await import('../../../pipeline/approvals/files');
  const { describePayload } = await import('../../../pipeline/approvals/payload');
  if (!options.signingKey) throw new KeyrotorError('rotate fleet approve needs --signing-key', { fault: 'operator', nextStep: 'pass --signing-key PATH (your SSH key listed in allowed_signers)' });
  const config = loadConfig(ctx.global.config);
  const keyrings = selectKeyRings(config, selector);
  // Approving acts on no AWS account: the runs and the chain come from the state store (in team
  // mode through the state role, like every command).
  const store = await openStoreFor(ctx, config);
  const say = ctx.global.json ? ctx.io.err : ctx.io.out;
  try {
    const now = new Date();
    const ssh = { env: ctx.env };
    const key = await resolveSigningKey(path.resolve(ctx.cwd, options.signingKey), { agent: Boolean(options.agent), ssh });
    const waiting = runsAwaitingApproval(keyrings, await openRunsByKeyring(store));
    const checked = await prepareMany(store, config, waiting.candidates, key, { ...(options.as ? { approver: options.as } : {}), now });
    const refused = [...waiting.refused, ...checked.refused];
    if (checked.prepared.length > 0) {
      say(`You are about to approve ${checked.prepared.length} deletion(s), one signature per run, with key ${key.fingerprint}:`);
      for (const item of checked.prepared) say(`  ${item.keyring.name}: delete ${item.prepared.payload.oldKeyArn} (run ${item.run.id}, ${item.prepared.payload.deletionWindowDays}-day window, earliest ${item.prepared.payload.earliestDeletionDate.slice(0, 10)})`);
      for (const item of checked.prepared) say(`\n── ${item.keyring.name} ──\n${describePayload(item.prepared.payload, item.run)}`);
    }
    for (const r of refused) say(`not approvable: ${r.keyring}${r.runId ? ` (run ${r.runId})` : ''}: ${r.reason}`);
    if (checked.prepared.length === 0) {
      if (ctx.global.json) emitJson(ctx, { signed: [], refused });
      say('nothing to sign');
      return refused.some((r) => r.runId) ? ExitCode.notSatisfied : ExitCode.ok;
    }
    if (!options.yes) {
      if (!ctx.io.interactive) throw new KeyrotorError('not signing: no terminal to confirm on, and --yes was not given', { fault: 'operator', nextStep: 'read the payloads printed above, then run the same command with --yes' });
      const answer = await ctx.io.readLine(`Sign all ${checked.prepared.length} approvals? Type "yes" to sign: `);
      if (answer?.trim().toLowerCase() !== 'yes') {
        ctx.io.err('not signed; nothing was written');
        return ExitCode.notSatisfied;
      }
    }
    const approvalsDir = approvalsDirFor(config.baseDir, { flag: options.approvalsDir, env: ctx.env, cwd: ctx.cwd });
    const result = await signMany(checked.prepared, { approvalsDir, now, ssh });
    const allRefused = [...refused, ...result.refused];
    if (ctx.global.json) {
      emitJson(ctx, { signed: result.signed.map((s) => ({ keyring: s.keyring, runId: s.runId, file: s.file, signer: s.approval.signer })), refused: allRefused });
    } else {
      for (const s of result.signed) ctx.io.out(`signed: ${s.keyring} run ${s.runId} as ${s.approval.signer} → ${s.file}`);
      for (const r of result.refused) ctx.io.out(`not signed: ${r.keyring} run ${r.runId}: ${r.reason}`);
      ctx.io.out('hand the files in (commit them through a pull request, or the gate\'s approvals directory), then `rotate fleet advance <selection>`');
    }
    return result.refused.length > 0 ? (result.signed.length > 0 ? ExitCode.fleetPartial : ExitCode.notSatisfied) : ExitCode.ok;
  } finally {
    await store.close();
  }
}

/** The CLI entry points, one per subcommand (registered in ../team-commands.ts). */
export const runners: Record<FleetSubcommand, CommandRun<FleetOptions>> = {
  plan: (ctx, options) => runFleetCommand('plan', ctx, options),
  start: (ctx, options) => runFleetCommand('start', ctx, options),
  advance: (ctx, options) => runFleetCommand('advance', ctx, options),
  status: (ctx, options) => runFleetCommand('status', ctx, options),
  approve: (ctx, options) => runFleetCommand('approve', ctx, options),
  delete: (ctx, options) => runFleetCommand('delete', ctx, options),
  run: (ctx, options) => runFleetCommand('run', ctx, options),
};
