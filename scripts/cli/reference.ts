/**
 * The README's CLI reference, generated from the program (program.ts) and the shared help
 * sections (help.ts), so the README says what `--help` says: `npm run cli-reference` prints it.
 */
import type { Command, Option } from 'commander';
import { buildProgram } from './program';
import { ENVIRONMENT, EXIT_CODES } from './help';

const cell = (text: string): string => text.replace(/\|/g, '\\|');

function flags(options: readonly Option[]): string {
  return options.map((o) => `\`${o.flags}\``).join(', ');
}

function usage(cmd: Command, parent?: string): string {
  const args = cmd.registeredArguments.map((a) => (a.required ? `${a.name().toUpperCase()}` : `[${a.name().toUpperCase()}]`)).join(' ');
  return [parent, cmd.name(), args].filter(Boolean).join(' ');
}

export function cliReference(): string {
  const program = buildProgram(() => async () => undefined, { env: {}, version: '', write: { out: () => undefined, err: () => undefined } });
  const lines: string[] = ['## CLI reference (`rotate`)', ''];
  lines.push(`Global options (every command): ${program.options.map((o) => `\`${o.flags}\` ${o.description}`).join('; ')}.`, '');
  lines.push('RUN is a run id, a unique prefix of one, `latest` or `latest:KEYRING`. `rotate COMMAND --help` shows each command with examples.', '');
  lines.push('| command | what it does | options |', '|---|---|---|');
  for (const cmd of program.commands) {
    if (cmd.name().startsWith('__')) continue;
    const subcommands = cmd.commands.length > 0 ? cmd.commands : [undefined];
    for (const sub of subcommands) {
      const target = sub ?? cmd;
      const own = target.options.filter((o) => o.long !== '--help');
      lines.push(`| \`${usage(target, sub ? cmd.name() : undefined)}\` | ${cell(target.description())} | ${cell(flags(own))} |`);
    }
  }
  lines.push('', '**Environment**', '', '| variable | meaning |', '|---|---|');
  for (const [name, meaning] of ENVIRONMENT) lines.push(`| \`${name}\` | ${cell(meaning)} |`);
  lines.push('', '**Exit codes**', '', '| code | meaning |', '|---|---|');
  for (const [code, meaning] of EXIT_CODES) lines.push(`| \`${code}\` | ${cell(meaning)} |`);
  lines.push('', 'With `--json`, stdout carries one JSON document per command, versioned (`"version": 1`) and described by `schemas/cli/v1/<command>.schema.json` (errors: `error.schema.json`); progress and the AWS banner go to stderr.');
  return `${lines.join('\n')}\n`;
}

if (require.main === module) process.stdout.write(cliReference());
