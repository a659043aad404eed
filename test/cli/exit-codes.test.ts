/**
 * Exit codes that separate done, waiting for time, waiting for people and failed — derived from
 * the engine's `stopped` reason — and `advance --wait`, which waits through soaks and for people
 * with backoff on an injected clock (no real sleep).
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ExitCode, exitCodeForStop } from '../../pipeline/errors';
import type { StopReason } from '../../pipeline/engine/engine';
import { approveToFile } from '../../pipeline/approvals/approve';
import { openStateStore } from '../../pipeline/state/open';
import { PEOPLE_POLL_FIRST_MS, PEOPLE_POLL_MAX_MS, parseDuration } from '../../scripts/cli/wait';
import { CliWorld, worldPerTest } from './harness';

describe('the one mapping from a stop reason to an exit code', () => {
  it.each<[StopReason, number]>([
    ['completed', 0],
    ['waiting-time', 10],
    ['waiting-people', 11],
    ['ready-to-delete', 11],
    ['not-with-switch', 11],
    ['stage-limit', 12],
    ['rolled-back', 13],
    ['cancelled', 13],
  ])('%s → %d', (reason, code) => {
    expect(exitCodeForStop(reason)).toBe(code);
  });

  it('keeps the failure codes apart from the waiting ones', () => {
    const waiting = [ExitCode.waitingTime, ExitCode.waitingPeople, ExitCode.stageLimit, ExitCode.runEnded];
    for (const code of [ExitCode.notSatisfied, ExitCode.operatorError, ExitCode.awsError, ExitCode.internalError, ExitCode.interrupted]) expect(waiting).not.toContain(code);
  });
});

describe('--timeout', () => {
  it.each([['90s', 90_000], ['30m', 1_800_000], ['2h', 7_200_000], ['1d', 86_400_000], ['1h30m', 5_400_000]])('%s is %d ms', (raw, ms) => {
    expect(parseDuration('--timeout', raw)).toBe(ms);
  });
  it.each(['', '10', 'soon', '1x', '-5m'])('refuses %j, naming the option', (raw) => {
    expect(() => parseDuration('--timeout', raw)).toThrow(/--timeout must be a duration such as 90s, 30m, 2h, 1d or 1h30m/);
  });
});

describe('exit codes of `rotate advance`', () => {
  const world = worldPerTest({ minimumSoakHours: 24 }, async (w) => {
    await w.rotate('start', 'identity-center', '--kind', 'migrate-to-cmk');
    await w.rotate('advance', 'latest', '--yes');
    await w.rotate('start', 'identity-center', '--signing-key', w.ws.operatorKeyPath);
  });
  let w: CliWorld;
  beforeEach(() => {
    w = world();
  });

  /** Signs with every approver, at the CLI's (fake) clock. */
  async function approveAll(): Promise<void> {
    const config = (await import('../../pipeline/config/load')).loadConfig(w.ws.configPath);
    const store = await openStateStore(config.state, {});
    try {
      for (const approver of w.ws.approvers) {
        await approveToFile({ store, runId: await w.latestId(), signingKeyPath: approver.privateKeyPath, approvalsDir: w.ws.approvalsDir, now: w.clock.now() });
      }
    } finally {
      await store.close();
    }
  }

  it('GIVEN no new flag THEN a waiting run exits 0, as the workflows expect; --detailed-exitcode says 12, 10, 11, 0', async () => {
    expect((await w.rotate('advance', 'latest', '--yes', '--stage-limit', '1')).code).toBe(0);
    expect((await w.rotate('advance', 'latest', '--yes', '--stage-limit', '1', '--detailed-exitcode')).code).toBe(ExitCode.stageLimit);
    expect((await w.rotate('advance', 'latest', '--yes')).code).toBe(0);
    expect((await w.rotate('advance', 'latest', '--detailed-exitcode')).code).toBe(ExitCode.waitingTime);
    w.clock.offsetMs = 25 * 3600_000;
    expect((await w.rotate('advance', 'latest', '--detailed-exitcode')).code).toBe(ExitCode.waitingPeople);
    await approveAll();
    expect((await w.rotate('advance', 'latest', '--detailed-exitcode')).code).toBe(ExitCode.waitingPeople); // ready for `rotate delete`
    expect((await w.rotate('delete', 'latest', '--yes')).code).toBe(0);
    expect((await w.rotate('advance', 'latest', '--detailed-exitcode')).code).toBe(ExitCode.ok);
  });

  it('GIVEN a rolled-back run THEN --detailed-exitcode says it ended (13); a failed stage is its error code (2), never a waiting one', async () => {
    w.emulator.failNext('CreateKey', 1, { code: 'AccessDeniedException', message: 'User is not authorized to perform kms:CreateKey' });
    expect((await w.rotate('advance', 'latest', '--yes', '--detailed-exitcode')).code).toBe(ExitCode.operatorError);
    expect((await w.rotate('rollback', 'latest', '--yes')).code).toBe(0);
    expect((await w.rotate('advance', 'latest', '--detailed-exitcode')).code).toBe(ExitCode.runEnded);
  });

  it('GIVEN the deletion already scheduled WHEN `rotate delete --yes` runs again (a retried CI job) THEN it exits 0, says when it was scheduled and until when the key is pending deletion, and changes nothing', async () => {
    await w.rotate('advance', 'latest', '--yes');
    w.clock.offsetMs = 25 * 3600_000;
    await w.rotate('advance', 'latest');
    await approveAll();
    await w.rotate('advance', 'latest');
    expect((await w.rotate('delete', 'latest', '--yes')).code).toBe(0);
    const scheduled = JSON.parse((await w.rotate('--json', 'status', 'latest')).out) as { run: { id: string; version: number; stages: Array<{ name: string; endedAt: string; outputs: { deletionDate: string } }> } };
    const stage = scheduled.run.stages.find((s) => s.name === 'schedule-deletion')!;
    const callsBefore = w.mutatingCalls();

    const again = await w.rotate('delete', 'latest', '--yes');
    expect(again.code).toBe(ExitCode.ok);
    const at = (iso: string) => iso.replace(/^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?Z$/, '$1 $2Z');
    expect(again.err).toMatch(
      new RegExp(`^run ${scheduled.run.id} already scheduled the deletion of arn:aws:kms:\\S+ on ${at(stage.endedAt)}; the key is pending deletion until ${at(stage.outputs.deletionDate)}, the end of its 30-day window; nothing was changed$`, 'm'),
    );
    expect(again.out).toContain('status: completed');
    expect(w.mutatingCalls()).toEqual(callsBefore);
    const after = JSON.parse((await w.rotate('--json', 'status', 'latest')).out) as { run: { version: number } };
    expect(after.run.version).toBe(scheduled.run.version);
    expect((await w.rotate('--json', 'delete', 'latest', '--yes')).code).toBe(ExitCode.ok);
  });

  it('GIVEN a run that ended without scheduling a deletion (cancelled, or rolled back) THEN `rotate delete` is still an error (2)', async () => {
    expect((await w.rotate('cancel', 'latest')).code).toBe(0);
    const cancelled = await w.rotate('delete', 'latest', '--yes');
    expect(cancelled.code).toBe(ExitCode.operatorError);
    expect(cancelled.err).not.toContain('already scheduled');
    await w.rotate('start', 'identity-center', '--signing-key', w.ws.operatorKeyPath);
    await w.rotate('advance', 'latest', '--yes', '--stage-limit', '2');
    expect((await w.rotate('rollback', 'latest', '--yes')).code).toBe(0);
    const rolledBack = await w.rotate('delete', 'latest', '--yes');
    expect(rolledBack.code).toBe(ExitCode.operatorError);
    expect(rolledBack.err).not.toContain('already scheduled');
  });

  it('GIVEN --wait THEN it sleeps until the soak ends (no real sleep), then backs off 30 s doubling to 10 min for approvals, picks them up, and stops at `rotate delete` with 11 when the timeout passes', async () => {
    let approved = false;
    w.clock.onSleep = async () => {
      // Approvers sign while the CLI waits for people (after the third backoff step).
      const peopleSleeps = w.clock.sleeps.filter((ms) => ms <= PEOPLE_POLL_MAX_MS && ms >= PEOPLE_POLL_FIRST_MS);
      if (!approved && peopleSleeps.length === 3) {
        approved = true;
        await approveAll();
      }
    };
    const waited = await w.rotate('advance', 'latest', '--yes', '--wait', '--timeout', '2d');
    expect(waited.code).toBe(ExitCode.waitingPeople);
    expect(waited.out).toMatch(/⏸ schedule-deletion\s+waiting for people/);
    // The soak: slept to its end in slices of at most an hour.
    const soakSleeps = w.clock.sleeps.filter((ms) => ms > PEOPLE_POLL_MAX_MS || ms === 3600_000);
    expect(soakSleeps.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(24 * 3600_000 - 60_000);
    // Then backoff for people: 30 s, 1 m, 2 m (approvals arrive), then for `rotate delete`, from 30 s again up to 10 min.
    const afterSoak = w.clock.sleeps.slice(w.clock.sleeps.findIndex((ms) => ms === PEOPLE_POLL_FIRST_MS));
    expect(afterSoak.slice(0, 3)).toEqual([30_000, 60_000, 120_000]);
    expect(Math.max(...afterSoak)).toBeLessThanOrEqual(PEOPLE_POLL_MAX_MS);
    expect(afterSoak).toContain(PEOPLE_POLL_MAX_MS);
    expect(waited.err).toMatch(/wait: soak ends at \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ; next check at/);
    expect(waited.err).toMatch(/wait: waiting for approvals; next check at .* \(in 30s\)/);
    expect(waited.err).toMatch(/wait: waiting for someone to run `rotate delete \S+`/);
    expect(waited.err).toMatch(/wait: gave up after 2d 0h \(--timeout\)/);
    // Total waited: the timeout, not more.
    const total = w.clock.sleeps.reduce((a, b) => a + b, 0);
    expect(total).toBeLessThanOrEqual(2 * 86_400_000);
    expect(total).toBeGreaterThan(2 * 86_400_000 - 60_000); // less only by the real time the test itself took
  });

  it('GIVEN --wait on a run that completes THEN it exits 0 without sleeping', async () => {
    const migrate = await CliWorld.create(w.ws);
    try {
      await migrate.rotate('start', 'identity-center', '--kind', 'migrate-to-cmk');
      const waited = await migrate.rotate('advance', 'latest', '--yes', '--wait');
      expect(waited.code).toBe(ExitCode.ok);
      expect(migrate.clock.sleeps).toEqual([]);
    } finally {
      await migrate.close();
    }
  });

  it('refuses --wait with --stage-limit and --timeout without --wait, naming the options', async () => {
    const both = await w.rotate('advance', 'latest', '--wait', '--stage-limit', '1');
    expect(both.code).toBe(2);
    expect(both.err).toContain('--wait and --stage-limit do not go together');
    const alone = await w.rotate('advance', 'latest', '--timeout', '1h');
    expect(alone.code).toBe(2);
    expect(alone.err).toContain('--timeout is the longest --wait waits; it needs --wait');
  });
});

describe('rotate demo --keep', () => {
  const world = worldPerTest();
  type KeepCase = [what: string, make: (w: CliWorld) => string, why: string];
  const keeps: KeepCase[] = [
    ['a file', (w) => { const file = path.join(w.dir, 'a-file'); writeFileSync(file, ''); return file; }, 'it, or a directory above it, is a file'],
    ['under a file', (w) => { const file = path.join(w.dir, 'b-file'); writeFileSync(file, ''); return path.join(file, 'inside'); }, 'it, or a directory above it, is a file'],
  ];
  // Node's recursive mkdir never returns here; the demo must fail at once instead.
  if (process.platform === 'linux') keeps.push(['a path under /proc', () => '/proc/keyrotor-demo', 'ENOENT']);
  it.each(keeps)('GIVEN --keep naming %s THEN it exits 2 naming --keep before starting anything', async (_what, make, why) => {
    const w = world();
    const keep = make(w);
    const result = await w.rotate('demo', '--keep', keep);
    expect(result.code).toBe(2);
    expect(result.err).toContain(`error: --keep ${keep} cannot hold the demo's workspace: ${why}`);
    expect(result.err).not.toContain('emulator');
  });
});
