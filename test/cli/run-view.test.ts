/**
 * `rotate status RUN` as text: each stage state has its own mark, one time format, 100 columns
 * (ARNs whole on first mention, short after), `--wide` keeps everything whole, and the error and
 * `next:` line are left to the error report when a command failed.
 */
import { renderRun } from '../../scripts/cli/run-view';
import { ArnShortener, formatDuration, wrapLine } from '../../scripts/cli/view/text';
import type { Run, StageRecord } from '../../pipeline/state/types';

const OLD = 'arn:aws:kms:us-east-1:111111111111:key/0b7e2a56-1111-4a3c-a4d6-0b324d39aa8d';
const NEW = 'arn:aws:kms:us-east-1:111111111111:key/d90ffd65-e10c-4adc-ab30-db39e34849a9';
const INSTANCE = 'arn:aws:sso:::instance/ssoins-7223f2cd9d6a6b51';

function runWith(status: Run['status'], stages: Partial<StageRecord>[]): Run {
  return {
    id: 'ring-20261123T000000Z-abcdef', kind: 'rotate', keyring: 'ring', initiator: 'arn:aws:iam::111111111111:user/operator', createdAt: '2026-11-23T00:00:00.000Z', updatedAt: '2026-11-23T00:00:00.000Z',
    status, planDigest: 'd'.repeat(64), approvals: [], version: 3,
    plan: { kind: 'rotate', keyring: 'ring', account: '111111111111', region: 'us-east-1', alias: 'alias/ring', oldKeyArn: OLD, newKeyArn: NEW, deletionWindowDays: 30, minimumSoakHours: 24, stages: [] },
    stages: stages.map((s, i) => ({ name: `stage-${i}`, status: 'pending', attempts: 0, mutations: [], ...s })),
  };
}

/** A rotation waiting in its soak, with every kind of line a run shows. */
const soaking = runWith('waiting', [
  { name: 'create-key', status: 'done', startedAt: '2026-11-23T00:00:01.000Z', endedAt: '2026-11-23T00:00:02.500Z', summary: `created generation 2: ${NEW} (automatic rotation every 365 days)`, mutations: [{ operation: 'kms:CreateKey', target: 'alias/ring generation 2', at: '2026-11-23T00:00:01.000Z', outcome: 'ok' }, { operation: 'kms:EnableKeyRotation', target: NEW, at: '2026-11-23T00:00:02.000Z', outcome: 'ok' }] },
  { name: 'promote-alias', status: 'done', summary: `alias alias/ring: ${OLD} → ${NEW}`, mutations: [{ operation: 'kms:UpdateAlias', target: 'alias/ring', at: '2026-11-23T00:00:03.000Z', outcome: 'ok' }] },
  { name: 'switch-identity-center', status: 'skipped', summary: 'key ring is not attached to Identity Center' },
  { name: 'soak', status: 'waiting', waitingFor: 'time', attempts: 1, startedAt: '2026-11-23T00:00:04.000Z', summary: 'soaking: 24h 0m left (until 2026-11-24T00:00:04.000Z); old key disabled to surface hidden consumers', outputs: { soakUntil: '2026-11-24T00:00:04.000Z' }, mutations: [{ operation: 'kms:DisableKey', target: OLD, at: '2026-11-23T00:00:04.000Z', outcome: 'ok' }] },
  { name: 'approval-gate', status: 'pending' },
]);

describe('a run as text', () => {
  it('GIVEN stages in every state THEN each has its own mark: done ✔, skipped ↷, waiting ⏸ (for time), pending ·', () => {
    const text = renderRun(soaking);
    expect(text).toMatch(/✔ create-key\s+done/);
    expect(text).toMatch(/↷ switch-identity-center\s+skipped/);
    expect(text).toMatch(/⏸ soak\s+waiting for time/);
    expect(text).toMatch(/· approval-gate\s+pending/);
    expect(renderRun(runWith('failed', [{ status: 'failed', error: { message: 'stage stage-0: nope' } }]))).toMatch(/✖ stage-0\s+failed[\s\S]*error: stage stage-0: nope/);
  });

  it('GIVEN ISO timestamps in records and summaries THEN every time shows in the one format', () => {
    const text = renderRun(soaking);
    expect(text).not.toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d/);
    expect(text).toContain('2026-11-23 00:00:01Z → 2026-11-23 00:00:02Z');
    expect(text).toContain('until 2026-11-24 00:00:04Z');
  });

  it('GIVEN long ARNs THEN every line fits 100 columns and an ARN is whole only at its first mention', () => {
    const text = renderRun(soaking);
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(100);
    expect(text.split(OLD).length - 1).toBe(1);
    expect(text.split(NEW).length - 1).toBe(1);
    expect(text).toContain('key/d90ffd65-e10c-4adc-ab30-db39e34849a9 (automatic rotation');
  });

  it('GIVEN --wide THEN ARNs stay whole everywhere and nothing wraps', () => {
    const text = renderRun(soaking, { wide: true });
    expect(text.split(NEW).length - 1).toBeGreaterThan(2);
    expect(text.split('\n').some((line) => line.length > 100)).toBe(true);
  });

  it('GIVEN the command is about to report the error THEN the run leaves out the error and the next line (said once, below)', () => {
    const failed = runWith('failed', [{ status: 'failed', error: { message: 'stage stage-0: nope', nextStep: 'do the thing' } }]);
    const text = renderRun(failed, { forError: true });
    expect(text).toMatch(/✖ stage-0\s+failed/);
    expect(text).not.toContain('nope');
    expect(text).not.toContain('next:');
  });
});

describe('text rules', () => {
  it('GIVEN an ARN inside a command in backticks THEN it stays whole, so the command works when pasted', () => {
    const arns = new ArnShortener();
    expect(arns.shorten(`old ${OLD}`)).toContain(OLD);
    expect(arns.shorten(`recover with \`rotate cancel-deletion ring --key ${OLD}\`, key ${OLD}`)).toBe(`recover with \`rotate cancel-deletion ring --key ${OLD}\`, key key/0b7e2a56-1111-4a3c-a4d6-0b324d39aa8d`);
    expect(arns.shorten(`${INSTANCE} and ${INSTANCE}`)).toBe(`${INSTANCE} and instance/ssoins-7223f2cd9d6a6b51`);
  });

  it('GIVEN a long line THEN it wraps under its own indentation, never inside a time', () => {
    const lines = wrapLine(`      changed: kms:UpdateAlias alias/identity-center from ${OLD} at 2026-12-02 05:13:05Z`, 100);
    expect(lines).toEqual(['      changed: kms:UpdateAlias alias/identity-center from', `        ${OLD} at`, '        2026-12-02 05:13:05Z']);
  });

  it.each([[500, '1s'], [59_000, '59s'], [60_000, '1m'], [3_599_000, '1h 0m'], [86_400_000 + 3_600_000, '1d 1h']])('formats %d ms as %s', (ms, words) => {
    expect(formatDuration(ms)).toBe(words);
  });
});
