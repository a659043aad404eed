/**
 * Finds where a JSON text first goes wrong, as line and column. Node's JSON.parse reports a
 * position only for some errors ("Unexpected token '}', ... is not valid JSON" has none), and the
 * parsers that do (jsonc-parser, parse-json) are not runtime dependencies of this package, so this
 * small strict scanner (RFC 8259, no comments, no trailing commas) walks the text instead. It runs
 * only after JSON.parse has failed.
 */

export interface JsonSyntaxProblem {
  /** 1-based. */
  readonly line: number;
  /** 1-based, in characters. */
  readonly column: number;
  readonly offset: number;
  readonly message: string;
}

class ScanError extends Error {
  constructor(readonly offset: number, message: string) {
    super(message);
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);

export function findJsonSyntaxProblem(text: string): JsonSyntaxProblem | undefined {
  try {
    let at = skipWhitespace(text, 0);
    if (at >= text.length) throw new ScanError(at, 'the file holds no JSON value (it is empty)');
    at = skipWhitespace(text, scanValue(text, at));
    if (at < text.length) throw new ScanError(at, `unexpected ${describeChar(text, at)} after the end of the JSON value`);
    return undefined;
  } catch (error) {
    if (!(error instanceof ScanError)) throw error;
    return { ...lineAndColumn(text, error.offset), offset: error.offset, message: error.message };
  }
}

export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

function describeChar(text: string, at: number): string {
  return at >= text.length ? 'end of file' : `character ${JSON.stringify(text[at])}`;
}

function skipWhitespace(text: string, at: number): number {
  while (at < text.length && ' \t\n\r'.includes(text[at]!)) at++;
  return at;
}

function scanValue(text: string, at: number): number {
  const ch = text[at];
  if (ch === '{') return scanObject(text, at);
  if (ch === '[') return scanArray(text, at);
  if (ch === '"') return scanString(text, at);
  for (const literal of ['true', 'false', 'null']) {
    if (text.startsWith(literal, at)) return at + literal.length;
  }
  NUMBER.lastIndex = at;
  const number = NUMBER.exec(text);
  if (number && number[0] !== '-') return at + number[0].length;
  throw new ScanError(at, `unexpected ${describeChar(text, at)}; expected a value (string, number, object, array, true, false or null)`);
}

function scanObject(text: string, at: number): number {
  return scanSequence(text, at, '}', 'a property value', (memberAt) => {
    if (text[memberAt] !== '"') throw new ScanError(memberAt, `unexpected ${describeChar(text, memberAt)}; expected a double-quoted property name`);
    const colon = skipWhitespace(text, scanString(text, memberAt));
    if (text[colon] !== ':') throw new ScanError(colon, `unexpected ${describeChar(text, colon)}; expected ":" after the property name`);
    return scanValue(text, skipWhitespace(text, colon + 1));
  });
}

function scanArray(text: string, at: number): number {
  return scanSequence(text, at, ']', 'an array element', (elementAt) => scanValue(text, elementAt));
}

/** The comma-separated body of an object or array; `at` is on the opening bracket. */
function scanSequence(text: string, at: number, close: '}' | ']', itemName: string, scanItem: (at: number) => number): number {
  at = skipWhitespace(text, at + 1);
  if (text[at] === close) return at + 1;
  for (;;) {
    at = skipWhitespace(text, scanItem(at));
    if (text[at] === close) return at + 1;
    if (text[at] !== ',') throw new ScanError(at, `unexpected ${describeChar(text, at)}; expected "," or "${close}" after ${itemName}`);
    const next = skipWhitespace(text, at + 1);
    if (text[next] === close) throw new ScanError(at, `trailing comma before "${close}" (JSON allows none)`);
    at = next;
  }
}

function scanString(text: string, start: number): number {
  let at = start + 1;
  while (at < text.length) {
    const ch = text[at]!;
    if (ch === '"') return at + 1;
    if (ch < ' ') throw new ScanError(at, 'control character inside a string (escape it, e.g. \\n)');
    if (ch === '\\') {
      const escaped = text[at + 1];
      if (escaped === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(at + 2, at + 6))) throw new ScanError(at, 'bad \\u escape: expected 4 hex digits');
        at += 6;
        continue;
      }
      if (escaped === undefined || !ESCAPES.has(escaped)) throw new ScanError(at, `bad escape \\${escaped ?? ''} in a string`);
      at += 2;
      continue;
    }
    at++;
  }
  throw new ScanError(start, 'string is never closed (missing ")');
}
