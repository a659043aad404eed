import type { CommandRun } from '../context';
import { ExitCode } from '../../../pipeline/errors';

/**
 * `rotate plan KEYRING --kind K [--offline]`: what a run would do, per stage, as the AWS calls and
 * values it will send (terraform-style), with no write and no AWS mutation. Where the alias and
 * Identity Center point now is read live (read-only) when credentials or an endpoint are at hand,
 * and said to be unknown otherwise (or with --offline).
 */
export const run: CommandRun<{ kind?: string; key?: string; generation?: string; offline?: boolean }> = async (ctx, options, args) => {
  const { findKeyring } = await import('../../../pipeline/engine/lookup');
  const { buildPlan, kindNeedsApprovals, newRun } = await import('../../../pipeline/engine/run-factory');
  const { barInputs } = await import('../../../pipeline/approvals/bar');
  const { stagesFor } = await import('../../../pipeline/engine/stage-lists');
  const { resolveTarget } = await import('../../../pipeline/engine/targets');
  const { parseKind } = await import('../kinds');
  const { planStages, planDates, plannedMutations } = await import('../plan/changes');
  const { renderPlannedStages } = await import('../plan/render');
  const { awsReachable } = await import('../plan/live-facts');
  const { withStore } = await import('../store-session');
  return withStore(ctx, async (config, store) => {
    const keyring = findKeyring(config, args[0] ?? '');
    const kind = parseKind(options.kind);
    const ledger = await store.getLedger(keyring.name);
    const target = resolveTarget(kind, keyring, ledger, { ...(options.key !== undefined ? { key: options.key } : {}), ...(options.generation !== undefined ? { generation: options.generation } : {}) });
    // A run that deletes through the gate records its approval bar (allowed_signers contents included).
    const plan = buildPlan(kind, keyring, ledger, target, kindNeedsApprovals(kind) ? await barInputs(config, keyring) : undefined);
    const planDigest = newRun('plan', plan, 'plan', ctx.clock.now()).planDigest;
    const { KIND_GUIDANCE, alternativeTo } = await import('../../../pipeline/engine/kind-guidance');
    const alternative = alternativeTo(kind);
    const guidance: Record<string, string> = { [kind]: KIND_GUIDANCE[kind], ...(alternative ? { [alternative]: KIND_GUIDANCE[alternative] } : {}) };
    let live: import('../plan/live-facts').LiveFacts;
    if (options.offline) live = { source: 'unknown', reason: '--offline: not read' };
    else if (!awsReachable(ctx.env, ctx.global.endpoint)) live = { source: 'unknown', reason: 'no AWS credentials or endpoint in the environment; not read' };
    else live = await readLive(ctx, keyring);
    const now = ctx.clock.now();
    const stages = planStages({ plan, keyring, ledger, stages: stagesFor(kind), live, now });
    const dates = planDates(plan, now);
    const { startCommand } = await import('../view/next-step');
    const start = startCommand(keyring.name, kind, kind === 'retire-key' ? plan.oldKeyArn : undefined);
    if (ctx.global.json) {
      const { emitJson } = await import('../json/output');
      emitJson(ctx, {
        keyring: keyring.name,
        kind,
        planDigest,
        plan: { account: plan.account, region: plan.region, alias: plan.alias, ...(plan.oldKeyArn ? { oldKeyArn: plan.oldKeyArn } : {}), ...(plan.identityCenterInstanceArn ? { identityCenterInstanceArn: plan.identityCenterInstanceArn } : {}), deletionWindowDays: plan.deletionWindowDays, minimumSoakHours: plan.minimumSoakHours, ...(plan.replicaRegions ? { replicaRegions: [...plan.replicaRegions] } : {}) },
        guidance,
        live,
        ...(dates.soakEnds && plan.stages.includes('soak') ? { soakEndsNoEarlierThan: dates.soakEnds.toISOString() } : {}),
        ...(plan.stages.includes('schedule-deletion') ? { unrecoverableNoEarlierThan: dates.earliestUnrecoverable.toISOString() } : {}),
        ...(plan.approvals ? { approvals: { quorum: plan.approvals.quorum, lifetimeHours: plan.approvals.lifetimeHours, allowedSignersFile: plan.approvals.allowedSignersFile, allowedSignersSha256: plan.approvals.allowedSignersSha256 } } : {}),
        stages: stages.map((s) => ({ ...s, calls: s.calls.map((c) => ({ sign: c.sign, operation: c.operation, target: c.target, values: Object.fromEntries(c.values) })) })),
        mutations: plannedMutations(stages),
        next: start,
      });
      return ExitCode.ok;
    }
    const header = [`plan: ${kind} of key ring ${keyring.name} (${keyring.alias} in ${keyring.account}/${keyring.region}), plan digest ${planDigest.slice(0, 12)}…`];
    header.push(`when: ${KIND_GUIDANCE[kind]}`);
    if (alternative) header.push(`instead, --kind ${alternative}: ${KIND_GUIDANCE[alternative]}`);
    if (plan.replicaRegions) header.push(`multi-Region: primary in ${keyring.region}, replicas in ${plan.replicaRegions.join(', ') || 'no Region yet'} (each with the key ring's policy and alias)`);
    if (kind === 'rotate-material') header.push(`rotates the material of: ${plan.newKeyArn} (keeps at least ${plan.onDemandRotationReserve} of its 25 on-demand rotations)`);
    if (live.source !== 'live') header.push(`live state: ${live.reason}`);
    ctx.io.out(renderPlannedStages(header, stages, ['', 'nothing was changed', `next: ${start}`], ctx.global.wide));
    return ExitCode.ok;
  });
};

/** The live read for the plan, with the AWS banner; a failure becomes "unknown" with its reason. */
async function readLive(ctx: Parameters<CommandRun>[0], keyring: import('../../../pipeline/config/types').KeyRingConfig): Promise<import('../plan/live-facts').LiveFacts> {
  const { createAwsClients, describeCaller } = await import('../../../pipeline/aws');
  const { awsContextOf, announceAwsContext } = await import('../aws-context');
  const { readLiveFacts } = await import('../plan/live-facts');
  const clients = createAwsClients({ region: keyring.region, account: keyring.account, env: ctx.env, maxAttempts: 2, ...(ctx.global.endpoint ? { endpoint: ctx.global.endpoint } : {}) });
  try {
    const caller = await describeCaller(clients);
    announceAwsContext(ctx, await awsContextOf(clients, caller));
    return await readLiveFacts(clients, keyring);
  } catch (error) {
    const e = error as { message?: string };
    return { source: 'unknown', reason: `the live read failed: ${e.message ?? String(error)}` };
  } finally {
    clients.destroy();
  }
}
