/**
 * Reads keyrings.json into a `Config`: JSON syntax (with line and column), then the schema (shape,
 * formats, ranges, defaults), then the cross-field rules. Every failure is one ConfigError listing
 * every problem found at that step, each naming the path, the value and the rule.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../errors';
import type { Config } from './types';
import { rawConfigSchema, resolveConfig } from './schema';
import { describeRule, formatIssues } from './issues';
import { findJsonSyntaxProblem } from './json-position';
import { crossFieldIssues } from './rules';

/** Reads and validates the config file (synchronously: it is small and every command needs it first). */
export function loadConfig(file: string): Config {
  const absolute = path.resolve(file);
  let text: string;
  try {
    text = fs.readFileSync(absolute, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'file not found' : `cannot be read (${code ?? String(error)})`;
    throw new ConfigError(absolute, [reason], 'pass the config with --config PATH (or $KEYROTOR_CONFIG), or create keyrings.json from the committed example');
  }
  return parseConfig(text, absolute);
}

/** Validates config text; `file` names it in messages and anchors its relative paths. */
export function parseConfig(text: string, file: string): Config {
  const absolute = path.resolve(file);
  const json = parseJson(text.replace(/^\uFEFF/, ''), absolute);
  const parsed = rawConfigSchema.safeParse(json, { reportInput: true, error: describeRule });
  if (!parsed.success) throw new ConfigError(absolute, formatIssues(parsed.error.issues));
  const config = resolveConfig(parsed.data, absolute);
  const issues = crossFieldIssues(config);
  if (issues.length > 0) throw new ConfigError(absolute, issues);
  return config;
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const problem = findJsonSyntaxProblem(text);
    const where = problem ? `line ${problem.line}, column ${problem.column}: ${problem.message}` : (error as Error).message;
    throw new ConfigError(file, [`malformed JSON at ${where}`]);
  }
}
