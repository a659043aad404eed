/**
 * Turns zod issues into the one line an operator reads: `<path>: <value> <rule>`, e.g.
 * `keyrings[1].rotation.deletionWindowDays: 3 is below the minimum of 7`.
 *
 * Rule texts come from two places: the schema's own messages (formats, refinements), which zod
 * ranks first, and `describeRule` below, passed as the per-parse error map for the generic checks.
 */
import type { z } from 'zod';

type PathSegment = PropertyKey;

/** `keyrings[1].rotation.deletionWindowDays`; the root is `(config)`. */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(String(segment))) out += out === '' ? String(segment) : `.${String(segment)}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out === '' ? '(config)' : out;
}

/** A value as it appears in a message: JSON, cut short when long. */
export function showValue(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

const EXPECTED_NAMES: Record<string, string> = {
  int: 'a whole number',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
};

/** The rule text for zod's generic checks (ranges, types, literals); the per-parse error map. */
export function describeRule(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'too_small': {
      const min = Number(issue.minimum);
      if (issue.origin === 'array') return `has ${countOf(issue.input)} entries; at least ${min} required`;
      if (issue.origin === 'string') return `is too short (at least ${min} characters)`;
      return issue.inclusive === false ? `must be greater than ${min}` : `is below the minimum of ${min}`;
    }
    case 'too_big': {
      const max = Number(issue.maximum);
      if (issue.origin === 'array') return `has ${countOf(issue.input)} entries; at most ${max} allowed`;
      if (issue.origin === 'string') return `is longer than the maximum of ${max} characters`;
      return issue.inclusive === false ? `must be less than ${max}` : `is above the maximum of ${max}`;
    }
    case 'invalid_type':
      if (issue.input === undefined) return `is required (${EXPECTED_NAMES[issue.expected] ?? issue.expected})`;
      return `is ${typeName(issue.input)}, expected ${EXPECTED_NAMES[issue.expected] ?? issue.expected}`;
    case 'invalid_value':
      return `is not one of ${issue.values.map((v) => showValue(v)).join(', ')}`;
    case 'invalid_union':
      if ('discriminator' in issue && issue.discriminator !== undefined) {
        const options = (issue as { options?: unknown[] }).options ?? [];
        return `has no valid "${String(issue.discriminator)}"; expected one of ${options.map((o) => showValue(o)).join(', ')}`;
      }
      return 'matches none of the allowed shapes';
    default:
      return undefined;
  }
}

function countOf(value: unknown): number {
  return Array.isArray(value) ? value.length : 0;
}

/** One message per problem; unknown fields give one message each, naming the field. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly PathSegment[] = []): string[] {
  const out: string[] = [];
  for (const issue of issues) {
    const at = [...prefix, ...issue.path];
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) {
          out.push(`${formatPath([...at, key])}: unknown field; remove it or fix its spelling`);
        }
        break;
      case 'invalid_key':
        // A record key broke its rule: the key itself is the value shown.
        for (const inner of issue.issues) out.push(`${formatPath(at)}: key ${showValue(issue.input)} ${inner.message}`);
        break;
      case 'invalid_union':
        if ('discriminator' in issue && isObject(issue.input) && issue.discriminator !== undefined) {
          const discriminator = String(issue.discriminator);
          out.push(`${formatPath([...at])}: ${showValue(issue.input[discriminator])} ${issue.message}`);
          break;
        }
        out.push(withValue(at, issue.input, issue.message));
        break;
      case 'invalid_type':
        out.push(issue.input === undefined ? `${formatPath(at)}: ${issue.message}` : withValue(at, issue.input, issue.message));
        break;
      default:
        out.push(withValue(at, issue.input, issue.message));
    }
  }
  return out;
}

function withValue(at: readonly PathSegment[], input: unknown, message: string): string {
  // Objects and arrays are not repeated in full: the path already says which one.
  if (isObject(input) || Array.isArray(input)) return `${formatPath(at)}: ${message}`;
  return `${formatPath(at)}: ${showValue(input)} ${message}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
