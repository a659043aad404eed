/**
 * `rotate replan RUN`: re-binds an open run to the current config — quorum, approval lifetime,
 * allowed_signers contents, people, deletion window, minimum soak, disabling during the soak. The
 * plan digest changes, so every earlier approval becomes stale (the gate says so) and approvers sign
 * the new bar. Stages whose result the new bar could change run again: the approval gate always, the
 * soak when it must now last longer or disable the old key. Refused once deletion is scheduled.
 */
import { digestOf } from '../canonical-json';
import type { Config, KeyRingConfig } from '../config/types';
import { ApprovalError } from '../errors';
import type { Run, StageRecord } from '../state/types';
import { barChanges, barFor, barInputs, hasApprovalGate, type BarChange } from './bar';

export interface ReplanResult {
  readonly run: Run;
  readonly changes: readonly BarChange[];
  /** Stages set back to pending. */
  readonly reopened: readonly string[];
}

function refuse(message: string, nextStep: string): never {
  throw new ApprovalError(message, { fault: 'operator', nextStep });
}

/** The re-bound run (pure apart from its inputs): new bar and settings, reopened stages, new digest. */
export function replannedRun(run: Run, keyring: KeyRingConfig, inputs: Awaited<ReturnType<typeof barInputs>>): { run: Run; reopened: string[] } {
  const plan = {
    ...run.plan,
    deletionWindowDays: keyring.rotation.deletionWindowDays,
    minimumSoakHours: keyring.rotation.minimumSoakHours,
    disableOldKeyDuringSoak: keyring.rotation.disableOldKeyDuringSoak,
    approvals: barFor(keyring, inputs),
  };
  const soakGrew = plan.minimumSoakHours > run.plan.minimumSoakHours || (plan.disableOldKeyDuringSoak && !run.plan.disableOldKeyDuringSoak);
  const reopened: string[] = [];
  const stages = run.stages.map((s): StageRecord => {
    const reopen = (s.name === 'approval-gate' || (s.name === 'soak' && soakGrew)) && ['done', 'waiting', 'failed'].includes(s.status);
    if (!reopen) return s;
    reopened.push(s.name);
    const { endedAt: _e, summary: _s, error: _err, ...rest } = s;
    return { ...rest, status: 'pending' };
  });
  return { run: { ...run, plan, planDigest: digestOf(plan), stages, status: reopened.length > 0 && run.status !== 'failed' ? 'open' : run.status }, reopened };
}

/**
 * What re-planning `run` against the current config would change: the re-bound run, the changes
 * and the reopened stages, or a refusal. The engine writes it under the run's execution lock.
 */
export async function planReplan(config: Config, keyring: KeyRingConfig, run: Run): Promise<ReplanResult> {
  if (run.status === 'completed' || run.status === 'rolled-back' || run.status === 'cancelled') {
    refuse(`run ${run.id} is ${run.status}; there is nothing to re-plan`, `start a new run: \`rotate start ${run.keyring}\``);
  }
  const deletion = run.stages.find((s) => s.name === 'schedule-deletion');
  if (deletion && (deletion.status === 'done' || deletion.mutations.length > 0)) {
    refuse(`run ${run.id} already scheduled the old key's deletion; its bar can no longer change`, `cancel the deletion with \`rotate cancel-deletion ${run.keyring} --key ${run.plan.oldKeyArn}\` if needed`);
  }
  if (!hasApprovalGate(run.plan)) refuse(`run ${run.id} (${run.kind}) has no approval gate, so it records no bar to re-plan`, 'nothing to do');
  const inputs = await barInputs(config, keyring);
  const changes = barChanges(run, keyring, inputs.allowedSignersText, config.people ?? []);
  if (changes.length === 0) return { run, changes, reopened: [] };
  const next = replannedRun(run, keyring, inputs);
  return { run: next.run, changes, reopened: next.reopened };
}
