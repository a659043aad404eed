import { nextStep, renderRun } from '../../scripts/cli/run-view';
import type { Run, StageRecord } from '../../pipeline/state/types';

function runWith(status: Run['status'], stages: Partial<StageRecord>[]): Run {
  return {
    id: 'ring-20261123T000000Z-abcdef', kind: 'rotate', keyring: 'ring', initiator: 'op@example.com', createdAt: '2026-11-23T00:00:00.000Z', updatedAt: '2026-11-23T00:00:00.000Z',
    status, planDigest: 'd', approvals: [], version: 3,
    plan: { kind: 'rotate', keyring: 'ring', account: '111111111111', region: 'us-east-1', alias: 'alias/ring', oldKeyArn: 'arn:aws:kms:us-east-1:111111111111:key/old', deletionWindowDays: 30, minimumSoakHours: 0, stages: [] },
    stages: stages.map((s, i) => ({ name: `stage-${i}`, status: 'pending', attempts: 0, mutations: [], ...s })),
  };
}

describe('what `rotate status` says comes next', () => {
  it.each<[string, Run, RegExp]>([
    ['a run waiting at the gate', runWith('waiting', [{ status: 'done' }, { name: 'approval-gate', status: 'waiting' }]), /approvers run `rotate approve ring-\S+ --signing-key <key>`/],
    ['a soaking run', runWith('waiting', [{ name: 'soak', status: 'waiting', summary: 'soaking: 3h left' }]), /`rotate advance ring-\S+` \(soaking: 3h left\)/],
    ['a failed run', runWith('failed', [{ status: 'failed', error: { message: 'boom', nextStep: 'do the thing' } }]), /^do the thing$/],
    ['a run part-way through a rollback', runWith('waiting', [{ status: 'done' }, { status: 'undone' }]), /finish the rollback with `rotate rollback ring-\S+`/],
    ['a completed rotation', runWith('completed', [{ status: 'done' }]), /rotate cancel-deletion ring --key arn:aws:kms:us-east-1:111111111111:key\/old/],
  ])('%s', (_, run, expected) => {
    expect(nextStep(run)).toMatch(expected);
    expect(renderRun(run)).toContain(`next: ${nextStep(run)}`);
  });

  it('lists each stage with its mutations and errors', () => {
    const text = renderRun(runWith('failed', [
      { status: 'done', startedAt: '2026-11-23T00:00:01.000Z', endedAt: '2026-11-23T00:00:02.000Z', mutations: [{ operation: 'kms:UpdateAlias', target: 'alias/ring', at: '2026-11-23T00:00:02.000Z', outcome: 'ok' }] },
      { status: 'failed', error: { message: 'stage stage-1: nope' } },
    ]));
    expect(text).toMatch(/✔ stage-0\s+done\s+2026-11-23 00:00:01Z → 2026-11-23 00:00:02Z/);
    expect(text).toContain('changed: kms:UpdateAlias alias/ring at 2026-11-23 00:00:02Z');
    expect(text).toMatch(/✖ stage-1\s+failed[\s\S]*error: stage stage-1: nope/);
  });
});
