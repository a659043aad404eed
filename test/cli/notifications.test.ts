/**
 * Notification hooks (config `notifications.hooks`) fire when a run starts waiting for approvals,
 * becomes ready for deletion, fails or completes — once per change, not at every re-check — with
 * the same summary `rotate status RUN` prints on stdin. A failing hook never changes the outcome.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseConfig } from '../../pipeline/config/load';
import { ConfigError } from '../../pipeline/errors';
import { worldPerTest, type CliWorld } from './harness';

interface Fired {
  readonly event: string;
  readonly runId: string;
  readonly subject: string;
  readonly next: string;
  readonly message: string;
}

/** A hook that appends what it received (environment and stdin) to a JSON-lines file. */
const RECORDER = [
  "const fs = require('fs');",
  "let input = ''; process.stdin.on('data', (d) => (input += d));",
  "process.stdin.on('end', () => fs.appendFileSync('fired.jsonl', JSON.stringify({ event: process.env.KEYROTOR_EVENT, runId: process.env.KEYROTOR_RUN_ID, subject: process.env.KEYROTOR_SUBJECT, next: process.env.KEYROTOR_NEXT, message: input }) + '\\n'));",
].join(' ');

function withHooks(w: CliWorld, hooks: unknown[]): void {
  const config = JSON.parse(readFileSync(w.ws.configPath, 'utf8')) as Record<string, unknown>;
  writeFileSync(w.ws.configPath, JSON.stringify({ ...config, notifications: { hooks } }, null, 2));
}

function fired(w: CliWorld): Fired[] {
  try {
    return readFileSync(path.join(w.dir, 'fired.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Fired);
  } catch {
    return [];
  }
}

describe('notification hooks', () => {
  const world = worldPerTest();
  let w: CliWorld;
  beforeEach(() => {
    w = world();
    withHooks(w, [{ name: 'recorder', command: ['node', '-e', RECORDER] }]);
  });

  it('GIVEN a rotation THEN hooks fire on completed (migration), waiting-for-approvals, ready-for-deletion and completed — once each — with the status summary', async () => {
    await w.rotate('start', 'identity-center', '--kind', 'migrate-to-cmk');
    await w.rotate('advance', 'latest', '--yes');
    expect(fired(w).map((f) => f.event)).toEqual(['completed']);

    await w.rotate('start', 'identity-center', '--signing-key', w.ws.operatorKeyPath);
    const rotation = await w.latestId();
    await w.rotate('advance', rotation, '--yes');
    await w.rotate('advance', rotation); // a re-check of the gate: no second notice
    for (const approver of w.ws.approvers) await w.rotate('approve', rotation, '--signing-key', approver.privateKeyPath, '--yes');
    await w.rotate('advance', rotation);
    await w.rotate('advance', rotation); // still ready: no second notice
    await w.rotate('delete', rotation, '--yes');
    const events = fired(w).slice(1);
    expect(events.map((f) => [f.event, f.runId])).toEqual([['waiting-for-approvals', rotation], ['ready-for-deletion', rotation], ['completed', rotation]]);
    expect(events[0]!.subject).toBe(`keyrotor: run ${rotation} (rotate of identity-center) waits for approvals`);
    // The message is what `rotate status RUN` printed at that moment; the last one equals it now.
    expect(events[2]!.message).toBe((await w.rotate('status', rotation)).out);
    expect(events[0]!.next).toContain(`rotate approve ${rotation}`);
  });

  it('GIVEN a stage failure THEN `failed` fires with the run as it stood; a hook that fails itself is reported and changes no exit code', async () => {
    withHooks(w, [
      { name: 'recorder', command: ['node', '-e', RECORDER], events: ['failed'] },
      { name: 'broken', command: ['node', '-e', 'process.exit(3)'] },
    ]);
    await w.rotate('start', 'identity-center', '--kind', 'migrate-to-cmk');
    w.emulator.failNext('CreateKey', 1, { code: 'AccessDeniedException', message: 'User is not authorized to perform kms:CreateKey' });
    const failed = await w.rotate('advance', 'latest', '--yes');
    expect(failed.code).toBe(2);
    expect(fired(w).map((f) => f.event)).toEqual(['failed']);
    expect(fired(w)[0]!.message).toMatch(/✖ create-key\s+failed/);
    expect(failed.err).toContain('notification hook "broken" (failed) failed: Command failed with exit code 3');
    const done = await w.rotate('advance', 'latest', '--yes');
    expect(done.code).toBe(0);
    expect(done.err).toContain('notification hook "broken" (completed) failed');
    expect(fired(w).map((f) => f.event)).toEqual(['failed']); // the recorder listens to failures only
  });

  it('GIVEN a bad notifications section THEN the config error names the field and the rule', () => {
    const base = JSON.parse(readFileSync(w.ws.configPath, 'utf8')) as Record<string, unknown>;
    const parse = (notifications: unknown) => () => parseConfig(JSON.stringify({ ...base, notifications }), w.ws.configPath);
    expect(parse({ hooks: [{ name: 'x', command: [] }] })).toThrow(ConfigError);
    expect(parse({ hooks: [{ name: 'x', command: [] }] })).toThrow(/notifications\.hooks\[0\]\.command/);
    expect(parse({ hooks: [{ name: 'x', command: ['a'], events: ['sometimes'] }] })).toThrow(/notifications\.hooks\[0\]\.events\[0\]/);
    expect(parse({ hookz: [] })).toThrow(/notifications/);
  });
});
