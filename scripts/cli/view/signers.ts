/** The principals an allowed_signers text lists (first field of each entry), sorted, without parsing the keys. */
export function signerPrincipals(allowedSigners: string): string[] {
  const principals = allowedSigners
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .flatMap((line) => line.split(/\s+/)[0]!.split(','));
  return [...new Set(principals)].sort();
}
