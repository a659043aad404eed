/**
 * Who is the run's initiator, in approver terms. Runs record `initiator` as the caller's ARN (STS
 * GetCallerIdentity) or an operator identity string; approvals name an allowed_signers principal
 * (e-mail-like). The rule, chosen to err on the side of excluding:
 *
 *  1. identities of the initiator = the initiator string itself, and, for an ARN, its last path
 *     segment (the role session name — an Identity Center sign-in puts the user's e-mail there —
 *     or the IAM user name);
 *  2. an approver is the initiator when, compared case-insensitively, the approver equals one of
 *     those identities, or the approver's part before `@` equals an identity that has no `@`
 *     (IAM user `alice` started the run → `alice@example.com` cannot approve it).
 *
 * Operators who start runs under a shared role session should pass their own identity to
 * `rotate start` so this rule has something personal to compare.
 */

export function initiatorIdentities(initiator: string): string[] {
  const identities = new Set([initiator.trim().toLowerCase()]);
  if (initiator.startsWith('arn:')) {
    const resource = initiator.split(':').slice(5).join(':');
    const last = resource.split('/').pop();
    if (last) identities.add(last.toLowerCase());
  }
  identities.delete('');
  return [...identities];
}

export function isInitiator(approver: string, initiator: string): boolean {
  const who = approver.trim().toLowerCase();
  const localPart = who.includes('@') ? who.slice(0, who.indexOf('@')) : undefined;
  return initiatorIdentities(initiator).some((id) => id === who || (!id.includes('@') && id === localPart));
}
