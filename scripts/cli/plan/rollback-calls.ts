/**
 * What `rotate rollback RUN` will do, from the run record: the stages it undoes, in reverse, and
 * the AWS calls each undo makes (the same rules as the stages' `undo`), so `rollback --dry-run`
 * and the confirmation name the calls, not just stage names.
 */
import type { Run, StageRecord } from '../../../pipeline/state/types';
import { didWork } from '../../../pipeline/engine/engine';
import type { PlannedCall } from './changes';

export interface RollbackStep {
  readonly stage: string;
  /** False when the stage has nothing to undo (a read-only check). */
  readonly undoes: boolean;
  readonly calls: readonly PlannedCall[];
  readonly notes: readonly string[];
}

const call = (sign: PlannedCall['sign'], operation: string, target: string, values: Array<[string, string]> = []): PlannedCall => ({ sign, operation, target, values });

function undoOf(run: Run, record: StageRecord): Omit<RollbackStep, 'stage'> {
  const { plan } = run;
  const created = run.stages.find((s) => s.name === 'create-key')?.outputs;
  const reused = created?.reusedActive === true;
  const newKey = plan.newKeyArn ?? (typeof created?.newKeyArn === 'string' ? created.newKeyArn : undefined);
  switch (record.name) {
    case 'create-key':
      if (!newKey || reused) return { undoes: false, calls: [], notes: ['no key was created'] };
      return {
        undoes: true,
        calls: [call('<=', 'kms:DescribeKey', newKey, [['refuses if', 'the alias or Identity Center still uses it']]), call('-', 'kms:DisableKey', newKey, [['if', 'Enabled']])],
        notes: [`ledger: ${newKey} → abandoned (retire it later through the gate, or enable it again)`],
      };
    case 'promote-alias':
      if (!newKey || reused || newKey === plan.oldKeyArn) return { undoes: false, calls: [], notes: ['the alias did not move'] };
      return plan.oldKeyArn
        ? { undoes: true, calls: [call('~', 'kms:UpdateAlias', plan.alias, [['from', newKey], ['to', plan.oldKeyArn]])], notes: [`ledger: ${plan.oldKeyArn} → active`] }
        : { undoes: true, calls: [call('-', 'kms:DeleteAlias', plan.alias, [['why', 'it did not exist before the run']])], notes: [] };
    case 'switch-identity-center': {
      if (!plan.identityCenterInstanceArn) return { undoes: false, calls: [], notes: ['not attached to Identity Center'] };
      const back = plan.oldKeyArn ?? 'an AWS owned key';
      return {
        undoes: true,
        calls: [call('~', 'sso:UpdateInstance', plan.identityCenterInstanceArn, [['to', back]]), call('<=', 'sso:DescribeInstance', plan.identityCenterInstanceArn, [['until', 'ENABLED']])],
        notes: [],
      };
    }
    case 'soak':
      return record.outputs?.oldKeyDisabled && plan.oldKeyArn
        ? { undoes: true, calls: [call('~', 'kms:EnableKey', plan.oldKeyArn, [['if', 'Disabled']])], notes: [`ledger: ${plan.oldKeyArn} → retiring`] }
        : { undoes: false, calls: [], notes: ['the old key was not disabled'] };
    case 'retire-alias':
      return plan.oldKeyArn ? { undoes: true, calls: [call('+', 'kms:CreateAlias', plan.alias, [['to', plan.oldKeyArn], ['if', 'the alias is gone']])], notes: [] } : { undoes: false, calls: [], notes: [] };
    default:
      return { undoes: false, calls: [], notes: [] };
  }
}

/** The undo steps of a rollback, last stage first (what the engine's rollback walks). */
export function rollbackSteps(run: Run): RollbackStep[] {
  return [...run.stages]
    .reverse()
    .filter(didWork)
    .map((record) => ({ stage: record.name, ...undoOf(run, record) }));
}

/** The changes a rollback makes, one line each, for its confirmation. */
export function rollbackChangeLines(run: Run): string[] {
  const lines = rollbackSteps(run).flatMap((step) => step.calls.filter((c) => c.sign !== '<=').map((c) => `${c.operation} ${c.target}${c.values.length > 0 ? ` (${c.values.map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}`));
  return lines.length > 0 ? lines : ['mark the run rolled back and free its key ring (no AWS change)'];
}
