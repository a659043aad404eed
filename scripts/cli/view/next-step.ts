/**
 * The one command (or action) that comes next for a run, in every state it can be in. Each
 * suggestion is a command the CLI accepts in that state (test/cli/next-steps.test.ts runs them).
 */
import type { Run, StageRecord } from '../../../pipeline/state/types';
import { formatTime } from './text';

/** Kinds that delete through the approval gate: their start names the initiator by key (or a `people` entry). */
const GATED = ['rotate', 'migrate-to-aws-owned', 'retire-key'];

/** The key a targeted kind (cancel-deletion, retire-key) acts on; other kinds act on the active generation. */
function targetOf(run: Run): string | undefined {
  return run.kind === 'cancel-deletion' || run.kind === 'retire-key' ? run.plan.oldKeyArn : undefined;
}

/** `rotate start …` for another run of `kind`, with the flags that kind needs. */
export function startCommand(keyring: string, kind: string, key?: string): string {
  if (kind === 'cancel-deletion') return `\`rotate cancel-deletion ${keyring} --key ${key ?? 'ARN'}\``;
  return `\`rotate start ${keyring}${kind === 'rotate' ? '' : ` --kind ${kind}`}${key ? ` --key ${key}` : ''}${GATED.includes(kind) ? ' --signing-key <your key>' : ''}\``;
}

function stage(run: Run, name: string): StageRecord | undefined {
  return run.stages.find((s) => s.name === name);
}

function outputString(record: StageRecord | undefined, key: string): string | undefined {
  const value = record?.outputs?.[key];
  return typeof value === 'string' ? value : undefined;
}

/** The key a run created (not one it reused), which a rollback leaves disabled and abandoned. */
function createdKey(run: Run): string | undefined {
  const created = stage(run, 'create-key');
  if (!created || created.outputs?.reusedActive === true) return undefined;
  return outputString(created, 'newKeyArn') ?? run.plan.newKeyArn;
}

/** After a run changed the ledger: the stacks follow it through a reviewed merge (GitOps). */
const GITOPS = 'merge state/ through a pull request so the stacks follow the ledger (`rotate synth` shows them)';

function completed(run: Run): string {
  const { keyring } = run;
  switch (run.kind) {
    case 'rotate':
    case 'migrate-to-aws-owned':
    case 'retire-key': {
      const until = outputString(stage(run, 'schedule-deletion'), 'deletionDate');
      const old = run.plan.oldKeyArn;
      if (!old) return `nothing; the run is complete. ${GITOPS}`;
      return `${GITOPS}; until ${until ? formatTime(until) : 'its deletion date'} the old key can be recovered with \`rotate cancel-deletion ${keyring} --key ${old}\``;
    }
    case 'migrate-to-cmk':
    case 'adopt':
      return `${GITOPS} and manage the key; rotate it later (\`rotate plan ${keyring}\` shows how)`;
    case 'cancel-deletion': {
      const key = run.plan.oldKeyArn ?? 'the key';
      return run.plan.enableAfterCancel
        ? `${GITOPS}; the key is enabled and retiring (retire it again with ${startCommand(keyring, 'retire-key', key)})`
        : `${GITOPS}; the key stays Disabled: enable it with \`rotate cancel-deletion ${keyring} --key ${key} --enable\`, or retire it with ${startCommand(keyring, 'retire-key', key)}`;
    }
    default:
      return 'nothing; the run is complete';
  }
}

function rolledBack(run: Run): string {
  const created = createdKey(run);
  const again = `${startCommand(run.keyring, run.kind, targetOf(run))} starts again`;
  if (created) {
    return `${GITOPS}; the key it created (${created}) is disabled and abandoned: ${again}, and ${startCommand(run.keyring, 'retire-key', created)} deletes it through the approval gate`;
  }
  return `nothing to undo any more; ${again} when ready`;
}

function waiting(run: Run): string {
  const stageWaiting = run.stages.find((s) => s.status === 'waiting');
  const id = run.id;
  if (stageWaiting?.name === 'approval-gate') {
    return `approvers (not the initiator) run \`rotate approve ${id} --signing-key <key>\` and hand in the file; \`rotate gate ${id}\` shows the count; then \`rotate advance ${id}\``;
  }
  if (stageWaiting?.name === 'schedule-deletion') {
    return `schedule the old key's deletion with \`rotate delete ${id}\` (or undo the run with \`rotate rollback ${id}\`)`;
  }
  if (stageWaiting?.waitingFor === 'time') {
    const until = outputString(stageWaiting, 'soakUntil');
    return `\`rotate advance ${id}\`${until ? ` after ${formatTime(until)}` : ''} (\`rotate advance ${id} --wait\` waits for it)`;
  }
  return `\`rotate advance ${id}\``;
}

export function nextStep(run: Run): string {
  if (run.status !== 'rolled-back' && run.stages.some((s) => s.status === 'undone')) {
    return `finish the rollback with \`rotate rollback ${run.id}\` (undone stages are skipped)`;
  }
  switch (run.status) {
    case 'completed':
      return completed(run);
    case 'rolled-back':
      return rolledBack(run);
    case 'cancelled': {
      const again = startCommand(run.keyring, run.kind, targetOf(run));
      // A run refused at preflight changed nothing; starting again helps only once its finding is fixed.
      const refused = run.stages.find((s) => s.name === 'preflight' && s.status === 'failed');
      if (refused) return refused.error?.nextStep ?? `fix what preflight found (above); then start a new run with ${again}`;
      return `nothing; the run was ended (${run.endReason ?? 'cancelled'}); start a new one with ${again} when ready`;
    }
    case 'failed': {
      const failed = run.stages.find((s) => s.status === 'failed');
      return failed?.error?.nextStep ?? `\`rotate advance ${run.id}\` to retry, or \`rotate rollback ${run.id}\``;
    }
    case 'waiting':
      return waiting(run);
    default: {
      const running = run.stages.find((s) => s.status === 'running');
      if (running) return `stage ${running.name} was interrupted or is running now: \`rotate advance ${run.id}\` continues it (it refuses while another process acts on the run)`;
      return `\`rotate advance ${run.id}\``;
    }
  }
}
