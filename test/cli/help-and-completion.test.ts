/**
 * Help and install: `--version`, help per command with examples, the global options, the
 * environment and the exit codes; the README reference generated from the same program; bash
 * completion of commands, options, key rings and run ids (run in a real bash).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { main } from '../../scripts/cli/main';
import { buildProgram } from '../../scripts/cli/program';
import { cliReference } from '../../scripts/cli/reference';
import { EXIT_CODES } from '../../scripts/cli/help';
import { ExitCode } from '../../pipeline/errors';
import type { CliIo } from '../../scripts/cli/context';
import { sharedWorld, type CliWorld } from './harness';

async function rotate(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`), interactive: false, readLine: async () => undefined };
  const code = await main(['node', 'rotate', ...args], { io, env: {}, cwd: process.cwd() });
  return { code, out, err };
}

const visibleCommands = (): string[][] => {
  const program = buildProgram(() => async () => undefined, { env: {}, version: '', write: { out: () => undefined, err: () => undefined } });
  return program.commands.filter((c) => !c.name().startsWith('__')).flatMap((c) => (c.commands.length > 0 ? c.commands.map((s) => [c.name(), s.name()]) : [[c.name()]]));
};

describe('help', () => {
  it('GIVEN --version THEN it prints the package version and exits 0', async () => {
    const version = (JSON.parse(readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as { version: string }).version;
    const result = await rotate('--version');
    expect(result.code).toBe(0);
    expect(result.out.trim()).toBe(version);
  });

  it.each(visibleCommands())('GIVEN `rotate %s --help` THEN it shows examples, the global options, the environment and the exit codes', async (...words) => {
    const result = await rotate(...words, '--help');
    expect(result.code).toBe(0);
    expect(result.out).toContain(`Usage: rotate ${words.join(' ')}`);
    expect(result.out).toMatch(/Examples:\n {2}\$ rotate /);
    expect(result.out).toMatch(/Global Options:[\s\S]*--json[\s\S]*--endpoint <url>[\s\S]*--wide/);
    expect(result.out).toMatch(/Environment:\n {2}KEYROTOR_CONFIG/);
    expect(result.out).toContain('AWS_ENDPOINT_URL[_<SERVICE>]');
    for (const [code] of EXIT_CODES) expect(result.out).toMatch(new RegExp(`^ {2}${code} +\\S`, 'm'));
  });

  it('GIVEN `rotate --help` THEN every command is listed, `audit` with `verify`, grouped by what they are for', async () => {
    const result = await rotate('--help');
    for (const group of ['Runs:', 'Approvals:', 'Config, stacks and audit:', 'Local and shell:']) expect(result.out).toContain(group);
    for (const words of visibleCommands()) expect(result.out).toContain(words[0]!);
    expect(result.out.replace(/\s+/g, ' ')).toContain('`rotate audit verify` checks it');
    expect(result.out).not.toContain('__complete');
  });

  it('GIVEN the exit code table THEN it documents every code of the one mapping, once', () => {
    expect(EXIT_CODES.map(([code]) => code).sort((a, b) => a - b)).toEqual(Object.values(ExitCode).sort((a, b) => a - b));
  });

  it('GIVEN the README reference generator THEN it lists every command, its options, the environment and the exit codes from the same program', () => {
    const reference = cliReference();
    for (const words of visibleCommands()) expect(reference).toContain(`| \`${words.join(' ')}`);
    expect(reference).toContain('`--detailed-exitcode`');
    expect(reference).toContain('| `11` | the run waits for people');
    expect(reference).toContain('| `KEYROTOR_OPERATOR` |');
  });

  it('GIVEN a misspelt command THEN it suggests the right one and exits 2', async () => {
    const result = await rotate('stauts');
    expect(result.code).toBe(2);
    expect(result.err).toContain("(Did you mean status?)");
  });
});

describe('shell completion (bash)', () => {
  const world = sharedWorld({}, async (w) => {
    await w.rotate('start', 'identity-center', '--kind', 'migrate-to-cmk');
  });
  let w: CliWorld;
  let script: string;
  let binDir: string;
  beforeAll(async () => {
    w = world();
    script = path.join(w.dir, 'rotate.bash');
    const generated = await rotate('completion', 'bash');
    expect(generated.code).toBe(0);
    writeFileSync(script, generated.out);
    // `rotate` on PATH, as an installed link would be.
    binDir = path.join(w.dir, 'bin');
    mkdirSync(binDir);
    writeFileSync(path.join(binDir, 'rotate'), `#!/bin/sh\nexec "${process.execPath}" "${path.resolve(__dirname, '../../bin/rotate.js')}" "$@"\n`);
    chmodSync(path.join(binDir, 'rotate'), 0o755);
  });

  function complete(...words: string[]): string[] {
    const array = words.map((word) => `'${word}'`).join(' ');
    const result = spawnSync('bash', ['-c', `source '${script}'; COMP_WORDS=(${array}); COMP_CWORD=${words.length - 1}; _rotate; printf '%s\\n' "\${COMPREPLY[@]}"`], {
      encoding: 'utf8',
      cwd: w.dir,
      env: { ...process.env, PATH: `${binDir}:${process.env.PATH ?? ''}`, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    expect(result.stderr).toBe('');
    return result.stdout.split('\n').filter((l) => l !== '');
  }

  it('completes command names and each command\'s options', () => {
    expect(complete('rotate', 'st')).toEqual(['start', 'status']);
    expect(complete('rotate', 'advance', 'x', '--w')).toEqual(['--wait']);
    expect(complete('rotate', 'audit', '')).toEqual(['verify']);
    expect(complete('rotate', 'completion', '')).toEqual(['bash', 'zsh']);
  });

  it('completes key rings and run ids (and latest) from the config and the state store', async () => {
    expect(complete('rotate', '--config', w.ws.configPath, 'plan', 'id')).toEqual(['identity-center']);
    const runId = await w.latestId();
    expect(complete('rotate', '--config', w.ws.configPath, 'status', '')).toEqual([runId, 'latest', 'latest:identity-center']);
    expect(complete('rotate', '-c', w.ws.configPath, 'advance', 'lat')).toEqual(['latest', 'latest:identity-center']);
  });

  it('GIVEN zsh THEN the script loads bashcompinit and the same function', async () => {
    const zsh = await rotate('completion', 'zsh');
    expect(zsh.out).toMatch(/^#compdef rotate\n/);
    expect(zsh.out).toContain('autoload -U +X bashcompinit && bashcompinit');
    expect(zsh.out).toContain('complete -F _rotate rotate');
    const fish = await rotate('completion', 'fish');
    expect(fish.code).toBe(2);
    expect(fish.err).toContain('no completion for shell "fish" (bash or zsh)');
  });
});
