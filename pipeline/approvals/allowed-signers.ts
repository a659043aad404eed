/**
 * Just enough of git's / ssh-keygen's `allowed_signers` format to list who may approve and to map
 * an approver's spelling to the principal as written in the file. Verification itself is always
 * ssh-keygen's job; this parser never decides whether a signature is valid.
 *
 * Line format (ssh-keygen(1), "ALLOWED SIGNERS"): `principals [options] keytype base64-key [comment]`,
 * `#` comments and blank lines ignored, principals a comma-separated list of patterns.
 */
import { readFile } from 'node:fs/promises';
import { ApprovalError } from '../errors';

export interface AllowedSigner {
  /** Principals (patterns) exactly as written, e.g. `alice@example.com`. */
  readonly principals: readonly string[];
  /** Raw options field (`namespaces="…"`, `valid-before=…`, `cert-authority`), if any. */
  readonly options?: string;
  readonly keyType: string;
  readonly publicKey: string;
  readonly comment?: string;
  /** 1-based line number, for messages. */
  readonly line: number;
}

const KEY_TYPE = /^(ssh-|ecdsa-|sk-ssh-|sk-ecdsa-)/;

/** Splits on whitespace, keeping double-quoted runs (`namespaces="a b"`) inside one token. */
function tokenize(line: string): string[] {
  return line.match(/(?:[^\s"]+|"[^"]*")+/g) ?? [];
}

function unquote(token: string): string {
  return token.startsWith('"') && token.endsWith('"') && token.length >= 2 ? token.slice(1, -1) : token;
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
    signers.push({
      principals: unquote(tokens[0]!).split(',').filter((p) => p !== ''),
      options: keyAt === 2 ? tokens[1] : undefined,
      keyType: tokens[keyAt]!,
      publicKey: tokens[keyAt + 1]!,
      comment: comment === '' ? undefined : comment,
      line: index + 1,
    });
  });
  return signers;
}

export async function readAllowedSigners(file: string): Promise<AllowedSigner[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ApprovalError(`cannot read the allowed signers file ${file}: ${(error as Error).message}`, {
      fault: 'operator',
      nextStep: 'check `approvals.allowedSignersFile` of the key ring in the config (default approvers/allowed_signers)',
      cause: error,
    });
  }
  return parseAllowedSigners(text, file);
}

/**
 * The principal as the file spells it, matched case-insensitively (e-mail addresses are not
 * case-sensitive for people, but ssh-keygen's `-I` match is). Undefined when no literal principal
 * matches; wildcard patterns are left to ssh-keygen, which receives the approver's own spelling.
 */
export function principalAsListed(signers: readonly AllowedSigner[], approver: string): string | undefined {
  const wanted = approver.toLowerCase();
  for (const signer of signers) {
    const hit = signer.principals.find((p) => p.toLowerCase() === wanted);
    if (hit !== undefined) return hit;
  }
  return undefined;
}

/** True when some entry's principal patterns contain a wildcard that ssh-keygen may match. */
export function hasPatternPrincipals(signers: readonly AllowedSigner[]): boolean {
  return signers.some((s) => s.principals.some((p) => /[*?]/.test(p)));
}
