/**
 * The live view in a real terminal: `rotate advance` runs under a pseudo-terminal (`script` from
 * util-linux/bsdutils; .ci/run installs it), 100 columns wide, answering its confirmation on the
 * terminal. The last frame it draws must tell the truth — done ✔, waiting ⏸, not reached · — and a
 * failure is reported once, with one `next:` line.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { worldPerTest, type CliWorld } from './harness';

const bin = path.resolve(__dirname, '../../bin/rotate.js');
const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
const ptyIt = hasScript ? it : it.skip;
if (!hasScript) {
  // eslint-disable-next-line no-console
  console.warn('live-view.pty.test.ts: skipped — `script` (util-linux, Debian package bsdutils) is not installed; `bash .ci/run` installs it');
}

/** Runs `rotate ARGS` in a 100×40 pseudo-terminal, typing `input`; resolves to what the terminal showed. */
function inTerminal(w: CliWorld, args: readonly string[], input: string): Promise<{ code: number | null; screen: string }> {
  const quoted = [process.execPath, bin, '--config', w.ws.configPath, '--endpoint', w.emulator.endpoint, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const child = spawn('script', ['-qfec', `stty cols 100 rows 40; exec ${quoted}`, '/dev/null'], {
    env: { ...process.env, ...w.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    cwd: w.dir,
  });
  let screen = '';
  child.stdout.on('data', (chunk: Buffer) => (screen += chunk.toString('utf8')));
  child.stdin.end(input);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, screen })));
}

const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

/** The last frame the live view drew: what follows its last "clear to end of screen", up to the cursor being shown again. */
function lastFrame(screen: string): string[] {
  const after = screen.slice(screen.lastIndexOf('\u001b[J') + 3);
  return after.slice(0, after.indexOf('\u001b[?25h')).replace(/\r/g, '').split('\n').filter((l) => l !== '');
}

describe('the live view in a pseudo-terminal', () => {
  const world = worldPerTest({ minimumSoakHours: 24 }, async (w) => {
    await w.rotate('start', 'identity-center', '--kind', 'migrate-to-cmk');
    await w.rotate('advance', 'latest', '--yes');
    await w.rotate('start', 'identity-center', '--signing-key', w.ws.operatorKeyPath);
  });

  ptyIt('GIVEN a rotation that reaches its soak THEN the confirmation is asked on the terminal and the last frame shows done, waiting and not reached, each with its own mark', async () => {
    const w = world();
    const { code, screen } = await inTerminal(w, ['advance', 'latest'], 'yes\n');
    expect(code).toBe(0);
    expect(screen).toContain('Type yes to continue:');
    const frame = lastFrame(screen);
    expect(frame).toEqual([
      expect.stringMatching(/^ {2}✔ create-key {14}done {2}created generation 2: key\//),
      expect.stringMatching(/^ {2}✔ verify-key {14}done/),
      expect.stringMatching(/^ {2}✔ promote-alias {11}done/),
      expect.stringMatching(/^ {2}✔ switch-identity-center {2}done {2}Identity Center switched to key\//),
      expect.stringMatching(/^ {2}✔ integration-checks {6}done/),
      expect.stringMatching(/^ {2}⏸ soak {20}waiting for time {2}soaking: 24h 0m left \(until \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\)/),
      '  · approval-gate           not reached',
      '  · schedule-deletion       not reached',
    ]);
    // Every line the terminal showed fits its 100 columns.
    for (const line of screen.replace(ANSI, '').split(/\r?\n|\r/)) expect(line.length).toBeLessThanOrEqual(100);
  }, 30_000);

  ptyIt('GIVEN the soak is checked again THEN the view says so, never "attempt N" or skipped', async () => {
    const w = world();
    await w.rotate('advance', 'latest', '--yes');
    const { code, screen } = await inTerminal(w, ['advance', 'latest'], '');
    expect(code).toBe(0);
    expect(screen).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] soak +running {2}checking again/);
    expect(screen).not.toMatch(/attempt \d|skipped/);
    expect(lastFrame(screen)).toEqual([expect.stringMatching(/^ {2}⏸ soak +waiting for time/), expect.stringMatching(/^ {2}· approval-gate +not reached$/), expect.stringMatching(/^ {2}· schedule-deletion +not reached$/)]);
  }, 30_000);

  ptyIt('GIVEN AWS refuses a stage THEN the error is printed once, with one next: line, and the view marks the stage failed', async () => {
    const w = world();
    w.emulator.failNext('CreateKey', 1, { code: 'AccessDeniedException', message: 'User is not authorized to perform kms:CreateKey' });
    const { code, screen } = await inTerminal(w, ['advance', 'latest', '--yes'], '');
    expect(code).toBe(2);
    const text = screen.replace(ANSI, '');
    expect(text.match(/not authorized to perform kms:CreateKey/g)).toHaveLength(1);
    expect(text.match(/^next: /gm)).toHaveLength(1);
    expect(lastFrame(screen)[0]).toMatch(/^ {2}✖ create-key {14}failed {2}see the error below$/);
  }, 30_000);
});
