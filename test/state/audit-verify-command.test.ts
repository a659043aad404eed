/**
 * `rotate audit verify` through the real CLI entry point: exit 0 with the entry count on an intact
 * chain, exit 1 naming the first broken entry, `--json` for machines, and the store taken from the
 * config unless `--state-dir` names one.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../scripts/cli/main';
import type { CliIo } from '../../scripts/cli/context';
import { AUDIT_LOG_FILE, FileStateStore } from '../../pipeline/state/file-store';

function capture(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => stdout.push(t), err: (t) => stderr.push(t), interactive: false, readLine: async () => undefined };
}

describe('rotate audit verify', () => {
  let dir: string;
  let stateDir: string;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'keyrotor-audit-cli-'));
    stateDir = path.join(dir, 'state');
    const store = new FileStateStore(stateDir);
    await store.appendAudit({ actor: 'alice', action: 'run.start' });
    await store.appendAudit({ actor: 'alice', action: 'kms:CreateKey' });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const rotate = async (...args: string[]): Promise<{ code: number; io: ReturnType<typeof capture> }> => {
    const io = capture();
    const code = await main(['node', 'rotate', ...args], { io, env: {}, cwd: dir });
    return { code, io };
  };

  it('GIVEN an intact chain WHEN verified with --state-dir THEN exit 0 and the entry count', async () => {
    const { code, io } = await rotate('--state-dir', 'state', 'audit', 'verify');
    expect(code).toBe(0);
    expect(io.stdout).toEqual([`audit chain intact: 2 entries (file store at ${stateDir})`]);
  });

  it('GIVEN an edited entry WHEN verified THEN exit 1 naming the entry and the reason, and a next step on stderr', async () => {
    const log = path.join(stateDir, AUDIT_LOG_FILE);
    writeFileSync(log, readFileSync(log, 'utf8').replace('"alice"', '"mallory"'));
    const { code, io } = await rotate('--state-dir', stateDir, 'audit', 'verify');
    expect(code).toBe(1);
    expect(io.stdout[0]).toMatch(/^audit chain BROKEN at entry 1 of 2: entry 1 was edited/);
    expect(io.stderr.join('\n')).toMatch(/^next: /);
  });

  it('GIVEN --json WHEN verified THEN stdout is exactly the AuditVerification object plus the approval anchors', async () => {
    writeFileSync(path.join(stateDir, AUDIT_LOG_FILE), readFileSync(path.join(stateDir, AUDIT_LOG_FILE), 'utf8').split('\n')[0] + '\n');
    const { code, io } = await rotate('--json', '--state-dir', stateDir, 'audit', 'verify');
    expect(code).toBe(1);
    expect(JSON.parse(io.stdout.join(''))).toEqual({
      version: 1,
      command: 'audit verify',
      ok: false,
      entries: 1,
      problem: { seq: 2, reason: 'the log ends at entry 1 but the head records entry 2: the tail was removed' },
      approvals: { checked: 0, problems: [] },
      store: expect.stringContaining(stateDir),
    });
  });

  it('GIVEN no --state-dir WHEN verified THEN the store comes from the config file (state.dir relative to it)', async () => {
    // The committed example's key rings, with this test's state directory.
    const example = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'keyrings.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(path.join(dir, 'keyrings.json'), JSON.stringify({ ...example, state: { type: 'file', dir: 'state' } }));
    const { code, io } = await rotate('audit', 'verify');
    expect(io.stderr).toEqual([]);
    expect(code).toBe(0);
    expect(io.stdout[0]).toBe(`audit chain intact: 2 entries (file store at ${stateDir})`);
  });

  it('GIVEN a missing config file and no --state-dir WHEN verified THEN an operator error names the file', async () => {
    const { code, io } = await rotate('--config', 'nope.json', 'audit', 'verify');
    expect(code).toBe(2);
    expect(io.stderr.join('\n')).toContain(path.join(dir, 'nope.json'));
  });
});
