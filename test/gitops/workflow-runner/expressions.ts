/**
 * GitHub Actions expressions (`${{ … }}`), as far as the project's workflows use them: literals,
 * context property access, ! == != < > <= >= && ||, and the functions always/success/failure/
 * cancelled, contains/startsWith/endsWith, format, join, toJSON, fromJSON. Semantics follow
 * GitHub's documentation: && and || return an operand, == compares strings case-insensitively and
 * coerces mixed types to numbers, a missing property is null.
 */
export type Value = null | boolean | number | string | Value[] | { [key: string]: Value };

export interface ExpressionContext {
  readonly contexts: Readonly<Record<string, Value>>;
  /** The job's status so far, for the status functions. */
  readonly jobStatus: 'success' | 'failure' | 'cancelled';
}

type Token = { kind: 'op' | 'str' | 'num' | 'id'; text: string; value?: Value };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (/\s/.test(c)) { i += 1; continue; }
    const two = source.slice(i, i + 2);
    if (['==', '!=', '<=', '>=', '&&', '||'].includes(two)) { tokens.push({ kind: 'op', text: two }); i += 2; continue; }
    if ('()[].,!<>'.includes(c)) { tokens.push({ kind: 'op', text: c }); i += 1; continue; }
    if (c === "'") {
      let text = '';
      i += 1;
      for (;;) {
        if (i >= source.length) throw new SyntaxError(`unterminated string in ${source}`);
        if (source[i] === "'" && source[i + 1] === "'") { text += "'"; i += 2; continue; }
        if (source[i] === "'") { i += 1; break; }
        text += source[i];
        i += 1;
      }
      tokens.push({ kind: 'str', text, value: text });
      continue;
    }
    const num = /^-?\d+(\.\d+)?/.exec(source.slice(i));
    if (num) { tokens.push({ kind: 'num', text: num[0], value: Number(num[0]) }); i += num[0].length; continue; }
    const id = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(source.slice(i));
    if (id) { tokens.push({ kind: 'id', text: id[0] }); i += id[0].length; continue; }
    throw new SyntaxError(`unexpected ${JSON.stringify(c)} in expression ${source}`);
  }
  return tokens;
}

export function truthy(v: Value): boolean {
  return !(v === null || v === false || v === 0 || v === '' || (typeof v === 'number' && Number.isNaN(v)));
}

function toNumber(v: Value): number {
  if (v === null) return 0;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return v.trim() === '' ? 0 : Number(v);
  return NaN;
}

function looseEquals(a: Value, b: Value): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a.toLowerCase() === b.toLowerCase();
  if (typeof a === typeof b && (a === null || typeof a !== 'object')) return a === b;
  if ((a !== null && typeof a === 'object') || (b !== null && typeof b === 'object')) return a === b;
  return toNumber(a) === toNumber(b);
}

export function asString(v: Value): string {
  if (v === null) return '';
  if (typeof v === 'object') return JSON.stringify(v, null, 2);
  return String(v);
}

export function evaluate(source: string, ctx: ExpressionContext): Value {
  const tokens = tokenize(source);
  let pos = 0;
  const peek = () => tokens[pos];
  const take = (text?: string): Token => {
    const t = tokens[pos];
    if (!t || (text !== undefined && t.text !== text)) throw new SyntaxError(`expected ${text ?? 'more'} at token ${pos} of ${source}`);
    pos += 1;
    return t;
  };
  const functions: Record<string, (args: Value[]) => Value> = {
    always: () => true,
    success: () => ctx.jobStatus === 'success',
    failure: () => ctx.jobStatus === 'failure',
    cancelled: () => ctx.jobStatus === 'cancelled',
    contains: ([hay, needle]) => (Array.isArray(hay) ? hay.some((x) => looseEquals(x, needle ?? null)) : asString(hay ?? null).toLowerCase().includes(asString(needle ?? null).toLowerCase())),
    startswith: ([s, p]) => asString(s ?? null).toLowerCase().startsWith(asString(p ?? null).toLowerCase()),
    endswith: ([s, p]) => asString(s ?? null).toLowerCase().endsWith(asString(p ?? null).toLowerCase()),
    format: ([f, ...args]) => asString(f ?? null).replace(/\{(\d+)\}/g, (_m, n: string) => asString(args[Number(n)] ?? null)),
    join: ([arr, sep]) => (Array.isArray(arr) ? arr.map(asString).join(sep === undefined ? ',' : asString(sep)) : asString(arr ?? null)),
    tojson: ([v]) => JSON.stringify(v ?? null, null, 2),
    fromjson: ([v]) => JSON.parse(asString(v ?? null)) as Value,
  };

  const primary = (): Value => {
    const t = take();
    if (t.kind === 'str' || t.kind === 'num') return t.value!;
    if (t.kind === 'op' && t.text === '(') { const v = or(); take(')'); return v; }
    if (t.kind === 'id') {
      if (peek()?.text === '(') {
        take('(');
        const args: Value[] = [];
        while (peek()?.text !== ')') { args.push(or()); if (peek()?.text === ',') take(','); }
        take(')');
        const fn = functions[t.text.toLowerCase()];
        if (!fn) throw new SyntaxError(`unknown function ${t.text} in ${source}`);
        return fn(args);
      }
      if (t.text === 'true') return true;
      if (t.text === 'false') return false;
      if (t.text === 'null') return null;
      if (!(t.text in ctx.contexts)) throw new SyntaxError(`unknown context ${t.text} in ${source}`);
      return ctx.contexts[t.text]!;
    }
    throw new SyntaxError(`unexpected ${t.text} in ${source}`);
  };
  const member = (obj: Value, key: string): Value => (obj !== null && typeof obj === 'object' && !Array.isArray(obj) ? (obj[key] ?? null) : Array.isArray(obj) && /^\d+$/.test(key) ? (obj[Number(key)] ?? null) : null);
  const postfix = (): Value => {
    let v = primary();
    for (;;) {
      if (peek()?.text === '.') { take('.'); v = member(v, take().text); continue; }
      if (peek()?.text === '[') { take('['); const k = or(); take(']'); v = member(v, asString(k)); continue; }
      return v;
    }
  };
  const unary = (): Value => (peek()?.text === '!' ? (take('!'), !truthy(unary())) : postfix());
  const cmp = (): Value => {
    let v = unary();
    while (['<', '>', '<=', '>='].includes(peek()?.text ?? '')) {
      const op = take().text;
      const r = unary();
      const [a, b] = [toNumber(v), toNumber(r)];
      v = op === '<' ? a < b : op === '>' ? a > b : op === '<=' ? a <= b : a >= b;
    }
    return v;
  };
  const eq = (): Value => {
    let v = cmp();
    while (['==', '!='].includes(peek()?.text ?? '')) {
      const op = take().text;
      const r = cmp();
      v = op === '==' ? looseEquals(v, r) : !looseEquals(v, r);
    }
    return v;
  };
  const and = (): Value => {
    let v = eq();
    while (peek()?.text === '&&') { take('&&'); const r = eq(); v = truthy(v) ? r : v; }
    return v;
  };
  const or = (): Value => {
    let v = and();
    while (peek()?.text === '||') { take('||'); const r = and(); v = truthy(v) ? v : r; }
    return v;
  };
  const result = or();
  if (pos !== tokens.length) throw new SyntaxError(`unexpected ${tokens[pos]!.text} in ${source}`);
  return result;
}

/** A workflow value: `${{ x }}` alone yields x's value; text with expressions yields a string. */
export function interpolate(value: unknown, ctx: ExpressionContext): Value {
  if (typeof value !== 'string') return (value ?? null) as Value;
  const whole = /^\s*\$\{\{([\s\S]*?)\}\}\s*$/.exec(value);
  if (whole && !whole[1]!.includes('}}')) return evaluate(whole[1]!, ctx);
  return value.replace(/\$\{\{([\s\S]*?)\}\}/g, (_m, expr: string) => asString(evaluate(expr, ctx)));
}

/** A step's or job's `if:`: an expression with or without `${{ }}`, wrapped in success() unless it calls a status function. */
export function condition(source: unknown, ctx: ExpressionContext): boolean {
  if (source === undefined || source === null) return ctx.jobStatus === 'success';
  if (typeof source === 'boolean') return source && ctx.jobStatus === 'success';
  let expr = String(source).trim();
  const wrapped = /^\$\{\{([\s\S]*)\}\}$/.exec(expr);
  if (wrapped) expr = wrapped[1]!;
  const usesStatus = /\b(always|success|failure|cancelled)\s*\(/.test(expr);
  const value = truthy(evaluate(expr, ctx));
  return usesStatus ? value : ctx.jobStatus === 'success' && value;
}
