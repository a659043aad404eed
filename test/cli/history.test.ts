/**
 * Run history: `rotate runs` (open by default, --all, --keyring, --status), `rotate logs RUN`, and
 * runs named by a unique prefix or `latest[:KEYRING]` in every command that takes RUN, with one
 * "run not found" wording that always names ids to try.
 */
import { closestNames, editDistance } from '../../pipeline/runs/closest';
import { sharedWorld, type CliWorld } from './harness';

describe('closest names', () => {
  it('measures edits and ranks typed prefixes against candidates cut to the same length', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    const ids = ['identity-center-20261101T000000Z-aaaaaa', 'identity-center-20261124T101010Z-bbbbbb', 'payments-20261124T101010Z-cccccc'];
    expect(closestNames('identity-center-20261124T1010', ids)[0]).toBe('identity-center-20261124T101010Z-bbbbbb');
    expect(closestNames('idnetity-center-20261101', ids)[0]).toBe('identity-center-20261101T000000Z-aaaaaa');
    expect(closestNames('zzz', ids)).toEqual([]);
  });
});

describe('rotate runs, rotate logs and RUN references', () => {
  const world = sharedWorld();
  let w: CliWorld;
  let migration: string;
  let cancelled: string;
  let open: string;
  beforeAll(async () => {
    w = world();
    await w.rotate('start', 'identity-center', '--kind', 'migrate-to-cmk');
    migration = await w.latestId();
    await w.rotate('advance', migration, '--yes');
    await w.rotate('start', 'identity-center', '--signing-key', w.ws.operatorKeyPath);
    cancelled = await w.latestId();
    await w.rotate('cancel', cancelled);
    await w.rotate('start', 'identity-center', '--signing-key', w.ws.operatorKeyPath);
    open = await w.latestId();
  });

  it('GIVEN three runs THEN `runs` lists the open one, --all every one oldest first, and the filters narrow them', async () => {
    const openOnly = await w.rotate('runs');
    expect(openOnly.out).toContain('1 open run, oldest first:');
    expect(openOnly.out).toMatch(new RegExp(`${open}\\s+rotate\\s+open\\s+· create-key`));
    expect(openOnly.out).not.toContain(migration);
    const all = await w.rotate('runs', '--all');
    expect(all.out.indexOf(migration)).toBeLessThan(all.out.indexOf(cancelled));
    expect(all.out.indexOf(cancelled)).toBeLessThan(all.out.indexOf(open));
    for (const line of all.out.split('\n')) expect(line.length).toBeLessThanOrEqual(100);
    const byStatus = JSON.parse((await w.rotate('--json', 'runs', '--status', 'cancelled')).out) as { runs: Array<{ id: string }> };
    expect(byStatus.runs.map((r) => r.id)).toEqual([cancelled]);
    const byKeyring = await w.rotate('runs', '--all', '--keyring', 'identity-center');
    expect(byKeyring.out).toContain('3 runs of identity-center');
  });

  it('GIVEN a misspelt status or key ring THEN the error names the closest one', async () => {
    const status = await w.rotate('runs', '--status', 'canceled');
    expect(status.code).toBe(2);
    expect(status.err).toContain('next: did you mean --status cancelled?');
    const keyring = await w.rotate('--wide', 'runs', '--keyring', 'identity-centre');
    expect(keyring.code).toBe(2);
    expect(keyring.err).toContain('closest: identity-center');
    expect(keyring.err).toContain('did you mean identity-center?');
  });

  it('GIVEN `logs RUN` THEN the run\'s audit entries read as lines: intent before outcome, each with its stage', async () => {
    const logs = await w.rotate('--wide', 'logs', migration);
    expect(logs.code).toBe(0);
    expect(logs.out).toMatch(new RegExp(`audit log of run ${migration} \\(\\d+ entries`));
    expect(logs.out).toMatch(/#\d+\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+run\.start\s+kind=migrate-to-cmk/);
    expect(logs.out).toMatch(/aws\.intent\s+create-key: kms:CreateKey alias\/identity-center generation 1[\s\S]*aws\.ok\s+create-key: kms:CreateKey/);
    expect(logs.out).toMatch(/run\.completed/);
    expect(logs.out).not.toContain(open);
    const entries = (JSON.parse((await w.rotate('--json', 'logs', migration)).out) as { entries: Array<{ runId: string }> }).entries;
    expect(entries.length).toBeGreaterThan(5);
    expect(new Set(entries.map((e) => e.runId))).toEqual(new Set([migration]));
  });

  it('GIVEN a unique prefix, `latest` or `latest:KEYRING` THEN every command that takes RUN resolves it the same way', async () => {
    const prefix = open.slice(0, open.length - 3);
    for (const ref of [prefix, 'latest', 'latest:identity-center']) {
      const status = JSON.parse((await w.rotate('--json', 'status', ref)).out) as { run: { id: string } };
      expect(status.run.id).toBe(open);
    }
    expect((await w.rotate('logs', 'latest')).out).toContain(`audit log of run ${open}`);
    expect((await w.rotate('approvals', prefix)).out).toContain(`approvals of run ${open}`);
    expect((await w.rotate('advance', prefix, '--dry-run')).out).toContain(`run ${open}`);
    expect((await w.rotate('rollback', 'latest', '--dry-run')).out).toContain(`rollback of ${open}`);
  });

  it('GIVEN an ambiguous prefix THEN it lists the matches and asks for more', async () => {
    const result = await w.rotate('status', 'identity-center-');
    expect(result.code).toBe(2);
    expect(result.err).toContain('run prefix "identity-center-" matches 3 runs');
    expect(result.err).toContain('next: type more of the id');
  });

  it('GIVEN a run that does not exist THEN every command says "run not found" the same way, with the closest ids', async () => {
    const typo = `${open.slice(0, 20)}X${open.slice(21)}`;
    for (const args of [['status', typo], ['advance', typo], ['rollback', typo], ['logs', typo], ['approve', typo, '--signing-key', w.ws.approvers[0]!.privateKeyPath], ['approvals', typo], ['gate', typo], ['delete', typo], ['cancel', typo], ['replan', typo]]) {
      const result = await w.rotate('--wide', ...args);
      expect([args[0], result.code]).toEqual([args[0], 2]);
      expect(result.err).toContain(`error: run not found: no run matches "${typo}" in the file store at ${w.ws.stateDir} (closest: ${open}`);
      expect(result.err).toContain(`next: did you mean \`rotate status ${open}\`? \`rotate runs --all\` lists every run`);
    }
    const far = await w.rotate('--wide', 'status', 'nope');
    expect(far.err).toMatch(/\(closest: \S+, \S+, \S+\)/);
    const none = await w.rotate('status', 'latest:nosuch');
    expect(none.err).toContain('run not found: key ring "nosuch" has no run');
    // It may not be a key ring at all: the next step does not send anyone to start it blindly.
    expect(none.err).toContain("next: check the key ring's name (`rotate status` lists the config's key rings); if nosuch is one, start a run with `rotate start nosuch`");
  });
});
