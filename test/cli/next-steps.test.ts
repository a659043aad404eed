/**
 * The `next:` line is right in every state a run goes through: it names the command that comes
 * next, and that command is accepted in that state — each test runs the suggested command (as an
 * operator at a terminal would, answering `yes` where it asks) and checks that it moves the run on.
 */
import { sharedWorld, type CliResult, type CliWorld } from './harness';

/** The `next:` line of an output (printed with --wide, so it is one line). */
function nextOf(result: CliResult): string {
  const line = `${result.out}\n${result.err}`.split('\n').reverse().find((l) => l.startsWith('next: '));
  if (!line) throw new Error(`no next: line in\n${result.out}\n${result.err}`);
  return line.slice('next: '.length);
}

/** The `rotate …` commands a next line names, as argv (placeholders filled in by `fill`). */
function commandsIn(next: string, fill: (word: string) => string = (w) => w): string[][] {
  return [...next.matchAll(/`(rotate [^`]+)`/g)].map((m) => m[1]!.replace(/<[^>]+>/g, (p) => fill(p)).split(' ').slice(1));
}

describe('next: lines, state by state, each one run', () => {
  const world = sharedWorld({ minimumSoakHours: 24 });
  let w: CliWorld;
  let runId: string;
  const run = (...args: string[]) => w.rotateWith({ answers: ['yes', 'yes'] }, '--wide', ...args);
  const operatorKey = (): string => w.ws.operatorKeyPath;
  beforeAll(() => {
    w = world();
  });

  it('GIVEN a started migration THEN next is `rotate advance RUN`, which completes it', async () => {
    const started = await run('start', 'identity-center', '--kind', 'migrate-to-cmk');
    runId = await w.latestId();
    expect(nextOf(started)).toBe(`\`rotate advance ${runId}\``);
    const [advance] = commandsIn(nextOf(started));
    const done = await run(...advance!);
    expect(done.code).toBe(0);
    expect(done.out).toContain('status: completed');
  });

  it('GIVEN the migration completed THEN next says to merge the state and plan a rotation — never "nothing" — and both commands work', async () => {
    const status = await run('status', runId);
    const next = nextOf(status);
    expect(next).toMatch(/^merge state\/ through a pull request so the stacks follow the ledger \(`rotate synth` shows them\) and manage the key; rotate it later \(`rotate plan identity-center` shows how\)$/);
    const [synth, plan] = commandsIn(next);
    expect((await run(...synth!, '-o', w.synthOut())).code).toBe(0);
    expect((await run(...plan!)).code).toBe(0);
  });

  it('GIVEN synth THEN its next line says how the stacks are reviewed and applied', async () => {
    const synth = await run('synth', '-o', w.synthOut());
    expect(synth.code).toBe(0);
    expect(nextOf(synth)).toMatch(/^review the plan of each stack with `terraform -chdir=\S*test-cli-\w+\/stacks\/keys-111111111111-us-east-1 init` and `terraform … plan`; on merge the deploy workflow plans and applies$/);
  });

  it('GIVEN a rotation soaking THEN next names the soak end and `--wait`, which waits through it (fake clock) to the approval gate', async () => {
    await run('start', 'identity-center', '--signing-key', operatorKey());
    runId = await w.latestId();
    const soaking = await run('advance', runId);
    expect(soaking.code).toBe(0);
    const next = nextOf(soaking);
    expect(next).toMatch(new RegExp(`^\`rotate advance ${runId}\` after \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ \\(\`rotate advance ${runId} --wait\` waits for it\\)$`));
    const wait = commandsIn(next)[1]!;
    const waited = await w.rotateWith({}, '--wide', ...wait, '--timeout', '30h');
    expect(waited.code).toBe(11); // waits for people now
    expect(waited.out).toMatch(/✔ soak\s+done/);
    expect(w.clock.sleeps.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(24 * 3600_000 - 60_000);
  });

  it('GIVEN the approval gate THEN next asks approvers, not the initiator; approve, then gate, then advance work in turn', async () => {
    const status = await run('status', runId);
    const next = nextOf(status);
    expect(next).toBe(`approvers (not the initiator) run \`rotate approve ${runId} --signing-key <key>\` and hand in the file; \`rotate gate ${runId}\` shows the count; then \`rotate advance ${runId}\``);
    const [first, second] = w.ws.approvers;
    const [approve, gate] = commandsIn(next, () => first!.privateKeyPath);
    const approved = await run(...approve!);
    expect(approved.code).toBe(0);
    // After one approval of two: hand it in, one more needed, and the gate shows the count.
    const afterOne = nextOf(approved);
    expect(afterOne).toMatch(/^hand in \S+ \(a pull request, or the gate's approvals directory\); 1 more approver\(s\) needed; `rotate gate \S+` shows the count$/);
    expect((await run(...commandsIn(afterOne)[0]!)).code).toBe(1); // accepted; the answer is "not yet"
    expect((await run(...gate!)).code).toBe(1);
    const approvedTwice = await run('approve', runId, '--signing-key', second!.privateKeyPath);
    const afterTwo = nextOf(approvedTwice);
    expect(afterTwo).toBe(`the quorum holds: \`rotate advance ${runId}\` runs the gate stage (in CI: merge the file, then the deletion job)`);
    const advanced = await run(...commandsIn(afterTwo)[0]!);
    expect(advanced.code).toBe(0);
    expect(advanced.out).toMatch(/⏸ schedule-deletion\s+waiting for people/);
  });

  it('GIVEN a run ready to delete THEN next is `rotate delete RUN`, which (confirmed) completes it', async () => {
    const next = nextOf(await run('status', runId));
    expect(next).toBe(`schedule the old key's deletion with \`rotate delete ${runId}\` (or undo the run with \`rotate rollback ${runId}\`)`);
    const deleted = await run(...commandsIn(next)[0]!);
    expect(deleted.code).toBe(0);
    expect(deleted.out).toContain('status: completed');
  });

  it('GIVEN the rotation completed THEN next names the recovery until the deletion date, and cancel-deletion works', async () => {
    const next = nextOf(await run('status', runId));
    expect(next).toMatch(/; until \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ the old key can be recovered with `rotate cancel-deletion identity-center --key arn:aws:kms:us-east-1:111111111111:key\/\S+`$/);
    const cancelled = await run(...commandsIn(next)[1]!);
    expect(cancelled.code).toBe(0);
    expect(cancelled.out).toContain('status: completed');
  });

  it('GIVEN cancel-deletion completed (key left Disabled) THEN next offers --enable and retiring it; both are accepted', async () => {
    const next = nextOf(await run('status', 'latest'));
    expect(next).toMatch(/the key stays Disabled: enable it with `rotate cancel-deletion identity-center --key (\S+) --enable`, or retire it with `rotate start identity-center --kind retire-key --key \1 --signing-key <your key>`$/);
    const [synth, enable, retire] = commandsIn(next);
    expect(synth).toEqual(['synth']);
    expect(retire).toContain('retire-key');
    const enabled = await run(...enable!);
    expect(enabled.code).toBe(0);
    const afterEnable = nextOf(enabled);
    expect(afterEnable).toMatch(/the key is enabled and retiring \(retire it again with `rotate start identity-center --kind retire-key --key \S+ --signing-key <your key>`\)$/);
    const retired = await run(...commandsIn(afterEnable, operatorKey)[1]!);
    expect(retired.code).toBe(0);
    expect(retired.out).toMatch(/✔ preflight\s+done/);
    // Not needed further: end it (it changed nothing).
    expect((await run('cancel', 'latest')).code).toBe(0);
  });

  it('GIVEN a cancelled run THEN next starts a new one, with what its kind needs, and that is accepted', async () => {
    const next = nextOf(await run('status', 'latest'));
    expect(next).toMatch(/start a new one with `rotate start identity-center --kind retire-key --key \S+ --signing-key <your key>` when ready$/);
    expect((await run(...commandsIn(next, operatorKey)[0]!)).code).toBe(0);
    expect((await run('cancel', 'latest')).code).toBe(0);
  });

  it('GIVEN a failed stage THEN next is the failure\'s own next step, said once; the retry it implies works', async () => {
    await run('start', 'identity-center', '--signing-key', operatorKey());
    runId = await w.latestId();
    w.emulator.failNext('CreateKey', 1, { code: 'AccessDeniedException', message: 'User is not authorized to perform kms:CreateKey' });
    const failed = await run('advance', runId);
    expect(failed.code).toBe(2);
    // The error and its next step appear once: in the error report, not also in the run table.
    expect(failed.out + failed.err).toMatch(/^next: grant kms:CreateKey/m);
    expect((`${failed.out}\n${failed.err}`.match(/not authorized to perform kms:CreateKey/g) ?? []).length).toBe(1);
    expect((`${failed.out}\n${failed.err}`.match(/^next:/gm) ?? []).length).toBe(1);
    expect(nextOf(await run('status', runId))).toMatch(/^grant kms:CreateKey/);
    const retried = await run('advance', runId, '--stage-limit', '4');
    expect(retried.code).toBe(0);
  });

  it('GIVEN a rollback stopped part-way THEN next is to finish it, and that works', async () => {
    w.emulator.failNext('UpdateAlias', 1, { code: 'AccessDeniedException', message: 'User is not authorized to perform kms:UpdateAlias' });
    const stopped = await run('rollback', runId);
    expect(stopped.code).toBe(2);
    const next = nextOf(await run('status', runId));
    expect(next).toBe(`finish the rollback with \`rotate rollback ${runId}\` (undone stages are skipped)`);
    const finished = await run(...commandsIn(next)[0]!);
    expect(finished.code).toBe(0);
    expect(finished.out).toContain('status: rolled-back');
  });

  it('GIVEN a rolled-back rotation THEN next offers a new start and retiring the abandoned key; the retire is accepted', async () => {
    const next = nextOf(await run('status', runId));
    expect(next).toMatch(/the key it created \((\S+)\) is disabled and abandoned: `rotate start identity-center --signing-key <your key>` starts again, and `rotate start identity-center --kind retire-key --key \1 --signing-key <your key>` deletes it through the approval gate$/);
    const retire = await run(...commandsIn(next, operatorKey)[1]!);
    expect(retire.code).toBe(0);
    expect((await run('cancel', 'latest')).code).toBe(0);
  });

  it('GIVEN `rotate gate` on a rolled-back run THEN its next never asks for approvals that would be refused', async () => {
    const gate = await run('gate', runId);
    expect(gate.code).toBe(1);
    const next = nextOf(gate);
    expect(next).toMatch(new RegExp(`^run ${runId} is rolled-back: nothing to approve; `));
    expect(next).not.toContain('rotate approve');
  });
});
