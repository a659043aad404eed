/**
 * git's / ssh-keygen's `allowed_signers` format, read closely enough to say who is listed with
 * which key, under which options, and to explain a refusal exactly. Verification itself is always
 * ssh-keygen's job; this parser never decides that a signature is valid.
 *
 * Line format (ssh-keygen(1), "ALLOWED SIGNERS"): `principals [options] keytype base64-key [comment]`,
 * `#` comments and blank lines ignored; principals and `namespaces=` are pattern-lists
 * (ssh_config(5) PATTERNS: `*`, `?`, `!negation`, case-sensitive); options are comma-separated,
 * keywords case-insensitive: `cert-authority`, `namespaces="…"`, `valid-after="…"`, `valid-before="…"`.
 * The man page shows only a quoted example, but ssh-keygen (sshsig.c, via opt_dequote) demands the
 * double quotes around every option value: `valid-before=20270101` makes it reject the whole line
 * ("bad options: missing start quote"), so that approver's key never verifies.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ApprovalError } from '../errors';

export interface AllowedSigner {
  /** Principal patterns exactly as written, e.g. `alice@example.com`, `*@example.com`. */
  readonly principals: readonly string[];
  /** Raw options field, if any. */
  readonly options?: string;
  /** The key is a CA: certificates it signed may sign for the principals (`cert-authority`). */
  readonly certAuthority: boolean;
  /** `namespaces="…"` pattern-list, when the entry restricts them. */
  readonly namespaces?: string;
  /** `valid-after` / `valid-before` as written (YYYYMMDD[HHMM[SS]][Z]). */
  readonly validAfter?: string;
  readonly validBefore?: string;
  /** Option keywords ssh-keygen would not accept. */
  readonly unknownOptions: readonly string[];
  /**
   * `namespaces=`, `valid-after=` or `valid-before=` options written without the double quotes
   * ssh-keygen requires, as written: ssh-keygen rejects the whole line, so its key never verifies.
   */
  readonly unquotedOptions: readonly string[];
  readonly keyType: string;
  readonly publicKey: string;
  /** `SHA256:…` of the key blob: the same value `ssh-keygen -l` prints (for a CA line, the CA's). */
  readonly fingerprint: string;
  readonly comment?: string;
  /** Marked as an example (comment contains `keyrotor:example`) or one of the keys keyrotor once shipped as examples. */
  readonly example: boolean;
  /** 1-based line number, for messages. */
  readonly line: number;
}

const KEY_TYPE = /^(ssh-|ecdsa-|sk-ssh-|sk-ecdsa-|rsa-sha2-)/;

/** The comment marker of an example key: lint refuses a file that lists one. */
export const EXAMPLE_KEY_MARKER = 'keyrotor:example';

/**
 * Keys keyrotor shipped as examples before the marker existed (private halves discarded). Recognised
 * wherever they appear, so a copied example never passes for an approver.
 */
const SHIPPED_EXAMPLE_FINGERPRINTS: ReadonlySet<string> = new Set([
  'SHA256:dEOv8d7MbpJ4LVm2+RqTIImnUmHv0AQgCeG3ncmgSKI',
  'SHA256:y/0kwlR7QeK1UBWrQLkUUHVIZoj9aK422bWsbofzMaU',
  'SHA256:fC7AApleb/ZQ9AxtvT2asQ0JQA3Cc9Qh6dSE4C15Z5U',
]);

/** sha256 of the key blob, base64 without padding: ssh-keygen's default fingerprint. */
export function keyFingerprint(base64Key: string): string {
  return `SHA256:${createHash('sha256').update(Buffer.from(base64Key, 'base64')).digest('base64').replace(/=+$/, '')}`;
}

/** Splits on whitespace, keeping double-quoted runs (`namespaces="a b"`) inside one token. */
function tokenize(line: string): string[] {
  return line.match(/(?:[^\s"]+|"[^"]*")+/g) ?? [];
}

function unquote(token: string): string {
  return token.startsWith('"') && token.endsWith('"') && token.length >= 2 ? token.slice(1, -1) : token;
}

/** Splits an options field on commas outside double quotes. */
function splitOptions(field: string): string[] {
  return field.match(/(?:[^,"]+|"[^"]*")+/g) ?? [];
}

interface ParsedOptions {
  certAuthority: boolean;
  namespaces?: string;
  validAfter?: string;
  validBefore?: string;
  unknownOptions: string[];
  unquotedOptions: string[];
}

/** The options that take a value; ssh-keygen reads each value with opt_dequote, which demands double quotes. */
const VALUE_OPTIONS = new Set(['namespaces', 'valid-after', 'valid-before']);

function parseOptions(field: string | undefined): ParsedOptions {
  const parsed: ParsedOptions = { certAuthority: false, unknownOptions: [], unquotedOptions: [] };
  for (const option of field === undefined ? [] : splitOptions(field)) {
    const eq = option.indexOf('=');
    const keyword = (eq < 0 ? option : option.slice(0, eq)).toLowerCase();
    const raw = eq < 0 ? undefined : option.slice(eq + 1);
    const value = raw === undefined ? undefined : unquote(raw);
    // The value is still read as meant, so messages can show it; the entry is flagged as one ssh-keygen refuses.
    if (raw !== undefined && VALUE_OPTIONS.has(keyword) && !raw.startsWith('"')) parsed.unquotedOptions.push(option);
    if (keyword === 'cert-authority' && value === undefined) parsed.certAuthority = true;
    else if (keyword === 'namespaces' && value !== undefined) parsed.namespaces = value;
    else if (keyword === 'valid-after' && value !== undefined) parsed.validAfter = value;
    else if (keyword === 'valid-before' && value !== undefined) parsed.validBefore = value;
    else parsed.unknownOptions.push(option);
  }
  return parsed;
}

/** How an unquoted option must be written for ssh-keygen: `valid-before=20270101` → `valid-before="20270101"`. */
export function quotedOption(option: string): string {
  const eq = option.indexOf('=');
  return `${option.slice(0, eq)}="${option.slice(eq + 1)}"`;
}

/**
 * Why ssh-keygen rejects `entry`'s whole line for its unquoted options, naming them and the quoted
 * form to write; undefined when every option value is quoted.
 */
export function unquotedOptionsProblem(entry: AllowedSigner): string | undefined {
  if (entry.unquotedOptions.length === 0) return undefined;
  const options = entry.unquotedOptions;
  return `${options.join(', ')} ${options.length === 1 ? 'lacks' : 'lack'} the double quotes ssh-keygen requires around option values, so ssh-keygen rejects the whole line ("bad options: missing start quote") and never accepts key ${entry.fingerprint} through it: quote the value (${options.map(quotedOption).join(', ')})`;
}

/** Parses the text of an allowed_signers file; `source` names it in error messages. */
export function parseAllowedSigners(text: string, source: string): AllowedSigner[] {
  const signers: AllowedSigner[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const tokens = tokenize(line);
    const keyAt = tokens.findIndex((t, i) => i > 0 && KEY_TYPE.test(t));
    if (keyAt < 1 || keyAt > 2 || tokens[keyAt + 1] === undefined) {
      throw new ApprovalError(
        `${source}:${index + 1}: not an allowed_signers entry (expected "principals [options] keytype base64-key [comment]")`,
        { fault: 'operator', nextStep: `fix line ${index + 1} of ${source} through a pull request (see approvers/README.md)` },
      );
    }
    const comment = tokens.slice(keyAt + 2).join(' ');
    const optionsField = keyAt === 2 ? tokens[1] : undefined;
    const publicKey = tokens[keyAt + 1]!;
    const fingerprint = keyFingerprint(publicKey);
    signers.push({
      principals: unquote(tokens[0]!).split(',').filter((p) => p !== ''),
      ...(optionsField === undefined ? {} : { options: optionsField }),
      ...parseOptions(optionsField),
      keyType: tokens[keyAt]!,
      publicKey,
      fingerprint,
      ...(comment === '' ? {} : { comment }),
      example: comment.includes(EXAMPLE_KEY_MARKER) || SHIPPED_EXAMPLE_FINGERPRINTS.has(fingerprint),
      line: index + 1,
    });
  });
  return signers;
}

/** Reads an allowed_signers file's text, with an error that names the file and the config field. */
export async function readAllowedSignersText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ApprovalError(`cannot read the allowed signers file ${file}: ${code === 'ENOENT' ? 'it does not exist' : (error as Error).message}`, {
      fault: 'operator',
      nextStep: 'check `approvals.allowedSignersFile` of the key ring in the config (default approvers/allowed_signers; see approvers/README.md)',
      cause: error,
    });
  }
}

export async function readAllowedSigners(file: string): Promise<AllowedSigner[]> {
  return parseAllowedSigners(await readAllowedSignersText(file), file);
}

// ---- ssh_config(5) PATTERNS, as ssh-keygen applies them to principals and namespaces ----

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 's');
}

/** match_pattern_list: true when a positive pattern matches and no negated one does (case-sensitive, like ssh-keygen). */
export function matchesPatternList(name: string, patternList: string | readonly string[]): boolean {
  const patterns = typeof patternList === 'string' ? patternList.split(',') : patternList;
  let matched = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = negated ? raw.slice(1) : raw;
    if (pattern === '' || !globToRegExp(pattern).test(name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

export function isPattern(principal: string): boolean {
  return /[*?!]/.test(principal);
}

/** The entries whose principal patterns accept `principal` (as ssh-keygen's `-I` would). */
export function entriesFor(signers: readonly AllowedSigner[], principal: string): AllowedSigner[] {
  return signers.filter((s) => matchesPatternList(principal, s.principals));
}

/**
 * The principal as the file spells it, matched case-insensitively (e-mail addresses are not
 * case-sensitive for people, but ssh-keygen's `-I` match is). Undefined when no literal principal
 * matches; wildcard patterns are left to ssh-keygen, which receives the approver's own spelling.
 */
export function principalAsListed(signers: readonly AllowedSigner[], approver: string): string | undefined {
  const wanted = approver.toLowerCase();
  for (const signer of signers) {
    const hit = signer.principals.find((p) => !isPattern(p) && p.toLowerCase() === wanted);
    if (hit !== undefined) return hit;
  }
  return undefined;
}

/** True when some entry's principal patterns contain a wildcard that ssh-keygen may match. */
export function hasPatternPrincipals(signers: readonly AllowedSigner[]): boolean {
  return signers.some((s) => s.principals.some((p) => /[*?]/.test(p)));
}

/** ssh-keygen's `valid-after` / `valid-before` time (YYYYMMDD[HHMM[SS]], `Z` = UTC, else local time). */
export function parseSignerTime(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?(Z)?$/i.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00', z] = m;
  const parts = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)] as const;
  return z ? new Date(Date.UTC(...parts)) : new Date(...parts);
}

/** Why `entry` does not accept a keyrotor signature at `now` (namespace or validity), or undefined when it does. */
export function entryRestriction(entry: AllowedSigner, namespace: string, now: Date): string | undefined {
  const where = `allowed_signers line ${entry.line}`;
  const unquoted = unquotedOptionsProblem(entry);
  if (unquoted !== undefined) return `${where}: ${unquoted}`;
  if (entry.namespaces !== undefined && !matchesPatternList(namespace, entry.namespaces)) {
    return `${where} restricts key ${entry.fingerprint} to namespaces="${entry.namespaces}", which does not include ${namespace}`;
  }
  if (entry.validAfter !== undefined) {
    const after = parseSignerTime(entry.validAfter);
    if (after === undefined) return `${where} has a valid-after ssh-keygen cannot read (${entry.validAfter})`;
    if (now < after) return `${where} accepts key ${entry.fingerprint} only from ${after.toISOString()} (valid-after)`;
  }
  if (entry.validBefore !== undefined) {
    const before = parseSignerTime(entry.validBefore);
    if (before === undefined) return `${where} has a valid-before ssh-keygen cannot read (${entry.validBefore})`;
    if (now > before) return `${where} accepted key ${entry.fingerprint} only until ${before.toISOString()} (valid-before)`;
  }
  return undefined;
}
