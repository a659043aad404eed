import type { CommandRun } from '../context';
import { ExitCode } from '../../../pipeline/errors';

/** `rotate plan KEYRING --kind K`: the stages a run would take and its plan, with no AWS call and no write. */
export const run: CommandRun<{ kind?: string; key?: string; generation?: string }> = async (ctx, options, args) => {
  const { loadConfig } = await import('../../../pipeline/config/load');
  const { openStateStore } = await import('../../../pipeline/state/open');
  const { findKeyring } = await import('../../../pipeline/engine/lookup');
  const { buildPlan, kindNeedsApprovals } = await import('../../../pipeline/engine/run-factory');
  const { barInputs } = await import('../../../pipeline/approvals/bar');
  const { stagesFor } = await import('../../../pipeline/engine/stage-lists');
  const { resolveTarget } = await import('../../../pipeline/engine/targets');
  const { parseKind } = await import('../kinds');
  const { KIND_GUIDANCE, alternativeTo } = await import('../../../pipeline/engine/kind-guidance');
  const config = loadConfig(ctx.global.config);
  const keyring = findKeyring(config, args[0] ?? '');
  const store = await openStateStore(config.state, { stateDirOverride: ctx.global.stateDir, env: ctx.env });
  try {
    const kind = parseKind(options.kind);
    const ledger = await store.getLedger(keyring.name);
    const target = resolveTarget(kind, keyring, ledger, { ...(options.key !== undefined ? { key: options.key } : {}), ...(options.generation !== undefined ? { generation: options.generation } : {}) });
    // A run that deletes through the gate records its approval bar (allowed_signers contents included).
    const plan = buildPlan(kind, keyring, ledger, target, kindNeedsApprovals(kind) ? await barInputs(config, keyring) : undefined);
    const stages = stagesFor(kind).map((s) => ({ name: s.name, description: s.description, undo: s.undoable }));
    const alternative = alternativeTo(kind);
    const guidance = { [kind]: KIND_GUIDANCE[kind], ...(alternative ? { [alternative]: KIND_GUIDANCE[alternative] } : {}) };
    if (ctx.global.json) {
      ctx.io.out(JSON.stringify({ plan, stages, guidance }, null, 2));
      return ExitCode.ok;
    }
    ctx.io.out(`plan: ${kind} of key ring ${keyring.name} (${keyring.alias} in ${keyring.account}/${keyring.region})`);
    ctx.io.out(`  when: ${KIND_GUIDANCE[kind]}`);
    if (alternative) ctx.io.out(`  instead, --kind ${alternative}: ${KIND_GUIDANCE[alternative]}`);
    if (plan.replicaRegions) ctx.io.out(`  multi-Region: primary in ${keyring.region}, replicas in ${plan.replicaRegions.join(', ') || 'no Region yet'} (each with the key ring's policy and alias)`);
    if (kind === 'rotate-material') ctx.io.out(`  rotates the material of: ${plan.newKeyArn} (keeps at least ${plan.onDemandRotationReserve} of its 25 on-demand rotations)`);
    if (plan.oldKeyArn) ctx.io.out(`  retires: ${plan.oldKeyArn}${kind === 'rotate' || kind === 'migrate-to-aws-owned' || kind === 'retire-key' ? ` (deletion window ${plan.deletionWindowDays} days, after ${keyring.approvals.quorum} approvals)` : ''}`);
    if (plan.identityCenterInstanceArn) ctx.io.out(`  Identity Center: ${plan.identityCenterInstanceArn}`);
    if (plan.approvals) {
      const bar = plan.approvals;
      ctx.io.out(`  approval bar (recorded at start; approvers sign for it): quorum ${bar.quorum} people other than the initiator, approvals valid ${bar.lifetimeHours} h, signers from ${bar.allowedSignersFile} (sha256 ${bar.allowedSignersSha256.slice(0, 12)}…), soak ${plan.minimumSoakHours} h${plan.disableOldKeyDuringSoak ? ' with the old key disabled' : ''}`);
    }
    ctx.io.out('stages:');
    stages.forEach((s, i) => ctx.io.out(`  ${i + 1}. ${s.name.padEnd(24)} ${s.description}${s.undo ? '' : ' (nothing to undo)'}`));
    const targetFlag = kind === 'retire-key' ? ` --key ${plan.oldKeyArn}` : '';
    ctx.io.out(`\nnothing was changed; start it with \`rotate start ${keyring.name}${kind === 'rotate' ? '' : ` --kind ${kind}`}${targetFlag}\``);
    return ExitCode.ok;
  } finally {
    await store.close();
  }
};
